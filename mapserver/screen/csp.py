"""The Content-Security-Policy of the big screen: nothing but this server, inline scripts only with the nonce.

folium writes its map set-up as inline ``<script>`` and ``<style>`` blocks;
each response gets a fresh nonce, stamped on those tags after rendering. The
page carries no user data (that arrives as JSON and is written as text), so
every ``<script``/``<style`` in it is ours or folium's.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

_OPENING_TAG = re.compile(r"<(script|style)(?=[\s>])", re.IGNORECASE)


def new_nonce() -> str:
    """128+ random bits, URL-safe base64 (valid in a CSP source and an HTML attribute as is)."""
    return secrets.token_urlsafe(18)


def add_nonce(html: str, nonce: str) -> str:
    """Stamp ``nonce`` on every ``<script>`` and ``<style>`` opening tag."""
    return _OPENING_TAG.sub(lambda m: f'<{m.group(1)} nonce="{nonce}"', html)


def page_policy(nonce: str, *, tile_origins: Iterable[str] = (), stream_origins: Iterable[str] = ()) -> str:
    """The policy for the map page; ``tile_origins`` are intranet basemap servers images may come from,
    ``stream_origins`` the video platforms whose HLS playlists and segments (fetched by hls.js, played from a
    ``blob:`` media source, or natively) and snapshots the video panel loads (``video.stream_origins``)."""
    streams = list(stream_origins)
    images = " ".join(["'self'", "data:", *tile_origins, *streams])
    return "; ".join([
        "default-src 'none'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        f"img-src {images}",
        "font-src 'self'",
        " ".join(["connect-src 'self'", *streams]),
        " ".join(["media-src 'self' blob:", *streams]),
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
        "object-src 'none'",
    ])


def plain_page_policy(nonce: str) -> str:
    """For the small server-written pages (401, token hand-off): no script at all, one inline style block."""
    return (f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; base-uri 'none'; "
            "frame-ancestors 'self'")


def form_page_policy() -> str:
    """For the login, logout and password pages: no script at all, this server's style sheet and icon, forms
    posted only here, and never inside a frame (a framed login form invites clickjacking)."""
    return ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'")
