"""The grid worker's phone pages (网格员移动端, ``/m/``): server-written shells, the web app manifest and the service
worker's script.

Each page is a map page (:func:`mapserver.desk_shell.map_page`) whose one ES module, ``static/m/m.js``, draws the
screen named in the configuration (tasks, report, task, patrol). Their policy is the map pages' plus what an
installable offline app needs: its manifest, its service worker (``worker-src 'self'``) and previews of photos
chosen on the phone (``blob:`` images). The service worker is ``static/m/sw.js`` served at ``/m/sw.js`` (its scope
is ``/m/``), headed by the list of files it keeps for an offline start and a version that changes with them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from flask import Response, url_for

from mapserver.desk_shell import MapView, map_page, map_policy
from mapserver.i18n import HTML_LANG, mobile_word

THEME = "#06101c"
MANIFEST_TYPE = "application/manifest+json"
SHELL_FILES = ("m/m.css", "m/m.js", "m/outbox.js", "m/ui.js", "m/tasks.js", "m/report.js", "m/task.js",
               "m/patrol.js", "m/icon-192.png", "m/icon-512.png", "desk/common.js", "screen/icon.svg",
               "vendor/leaflet/leaflet.css", "vendor/leaflet/leaflet.js", "vendor/leaflet/images/marker-icon.png",
               "vendor/leaflet/images/marker-icon-2x.png", "vendor/leaflet/images/marker-shadow.png")
"""The static files (under static/) the phone needs to start with no signal."""


def mobile_policy(tile_origins: Iterable[str]) -> str:
    """The map pages' policy, with photo previews (``blob:``), the service worker and the manifest from here."""
    return f"{map_policy([*tile_origins, 'blob:'])}; worker-src 'self'; manifest-src 'self'"


def mobile_page(view: MapView, *, screen: str) -> Response:
    """The page for ``view`` showing ``screen`` (tasks, report, task or patrol); ``<html data-m="loading">``
    until the script has drawn it."""
    lang = view.lang
    manifest = url_for("mobile.manifest_file", **({"lang": "en"} if lang == "en" else {}))
    head = (f'<link rel="manifest" href="{escape(manifest)}"><meta name="theme-color" content="{THEME}">'
            f'<link rel="apple-touch-icon" href="{url_for("static", filename="m/icon-192.png")}">')
    title = f"{mobile_word(lang, screen)} · {mobile_word(lang, 'brand')}"
    return map_page(view, title=title, assets="m", body_class=f"ms-m ms-m-{screen}", root_attrs=' data-m="loading"',
                    head=head, policy=mobile_policy(view.tile_origins))


def manifest(lang: str, *, start: str, scope: str) -> Response:
    """The web app manifest: the phone installs ``start`` (in ``lang``) as a standalone app over ``scope``."""
    icon = lambda name, size, kind: {"src": url_for("static", filename=f"m/{name}"),  # noqa: E731
                                     "sizes": size, "type": kind, "purpose": "any maskable" if size != "any" else "any"}
    body = {"name": mobile_word(lang, "brand"), "short_name": mobile_word(lang, "title"), "lang": HTML_LANG[lang],
            "start_url": start, "scope": scope, "display": "standalone", "orientation": "portrait",
            "background_color": THEME, "theme_color": THEME,
            "icons": [icon("icon-192.png", "192x192", "image/png"), icon("icon-512.png", "512x512", "image/png"),
                      {"src": url_for("static", filename="screen/icon.svg"), "sizes": "any",
                       "type": "image/svg+xml"}]}
    resp = Response(json.dumps(body, ensure_ascii=False), mimetype=MANIFEST_TYPE)
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def shell_version(static_folder: Path, files: Sequence[str] = SHELL_FILES) -> str:
    """A short digest of the shell's files: a new one makes phones fetch the shell again."""
    digest = hashlib.sha256()
    for name in files:
        path = static_folder / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:16]


def service_worker(static_folder: Path, *, shell: Sequence[str], pages: Sequence[str], scope: str) -> Response:
    """``static/m/sw.js`` headed by its configuration (the shell's URLs, the pages to keep, the version), as a
    script the browser may register for ``scope``; never taken from a cache without asking."""
    config: dict[str, Any] = {"version": shell_version(static_folder), "shell": list(shell), "pages": list(pages),
                              "scope": scope}
    code = f"const SW_CONFIG = {json.dumps(config)};\n" + (static_folder / "m" / "sw.js").read_text(encoding="utf-8")
    resp = Response(code, mimetype="text/javascript")
    resp.headers["Service-Worker-Allowed"] = scope
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
