"""The hotline intake desk page (``/desk/intake``): a server-written shell; static/intake/intake.js does the rest.

What the script needs (labels, categories, map view, basemap) travels in the page's configuration; the shell, its
policy and headers are the map pages' (:mod:`mapserver.desk_shell`).
"""

from __future__ import annotations

from flask import Response

from mapserver.desk_shell import MapView, map_page
from mapserver.i18n import intake_word


def desk_page(view: MapView) -> Response:
    """The whole page for ``view``."""
    return map_page(view, title=intake_word(view.lang, "title"), assets="intake", body_class="ms-intake")
