"""A real HTTP server for an app (werkzeug, in a thread) and Debian's Chromium driven by Playwright.

Chromium is the Debian package (``apt-get install chromium``; ``scripts/test`` installs it), launched
through Playwright's ``executable_path``: browsers cannot be downloaded here. When it is missing the
tests fail, they never skip.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREEN = {"width": 1920, "height": 1080}


class LiveServer:
    """Serve ``app`` on 127.0.0.1 at a free port until :meth:`stop`."""

    def __init__(self, app: Any) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless; an AssertionError (a failure, not a skip) when it is not installed."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does)"
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)


@dataclass
class Watch:
    """Everything a page did that a test checks: request URLs, failures, console errors, dialogs."""

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    navigations: int = 0
    aborted: list[tuple[str, int]] = field(default_factory=list)  # aborts, with the navigation they came under

    def attach(self, page: Any) -> Watch:
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("framenavigated", self._navigated)
        page.on("requestfailed", self._failed)
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} {r.status}"))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", self._dialog)
        return self

    def _navigated(self, frame: Any) -> None:
        # What a reload or a new page cut short (the wall's tiles in flight) was aborted before the new document
        # came: no fault of the page.
        if frame.parent_frame is None:
            self.navigations += 1
            cut = {entry for entry, under in self.aborted if under < self.navigations}
            self.failed[:] = [entry for entry in self.failed if entry not in cut]

    def _failed(self, request: Any) -> None:
        # The page's icon still loading when a test navigates on is cancelled by the browser: no fault of the page.
        aborted = request.failure == "net::ERR_ABORTED"
        if request.resource_type != "other" or not aborted:
            entry = f"{request.url} {request.failure}"
            self.failed.append(entry)
            if aborted:
                self.aborted.append((entry, self.navigations))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def foreign_hosts(self) -> list[str]:
        """Requests to any host but 127.0.0.1 (data: URLs are not requests to a host)."""
        return [u for u in self.requests if not u.startswith("data:") and urlsplit(u).hostname != "127.0.0.1"]
