"""The patrol planner page (``/desk/patrols``): a server-written shell; static/patrols/patrols.js does the rest.

The page holds no plan data: its script asks the API (places, grids, liaisons, plans) and writes every text it
gets with ``textContent``. What the script needs (labels, map view, basemap, whether the person may plan) travels
as JSON in a ``data-config`` attribute, escaped; the session's CSRF token in a ``<meta>`` tag. No inline script
or style: the policy is the intake desk's (this server's files, and images from the intranet basemap server).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import Any

from flask import Response, url_for

from mapserver.i18n import HTML_LANG, patrol_word
from mapserver.intake_page import desk_policy
from mapserver.screen.access import no_store


@dataclass(frozen=True)
class PatrolView:
    """One planner page: language, the session's CSRF token, and the configuration for its script."""

    lang: str
    csrf_token: str
    config: dict[str, Any]
    tile_origins: tuple[str, ...] = ()


def patrol_page(view: PatrolView) -> Response:
    """The whole page for ``view``."""
    title = patrol_word(view.lang, "title")
    config = escape(json.dumps(view.config, ensure_ascii=False), quote=True)
    asset = lambda name: url_for("static", filename=name)  # noqa: E731 - a local shorthand
    html = (f'<!DOCTYPE html><html lang="{HTML_LANG[view.lang]}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="csrf-token" content="{escape(view.csrf_token)}">'
            f'<title>{escape(title)}</title>'
            f'<link rel="stylesheet" href="{asset("vendor/leaflet/leaflet.css")}">'
            f'<link rel="stylesheet" href="{asset("patrols/patrols.css")}">'
            f'<link rel="icon" href="{asset("screen/icon.svg")}">'
            f'<script src="{asset("vendor/leaflet/leaflet.js")}" defer></script>'
            f'<script type="module" src="{asset("patrols/patrols.js")}"></script>'
            f'</head><body class="ms-patrols" data-config="{config}">'
            f'<noscript>{escape(title)}: JavaScript</noscript></body></html>')
    resp = no_store(Response(html, mimetype="text/html"))
    resp.headers["Content-Security-Policy"] = desk_policy(view.tile_origins)
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp
