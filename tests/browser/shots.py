"""The README's pictures of the pages, taken by the browser tests of those pages at 1366×768 (the phone at 390×844).

With ``MAPSERVER_README_SHOTS=1`` (``scripts/readme-screenshots``) a picture is written where the README shows it,
``static/screen/<name>``; otherwise to a temporary folder, so that an ordinary run of the tests changes no file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from playwright.sync_api import Page

README_SHOTS = os.environ.get("MAPSERVER_README_SHOTS") == "1"
FOLDER = (Path(__file__).resolve().parents[2] / "static" / "screen" if README_SHOTS
          else Path(tempfile.gettempdir()) / "mapserver-shots")
PAGE = {"width": 1366, "height": 768}
QUALITY = 80  # JPEG, as the wall's and the accounts page's pictures: a map photographs poorly into PNG


def readme_shot(page: Page, name: str) -> Path:
    """The page as it is now, saved as ``name`` (a .jpg) in the README's folder or the temporary one; its path."""
    FOLDER.mkdir(exist_ok=True)
    path = FOLDER / name
    page.screenshot(path=str(path), type="jpeg", quality=QUALITY)
    size = path.stat().st_size
    assert 15_000 < size < 400_000, (name, size)  # neither a blank page nor a picture too heavy for the README
    return path
