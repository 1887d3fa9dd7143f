"""The bulletin as PDF (A4), laid out by WeasyPrint from the same self-contained HTML page.

WeasyPrint draws text with Pango (Debian: ``libpango-1.0-0``,
``libpangoft2-1.0-0``) and needs a font with Chinese glyphs installed (Debian:
``fonts-wqy-microhei`` or ``fonts-noto-cjk``); the page names those families.
Nothing is fetched while laying out: the page links to nothing, and any URL
it might still hold is refused.
"""

from __future__ import annotations

from typing import Any, NoReturn

from mapserver.errors import Problem

PRINT_CSS = "@page { size: A4; margin: 12mm 10mm; } body { font-size: 10.5pt; }"


def _refuse(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(f"the bulletin fetches nothing (asked for {url[:80]!r})")


def html_to_pdf(page: str) -> bytes:
    """The PDF of an HTML page; 503 problem when WeasyPrint or Pango is not installed on this machine."""
    try:
        import weasyprint  # imported here: Pango is loaded at import, and only PDF output needs it
    except (ImportError, OSError) as exc:
        raise Problem(503, f"PDF output needs WeasyPrint with Pango (Debian: libpango-1.0-0 libpangoft2-1.0-0): "
                           f"{exc}") from None
    document = weasyprint.HTML(string=page, url_fetcher=_refuse)
    return document.write_pdf(stylesheets=[weasyprint.CSS(string=PRINT_CSS)])
