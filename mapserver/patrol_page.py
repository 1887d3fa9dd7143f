"""The patrol planner page (``/desk/patrols``): a server-written shell; static/patrols/patrols.js does the rest.

What the script needs (labels, map view, basemap, whether the person may plan) travels in the page's
configuration; the shell, its policy and headers are the map pages' (:mod:`mapserver.desk_shell`).
"""

from __future__ import annotations

from flask import Response

from mapserver.desk_shell import MapView, map_page
from mapserver.i18n import patrol_word


def patrol_page(view: MapView) -> Response:
    """The whole page for ``view``."""
    return map_page(view, title=patrol_word(view.lang, "title"), assets="patrols", body_class="ms-patrols")
