"""The ES modules an entry module imports, directly or through others: what a page lists as
``<link rel="modulepreload">`` so that the browser fetches the whole graph at once instead of one level of imports
after another (the wall's modules are three levels deep).

Static imports only (``import … from '…'``, ``export … from '…'``, ``import '…'``); a module loaded on demand
with ``import()`` is left to load when asked. Specifiers are relative to the importing file or bare names the
page's import map gives. Paths are relative to the static folder, with ``/`` separators.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

_IMPORT = re.compile(r"""^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]""", re.M)


def static_imports(source: str) -> list[str]:
    """The specifiers of a module's static imports, in order."""
    return _IMPORT.findall(source)


def module_graph(static_folder: str, entry: str, import_map: Mapping[str, str]) -> tuple[str, ...]:
    """Every module ``entry`` imports, directly or not, in the order first met (``entry`` left out)."""
    return _graph(static_folder, entry, tuple(sorted(import_map.items())))


@lru_cache(maxsize=16)  # the files do not change while the server runs
def _graph(static_folder: str, entry: str, import_map: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    bare = dict(import_map)
    seen: dict[str, None] = {}
    pending = [entry]
    while pending:
        module = pending.pop(0)
        source = (Path(static_folder) / module).read_text(encoding="utf-8")
        for specifier in static_imports(source):
            if specifier in bare:
                found = bare[specifier]
            else:
                found = posixpath.normpath(posixpath.join(posixpath.dirname(module), specifier))
            if found != entry and found not in seen:
                seen[found] = None
                pending.append(found)
    return tuple(seen)
