"""The work desk's case page (``/desk/cases/<id>``): a server-written shell; static/case/case.js does the rest.

What the script needs (labels, the grid card and outline, map view, basemap, units) travels in the page's
configuration; the shell, its policy and headers are the map pages' (:mod:`mapserver.desk_shell`).
"""

from __future__ import annotations

from flask import Response

from mapserver.desk_shell import MapView, map_page
from mapserver.i18n import case_word


def case_page(view: MapView) -> Response:
    """The whole page for ``view``; its ``<html>`` says ``data-case="loading"`` until the script has the case."""
    title = f"{case_word(view.lang, 'title')} {view.config['id'][:8]}"
    return map_page(view, title=title, assets="case", body_class="ms-case", root_attrs=' data-case="loading"')
