"""What the wall and the desk pages need for the video panel (static/video/player.js): its words and the allowed
stream hosts, for a person or token with video rights (roles.VIDEO) only; and the hosts the pages' CSP names."""

from __future__ import annotations

from typing import Any

from flask import request

from mapserver.app_state import state
from mapserver.auth import current_principal
from mapserver.roles import VIDEO
from mapserver.video.words import video_words


def stream_origins() -> tuple[str, ...]:
    """``scheme://host[:port]`` of the configured video platforms (``video.stream_origins``)."""
    return tuple(state().settings.video.stream_origins)


def sees_video() -> bool:
    """Whether the asker may watch the cameras' video."""
    principal = current_principal()
    return principal is not None and principal.role in VIDEO


def page_video(lang: str) -> dict[str, Any] | None:
    """The video panel's configuration for the page's script; None for a role without video rights (the page then
    offers no video at all)."""
    if not sees_video():
        return None
    return {"root": request.script_root, "words": video_words(lang), "origins": list(stream_origins())}
