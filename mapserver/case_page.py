"""The work desk's case page (``/desk/cases/<id>``): a server-written shell; static/case/case.js does the rest.

The page holds no case data: its script asks the API and writes every text it gets with ``textContent``. What the
script needs (labels, the grid card and outline, map view, basemap, units) travels as JSON in a ``data-config``
attribute, escaped; the session's CSRF token in a ``<meta>`` tag. No inline script or style: the policy allows
this server's files only, and images from the configured intranet basemap server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

from flask import Response, url_for

from mapserver.i18n import HTML_LANG, case_word
from mapserver.screen.access import no_store


@dataclass(frozen=True)
class CaseView:
    """One case page: language, the session's CSRF token (empty for a token), the configuration for its script."""

    lang: str
    csrf_token: str
    config: dict[str, Any]
    tile_origins: tuple[str, ...] = ()


def case_policy(tile_origins: Iterable[str]) -> str:
    """Scripts, styles and fonts from this server only; images also from the basemap's servers; JSON from here."""
    images = " ".join(["'self'", "data:", *tile_origins])
    return ("default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; "
            f"img-src {images}; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; "
            "object-src 'none'")


def case_page(view: CaseView) -> Response:
    """The whole page for ``view``."""
    lang = view.lang
    title = f"{case_word(lang, 'title')} {view.config['id'][:8]}"
    config = escape(json.dumps(view.config, ensure_ascii=False), quote=True)
    static = lambda name: url_for("static", filename=name)  # noqa: E731 - a local shorthand
    html = (f'<!DOCTYPE html><html lang="{HTML_LANG[lang]}" data-case="loading"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="csrf-token" content="{escape(view.csrf_token)}">'
            f'<title>{escape(title)}</title>'
            f'<link rel="stylesheet" href="{static("vendor/leaflet/leaflet.css")}">'
            f'<link rel="stylesheet" href="{static("case/case.css")}">'
            f'<link rel="icon" href="{static("screen/icon.svg")}">'
            f'<script src="{static("vendor/leaflet/leaflet.js")}" defer></script>'
            f'<script type="module" src="{static("case/case.js")}"></script>'
            f'</head><body class="ms-case" data-config="{config}">'
            f'<noscript>{escape(title)}: JavaScript</noscript></body></html>')
    resp = no_store(Response(html, mimetype="text/html"))
    resp.headers["Content-Security-Policy"] = case_policy(view.tile_origins)
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp
