"""Identifiers of records the server creates: UUID version 7 (RFC 9562), ordered by time.

A report's id starts with the 48-bit Unix time in milliseconds of its ``reported_at``,
then 74 random bits. New ids therefore land at the right-hand edge of every index
keyed by them (the incidents' primary key, the timeline's and the audit trail's
indexes by incident), where the pages are already in memory, instead of on a
random leaf page that PostgreSQL must read, dirty and, after a checkpoint, write
whole into the WAL. They stay unguessable and unique without coordination
(74 random bits per millisecond).
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62
_RANDOM_A = (1 << 12) - 1  # 12 bits after the version
_RANDOM_B = (1 << 62) - 1  # 62 bits after the variant


def time_ordered_uuid(at: datetime) -> str:
    """A new UUIDv7 (canonical text) whose time part is ``at`` (timezone-aware) to the millisecond."""
    millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    bits = int.from_bytes(os.urandom(10), "big")
    value = (millis << 80) | _VERSION_7 | ((bits >> 62) & _RANDOM_A) << 64 | _VARIANT_RFC | (bits & _RANDOM_B)
    return str(uuid.UUID(int=value))

