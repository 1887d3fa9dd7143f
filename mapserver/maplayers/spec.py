"""What a map layer module in ``layers/`` provides, and a layer as configured for the big screen.

A layer module (``layers/<name>.py``) declares:

``RENDERER``     the name of the browser renderer that draws it (``static/screen/renderers.js``)
``SOURCES``      the store layers it reads; their data versions decide when the browser gets new data
``PARAMS``       what it shows, with defaults (config ``params`` may set these keys only)
``STYLE``        how it looks, with defaults (config ``style`` may set these keys only, same types)
``USES_BBOX``    whether it answers for the part of the map in view (the page sends ``bbox``)
``USES_WINDOW``  whether it depends on the incident window (today / 7 days / 30 days)
``USES_CLOCK``   (optional, default False) whether its answer changes with time alone (warning colours, a
                 camera whose heartbeat went stale): such answers are rebuilt at least once a minute
``title(lang, params) -> str``          its name in the layer control
``fetch(store, query) -> dict``         a GeoJSON FeatureCollection (WGS-84), asked of the store, never SQL, of
                                        ``query.within`` only (the asker's jurisdiction, in the store's queries)

and may declare ``tile_layers(query) -> list[TileLayer]`` (the wall then draws it from vector tiles, every
feature of it, never cut at ``limit``: the MVT layers of a tile, :mod:`mapserver.store.vector_tiles`),
``check_params(params) -> list[str]`` (problems with parameter values),
``default_style(params) -> dict`` (style defaults that depend on the parameters, e.g. a colour per grid level) and
``available(store) -> bool`` (False hides the layer, e.g. while the API it needs is not installed;
by default a layer is available when every one of its ``SOURCES`` is a store layer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.store import LAYERS, Store
from mapserver.store.common import BBox
from mapserver.store.vector_tiles import TileLayer

if TYPE_CHECKING:  # the config checks layer entries through layers/, so this module must not import it back
    from mapserver.config import Settings
    from mapserver.derived import DerivedData

REQUIRED = ("RENDERER", "SOURCES", "PARAMS", "STYLE", "USES_BBOX", "USES_WINDOW", "title", "fetch")


@dataclass(frozen=True, kw_only=True)
class LayerQuery:
    """What the page asks a layer for: its parameters, the part of the map in view, the incident window.

    ``bbox`` is (min lon, min lat, max lon, max lat) in degrees, WGS-84, or None for everything;
    ``since``/``until`` are UTC instants bounding the window (None when the layer ignores it);
    ``limit`` caps the features sent to the browser; ``now`` is the UTC instant the answer is for;
    ``settings`` are the server's (e.g. ``cameras.offline_after_s``); ``derived`` is what the server derives from
    the store and keeps (e.g. the hotspot studies, :data:`mapserver.analysis.study.STUDY`); ``within`` is the
    asker's jurisdiction: a layer answers with what lies in it, asked of the store.
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    bbox: BBox | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 5000
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    settings: Settings
    derived: DerivedData
    within: Jurisdiction = WHOLE


@dataclass(frozen=True)
class ScreenLayer:
    """One entry of ``map.layers``: a layer module with its parameters and style merged over its defaults."""

    key: str
    name: str
    module: ModuleType
    params: Mapping[str, Any]
    style: Mapping[str, Any]
    visible: bool
    min_zoom: int

    @property
    def uses_bbox(self) -> bool:
        return bool(self.module.USES_BBOX)

    @property
    def uses_window(self) -> bool:
        return bool(self.module.USES_WINDOW)

    @property
    def uses_clock(self) -> bool:
        return bool(getattr(self.module, "USES_CLOCK", False))

    def title(self, lang: str) -> str:
        """Its name in the layer control, in ``lang`` (zh or en)."""
        return str(self.module.title(lang, self.params))

    def available(self, store: Store) -> bool:
        """Whether the data or API this layer needs exists on this server."""
        check = getattr(self.module, "available", None)
        if check is not None:
            return bool(check(store))
        return all(source in LAYERS for source in self.module.SOURCES)

    def data_versions(self, store: Store) -> tuple[int, ...]:
        """The data versions of the store layers it reads: equal versions mean equal answers."""
        return tuple(store.layers.data_version(source) for source in self.module.SOURCES)

    def fetch(self, store: Store, query: LayerQuery) -> dict[str, Any]:
        """Its features for ``query`` as a GeoJSON FeatureCollection."""
        return self.module.fetch(store, query)

    @property
    def tiled(self) -> bool:
        """Whether the wall draws it from vector tiles (its module declares ``tile_layers``)."""
        return hasattr(self.module, "tile_layers")

    def tile_layers(self, query: LayerQuery) -> list[TileLayer]:
        """The MVT layers of its tiles for ``query`` (its parameters, window, jurisdiction)."""
        return list(self.module.tile_layers(query))

    def client_spec(self, lang: str, group: str) -> dict[str, Any]:
        """What the browser needs to draw it; ``group`` is the name of its folium FeatureGroup."""
        return {"key": self.key, "title": self.title(lang), "renderer": self.module.RENDERER,
                "style": dict(self.style), "visible": self.visible, "min_zoom": self.min_zoom,
                "uses_bbox": self.uses_bbox, "uses_window": self.uses_window, "group": group,
                "tiled": self.tiled}


def missing_attributes(module: ModuleType) -> list[str]:
    """The names of the contract a layer module does not define."""
    return [name for name in REQUIRED if not hasattr(module, name)]


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, dict):
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if isinstance(default, list):
        return isinstance(value, list) and (not default or all(_same_type(v, default[0]) for v in value))
    return isinstance(value, type(default))


def value_problems(given: Mapping[str, Any], defaults: Mapping[str, Any], what: str) -> list[str]:
    """Keys in ``given`` the defaults do not have, or values of another type than the default's."""
    problems = []
    for key, value in given.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            problems.append(f"unknown {what} key '{key}' (this layer's {what} keys: {known})")
        elif not _same_type(value, defaults[key]):
            problems.append(f"{what} '{key}' must be like {defaults[key]!r}, got {value!r}")
    return problems
