"""The big-screen page, rendered with folium: the map, the basemap, one empty group per layer, the layer control.

The page holds no data. Its groups are filled, and kept live, by
``static/screen/main.js`` from the JSON endpoints; the page hands that script
its settings and words as a JSON block. Every script, stylesheet and icon it
names is served from ``static/``: folium's defaults (public CDNs) are replaced
on this map instance only, never on the class, so no request can pick up
another request's lists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

import folium
from branca.element import Figure, MacroElement

from mapserver.config import BasemapSettings, MapSettings
from mapserver.i18n import HTML_LANG, word
from mapserver.maplayers.spec import ScreenLayer
from mapserver.screen.csp import add_nonce
from mapserver.screen.tiles import MBTiles
from mapserver.store.common import BBox

# Paths under static/: the vendored Leaflet build (see static/VENDORED.md) and the screen's own files.
LEAFLET_JS = "vendor/leaflet/leaflet.js"
LEAFLET_CSS = "vendor/leaflet/leaflet.css"
SCREEN_JS = "screen/main.js"
SCREEN_CSS = "screen/screen.css"
ICON = "screen/icon.svg"
IMPORTS = {"@mapbox/point-geometry": "vendor/mapbox-point-geometry/index.js"}
"""Bare module names the vendored ES modules import (static/VENDORED.md), mapped to their files by an import map."""
LIVE_POLL_S = 5
"""Seconds between polls of the people on patrol (their phones send a fix every few seconds)."""


@dataclass(frozen=True)
class PageArea:
    """The jurisdiction a page opens on: its grid's code and name, and the grid's bounds (min lon, min lat, max
    lon, max lat; WGS-84 degrees)."""

    code: str
    name: str
    bounds: BBox


@dataclass(frozen=True)
class PagePerson:
    """The person logged in, for the title bar: their name and role as shown, their jurisdiction's name, the
    session's CSRF token for the logout form, and where to change the password, administer accounts (None
    without the right), log out and log in again (once the session ends)."""

    name: str
    role: str
    area: str
    csrf_token: str
    logout: str
    password: str
    admin: str | None
    login: str


@dataclass(frozen=True)
class PageContext:
    """What one request decides: language, window, CSP nonce, and how to spell local URLs."""

    lang: str
    window: str
    nonce: str
    static_url: Callable[[str], str]
    root: str  # the app's URL prefix ('' at the site root)
    words: dict[str, Any]  # every label in ``lang`` (mapserver.i18n.words, categories from config)
    area: PageArea | None = None  # the asker's jurisdiction; None for the whole store (the configured view)
    person: PagePerson | None = None  # a person logged in (None for a wall's token)
    live: bool = False  # whether the asker sees the people on patrol (roles.LIVE_POSITIONS)
    video: dict[str, Any] | None = None  # the video panel's words and stream hosts, for roles.VIDEO only
    preload: tuple[str, ...] = ()  # the modules main.js imports (static paths), fetched with it, not after it


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` can end or open a tag."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _ScreenBoot(MacroElement):
    """The page's own stylesheet, icon and module script (header), and its settings as a JSON block (body)."""

    _template = folium.template.Template("""
        {% macro header(this, kwargs) %}
            <link rel="icon" type="image/svg+xml" href="{{ this.icon_url }}"/>
            <link rel="stylesheet" href="{{ this.css_url }}"/>
            <script type="importmap">{{ this.import_map }}</script>
            <script type="module" src="{{ this.js_url }}"></script>
            {% for url in this.preload_urls %}<link rel="modulepreload" href="{{ url }}"/>
            {% endfor %}
        {% endmacro %}
        {% macro html(this, kwargs) %}
            <script type="application/json" id="screen-config">{{ this.config_json }}</script>
            <div id="screen-ui"></div>
        {% endmacro %}
    """)

    def __init__(self, ctx: PageContext, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "ScreenBoot"
        # Escaped here because folium's templates do not autoescape.
        self.icon_url = escape(ctx.static_url(ICON))
        self.css_url = escape(ctx.static_url(SCREEN_CSS))
        self.js_url = escape(ctx.static_url(SCREEN_JS))
        self.preload_urls = [escape(ctx.static_url(path)) for path in ctx.preload]
        self.config_json = script_json(config)
        self.import_map = script_json({"imports": {name: ctx.static_url(path) for name, path in IMPORTS.items()}})


def _base_map(settings: MapSettings, ctx: PageContext) -> folium.Map:
    lon, lat = settings.center
    if ctx.area is not None:  # centred on the jurisdiction; main.js then fits the view to its bounds
        west, south, east, north = ctx.area.bounds
        lon, lat = (west + east) / 2, (south + north) / 2
    fmap = folium.Map(location=[lat, lon], zoom_start=settings.zoom, min_zoom=settings.min_zoom,
                      max_zoom=settings.max_zoom, tiles=None, control_scale=True, zoom_control="bottomright",
                      attribution_control=settings.basemap.kind != "none")
    # Instance attributes shadow folium's class-level CDN lists for this map only.
    fmap.default_js = [("leaflet", ctx.static_url(LEAFLET_JS))]
    fmap.default_css = [("leaflet_css", ctx.static_url(LEAFLET_CSS))]
    return fmap


def _add_basemap(fmap: folium.Map, basemap: BasemapSettings, tiles: MBTiles | None, ctx: PageContext) -> None:
    if basemap.kind == "none":
        return
    options: dict[str, Any] = {"max_zoom": basemap.max_zoom}
    if basemap.kind == "xyz":
        url = basemap.url or ""
    else:
        url = ctx.root + "/tiles/{z}/{x}/{y}"
        options.update(_mbtiles_options(tiles))
    folium.TileLayer(tiles=url, attr=escape(basemap.attribution or "basemap"), name=word(ctx.lang, "page_title"),
                     overlay=False, control=False, **options).add_to(fmap)


def _mbtiles_options(tiles: MBTiles | None) -> dict[str, Any]:
    """Ask Leaflet only for tiles the file has: its bounds and its deepest zoom (deeper zooms scale that up)."""
    if tiles is None:
        return {}
    options: dict[str, Any] = {}
    bounds = tiles.bounds()
    if bounds is not None:
        west, south, east, north = bounds
        options["bounds"] = [[south, west], [north, east]]
    low, high = tiles.zoom_range()
    if low is not None:
        options["min_native_zoom"] = low
    if high is not None:
        options["max_native_zoom"] = high
    return options


def _area_config(area: PageArea | None) -> dict[str, Any] | None:
    """The jurisdiction for main.js: its name for the title bar, its bounds as Leaflet's [[south, west], [north,
    east]] to fit the view to."""
    if area is None:
        return None
    west, south, east, north = area.bounds
    return {"code": area.code, "name": area.name, "bounds": [[south, west], [north, east]]}


def _client_config(settings: MapSettings, fmap: folium.Map, specs: list[dict[str, Any]],
                   ctx: PageContext, live: dict[str, Any] | None) -> dict[str, Any]:
    return {"live": live, "map": fmap.get_name(), "root": ctx.root, "lang": ctx.lang, "window": ctx.window,
            "refresh_s": settings.refresh_s, "timezone": settings.timezone, "layers": specs, "words": ctx.words,
            "jurisdiction": _area_config(ctx.area), "person": _person_config(ctx.person), "video": ctx.video,
            # No tile service: the ground is drawn from the store's own data (mapserver/maplayers/ground.py).
            "ground": {"url": ctx.root + "/api/screen/ground/{z}/{x}/{y}.mvt"} if settings.basemap.kind == "none"
            else None}


def _person_config(person: PagePerson | None) -> dict[str, Any] | None:
    """The person for main.js (written as text there: a display name is data)."""
    if person is None:
        return None
    return {"name": person.name, "role": person.role, "area": person.area, "csrf_token": person.csrf_token,
            "links": {"logout": person.logout, "password": person.password, "admin": person.admin,
                      "login": person.login}}


def render_page(settings: MapSettings, layers: list[ScreenLayer], ctx: PageContext,
                tiles: MBTiles | None = None) -> str:
    """The whole page as HTML, with ``ctx.nonce`` on every inline script and style."""
    title = word(ctx.lang, "page_title") + (f" · {ctx.area.name}" if ctx.area is not None else "")
    figure = Figure(title=escape(title))
    fmap = _base_map(settings, ctx)
    figure.add_child(fmap)
    _add_basemap(fmap, settings.basemap, tiles, ctx)
    specs = []
    for layer in layers:
        # Leaflet's layer control writes names as HTML: escape them.
        group = folium.FeatureGroup(name=escape(layer.title(ctx.lang)), show=layer.visible).add_to(fmap)
        specs.append(layer.client_spec(ctx.lang, group.get_name()))
    live = None
    if ctx.live:
        group = folium.FeatureGroup(name=escape(ctx.words["live"]["title"]), show=True).add_to(fmap)
        live = {"group": group.get_name(), "poll_s": LIVE_POLL_S}
    folium.LayerControl(position="topright", collapsed=settings.layer_control_collapsed).add_to(fmap)
    fmap.add_child(_ScreenBoot(ctx, _client_config(settings, fmap, specs, ctx, live)))
    html = figure.render().replace("<html>", f'<html lang="{HTML_LANG[ctx.lang]}">', 1)
    return add_nonce(html, ctx.nonce)
