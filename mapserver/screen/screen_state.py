"""What the big screen keeps per app: its configured layers, an answer cache and the MBTiles basemap, if any."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from mapserver.config import PROJECT_ROOT, MapSettings, Settings
from mapserver.errors import Problem
from mapserver.i18n import words
from mapserver.maplayers.spec import ScreenLayer
from mapserver.screen.answers import AnswerCache
from mapserver.screen.tiles import MBTiles, MBTilesError

EXTENSION = "mapserver.screen"


@dataclass
class ScreenState:
    settings: MapSettings
    layers: list[ScreenLayer]
    categories: dict[str, str] = field(default_factory=dict)  # incident category code → Chinese label (config)
    tiles: MBTiles | None = None
    cache: AnswerCache = field(default_factory=AnswerCache)

    def words(self, lang: str) -> dict[str, Any]:
        """The page's labels in ``lang``; in Chinese, incident categories as config.yaml names them."""
        out = words(lang)
        if lang == "zh":
            out["enums"] = {**out["enums"], "category": {**out["enums"]["category"], **self.categories}}
        return out

    def layer(self, key: str) -> ScreenLayer:
        """The configured layer with this id, or a 404 problem naming the ids there are."""
        for layer in self.layers:
            if layer.key == key:
                return layer
        known = ", ".join(entry.key for entry in self.layers)
        raise Problem(404, f"no map layer '{key}'; layers: {known}", param="layer")


def mbtiles_path(settings: Settings) -> Path:
    """The basemap file, a relative path taken from the config file's folder (as the store URL is)."""
    path = Path(settings.map.basemap.path or "")
    if path.is_absolute():
        return path
    source = Path(settings.source)
    return (source.parent if source.is_file() else PROJECT_ROOT) / path


def init_screen(app: Flask) -> None:
    """Build the screen's state when its blueprint is registered (inside ``create_app``)."""
    from layers import configure
    from mapserver import StartupError

    settings: Settings = app.extensions["mapserver"].settings
    tiles = None
    if settings.map.basemap.kind == "mbtiles":
        try:
            tiles = MBTiles(mbtiles_path(settings))
        except MBTilesError as exc:
            raise StartupError(f"map.basemap.path: {exc}") from None
    app.extensions[EXTENSION] = ScreenState(settings=settings.map, layers=configure(settings.map.layers),
                                            categories=dict(settings.incidents.categories), tiles=tiles)


def screen_state() -> ScreenState:
    """The screen state of the app serving the current request."""
    return current_app.extensions[EXTENSION]
