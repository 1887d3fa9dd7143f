"""Checks on the request itself that come before any view: a NUL byte in the URL."""

from __future__ import annotations

from flask import request

from mapserver.errors import Problem


def refuse_nul_in_url() -> None:
    """``before_request`` hook: 400 for a NUL byte anywhere in the path or query (no key or value may hold one)."""
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        raise Problem(400, "the URL holds a NUL byte (%00)", param="url")
