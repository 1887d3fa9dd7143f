"""The big screen's map layers, one module per layer (the contract: ``mapserver/maplayers/spec.py``).

A new layer is one module here plus one entry under ``map.layers`` in
config.yaml; a layer kept in another package is named there by its dotted
path (``name: citylayers.parking``), which must be importable. Modules here
whose names start with ``_`` are helpers, not layers. Nothing is imported
until a configuration names a layer.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mapserver.maplayers.spec import ScreenLayer, missing_attributes, value_problems

if TYPE_CHECKING:
    from mapserver.config import MapLayerSettings

_HERE = str(Path(__file__).resolve().parent)


def names() -> list[str]:
    """The layer modules in this package, by name."""
    return sorted(m.name for m in pkgutil.iter_modules([_HERE]) if not m.name.startswith("_"))


def load(name: str) -> ModuleType:
    """The layer module ``name`` (a module of this package, or any module by dotted path); ValueError naming the
    layers there are when it does not exist, or saying what it lacks when it is incomplete."""
    if "." in name:
        module = _import_dotted(name)
        where = name
    else:
        known = names()
        if name not in known:
            raise ValueError(f"unknown layer {name!r}; layers in layers/: {', '.join(known)}, "
                             "or a module of another package by its dotted path")
        module = importlib.import_module(f"{__name__}.{name}")
        where = f"layers/{name}.py"
    missing = missing_attributes(module)
    if missing:
        raise ValueError(f"{where} does not define {', '.join(missing)}")
    return module


def _import_dotted(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise ValueError(f"layer module {name!r} cannot be imported: {exc}") from None


def check_entry(name: str, *, params: Mapping[str, Any], style: Mapping[str, Any]) -> None:
    """Raise ValueError when a config entry names an unknown layer or gives it unknown or ill-typed keys."""
    module = load(name)
    problems = value_problems(params, module.PARAMS, "params") + value_problems(style, module.STYLE, "style")
    check_params = getattr(module, "check_params", None)
    if not problems and check_params is not None:
        problems += check_params({**module.PARAMS, **params})
    if problems:
        raise ValueError(f"layer {name!r}: " + "; ".join(problems))


def _style_defaults(module: ModuleType, params: Mapping[str, Any]) -> dict[str, Any]:
    refine = getattr(module, "default_style", None)
    return dict(refine(params)) if refine is not None else {}


def _merged(defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Style values over defaults; a colour table (dict) given in part keeps the default's other entries."""
    out = dict(defaults)
    for key, value in given.items():
        out[key] = {**defaults[key], **value} if isinstance(value, dict) and isinstance(defaults.get(key), dict) \
            else value
    return out


def configure(entries: Iterable[MapLayerSettings]) -> list[ScreenLayer]:
    """The configured layers in config order (bottom of the map first), defaults merged with the config's values."""
    out = []
    for entry in entries:
        module = load(entry.name)
        params = {**module.PARAMS, **entry.params}
        out.append(ScreenLayer(key=entry.key, name=entry.name, module=module,
                               params=params, style=_merged({**module.STYLE, **_style_defaults(module, params)},
                                                            entry.style),
                               visible=entry.visible, min_zoom=entry.min_zoom))
    return out
