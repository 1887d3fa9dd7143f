"""The ``datetime`` query parameter of OGC API – Features: an RFC 3339 instant or a closed/half-open interval.

``2026-11-20T09:30:00Z`` (an instant), ``2026-11-01T00:00:00Z/2026-12-01T00:00:00+08:00``
(both ends included), ``../2026-12-01T00:00:00Z`` or ``2026-11-01T00:00:00Z/..`` (open
ends; an empty end is open too). A date-time needs a zone (``Z`` or ``±hh:mm``): RFC 3339
has no local times. The result is a half-open UTC window [since, until) as
:class:`~mapserver.store.incidents.IncidentFilter` takes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mapserver.errors import Problem

# The store keeps microseconds, so "up to and including t" is "before t + 1 µs".
_TICK = timedelta(microseconds=1)
OPEN_ENDS = ("", "..")


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text) if "T" in text.upper() else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise Problem(400, f"datetime needs RFC 3339 date-times with a zone such as 2026-11-20T09:30:00Z, "
                           f"got {text[:60]!r}", param="datetime")
    return value.astimezone(UTC)


def parse_datetime(text: str) -> tuple[datetime | None, datetime | None]:
    """``datetime`` → (since, until) in UTC, until exclusive; None for an open end; 400 problem if malformed."""
    if "/" not in text:
        moment = _instant(text)
        return moment, moment + _TICK
    start_text, _, end_text = text.partition("/")
    if "/" in end_text or (start_text in OPEN_ENDS and end_text in OPEN_ENDS and text != "../.."):
        raise Problem(400, f"datetime must be an instant or start/end, got {text[:60]!r}", param="datetime")
    since = None if start_text in OPEN_ENDS else _instant(start_text)
    end = None if end_text in OPEN_ENDS else _instant(end_text)
    if since is not None and end is not None and since > end:
        raise Problem(400, "datetime interval ends before it starts", param="datetime")
    return since, None if end is None else end + _TICK
