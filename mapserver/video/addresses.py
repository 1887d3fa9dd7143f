"""The checks of a stream or snapshot address: an absolute ``http`` or ``https`` URL with a host, nothing else.

A ``javascript:`` or ``data:`` address written into a page's ``<video>`` or ``<img>`` would run or show what its
author chose, an ``ftp:``, ``rtsp:`` or ``file:`` one cannot be played by a browser, and credentials in an address
would be handed to every browser that plays it: all are refused, with the reason, on import and on edit.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_URL = 2000  # characters; browsers and proxies handle far longer, but no stream address needs more
VIDEO_FIELDS = ("stream_url", "snapshot_url")
"""The address fields of a camera's video, as they are named in import files and in the API."""
_UNSAFE_TEXT = re.compile(r"[\x00-\x20\x7f\\<>\"'`]")  # blanks, controls, and what would break out of an attribute


def url_problem(value: object) -> str | None:
    """Why ``value`` is not an acceptable stream or snapshot address; None when it is one (or empty: no address)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return f"must be an http(s) URL as text, got {type(value).__name__}"
    if len(value) > MAX_URL:
        return f"is {len(value)} characters long; at most {MAX_URL}"
    if _UNSAFE_TEXT.search(value):
        return "must not contain blanks, control characters, backslashes, quotes or angle brackets"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        return f"is not a valid URL ({error})"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}:" if scheme else "no scheme"
        return f"must be an http:// or https:// URL, not {shown}"
    if not parts.hostname:
        return "must name a host (http://host[:port]/path)"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password: every browser that plays it would receive them"
    if port == 0:
        return "must not name port 0"
    return None


def clean_url(value: object) -> str | None:
    """The address as stored: surrounding blanks dropped, empty as None (the caller has checked it first)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an accepted address (lower-case scheme and host), as a CSP source names it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme.lower()}://{host}{port}"
