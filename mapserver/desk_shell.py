"""What the desk pages' server-written shells share: the map pages' head and policy, and the headers every desk page
is sent with.

A map page (intake desk, patrol planner, case page) holds no data: its script asks the API and writes every text it
gets with ``textContent``. What the script needs travels as JSON in a ``data-config`` attribute, escaped; the
session's CSRF token in a ``<meta>`` tag. No inline script or style: the policy allows this server's files only,
and images from the configured intranet basemap server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

from flask import Response, url_for

from mapserver.i18n import HTML_LANG
from mapserver.screen.access import no_store


@dataclass(frozen=True)
class MapView:
    """One map page: language, the session's CSRF token (empty for a token), the configuration for its script."""

    lang: str
    csrf_token: str
    config: dict[str, Any]
    tile_origins: tuple[str, ...] = ()  # scheme://host[:port] of the intranet basemap servers
    stream_origins: tuple[str, ...] = ()  # scheme://host[:port] of the video platforms (video.stream_origins)


def map_policy(tile_origins: Iterable[str], stream_origins: Iterable[str] = ()) -> str:
    """Scripts, styles and fonts from this server only; images also from the basemap's servers; JSON from here;
    live video (HLS playlists, segments, snapshots) from the configured video platforms, played from ``blob:``."""
    streams = list(stream_origins)
    images = " ".join(["'self'", "data:", *tile_origins, *streams])
    fetches = " ".join(["'self'", *streams])
    media = " ".join(["'self'", "blob:", *streams])
    return ("default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; "
            f"img-src {images}; connect-src {fetches}; media-src {media}; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'; object-src 'none'")


def desk_page_policy() -> str:
    """This server's scripts, styles, images and fetches only; no inline script or style, never in a frame."""
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'")


def page_response(html: str, policy: str) -> Response:
    """``html`` as a desk page: never stored, under ``policy``, never in a frame, referrer kept to this server."""
    resp = no_store(Response(html, mimetype="text/html"))
    resp.headers["Content-Security-Policy"] = policy
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp


def map_page(view: MapView, *, title: str, assets: str, body_class: str, root_attrs: str = "", head: str = "",
             policy: str | None = None) -> Response:
    """The whole map page for ``view``: Leaflet, ``static/<assets>/<assets>.css`` and ``.js`` (an ES module).

    ``root_attrs`` are extra attributes of ``<html>`` and ``head`` extra elements of ``<head>``, written as given
    (fixed text, never from a request); ``policy`` replaces the map pages' policy.
    """
    config = escape(json.dumps(view.config, ensure_ascii=False), quote=True)
    static = lambda name: url_for("static", filename=name)  # noqa: E731 - a local shorthand
    html = (f'<!DOCTYPE html><html lang="{HTML_LANG[view.lang]}"{root_attrs}><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="csrf-token" content="{escape(view.csrf_token)}">'
            f'<title>{escape(title)}</title>'
            f'<link rel="stylesheet" href="{static("vendor/leaflet/leaflet.css")}">'
            f'<link rel="stylesheet" href="{static(f"{assets}/{assets}.css")}">'
            f'<link rel="icon" href="{static("screen/icon.svg")}">{head}'
            f'<script src="{static("vendor/leaflet/leaflet.js")}" defer></script>'
            f'<script type="module" src="{static(f"{assets}/{assets}.js")}"></script>'
            f'</head><body class="{body_class}" data-config="{config}">'
            f'<noscript>{escape(title)}: JavaScript</noscript></body></html>')
    return page_response(html, policy if policy is not None else map_policy(view.tile_origins,
                                                                             view.stream_origins))
