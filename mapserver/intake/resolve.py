"""What the operator typed → what it names: a point given as "lon,lat", a road crossing, or standard-address
candidates with a verdict on whether the best one is certain.

An address match is certain only when the best score is at least ``certain_score`` and leads the second by at
least ``certain_margin`` points (both 0–100, from config ``lookup:``); otherwise every candidate is shown and
the operator chooses: the desk never picks silently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mapserver.addressing import AddressCandidate

_COORDINATES = re.compile(r"^\s*([-+]?\d{1,3}(?:\.\d+)?)\s*[,，;；\s]\s*([-+]?\d{1,3}(?:\.\d+)?)\s*$")
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class Certainty:
    """The rule that makes an address match certain (scores 0–100)."""

    min_score: float = 90.0
    min_lead: float = 8.0

    def holds(self, candidates: list[AddressCandidate]) -> bool:
        """Whether the first of ``candidates`` (best first) is certain enough to take without asking."""
        if not candidates or candidates[0].score < self.min_score:
            return False
        return len(candidates) == 1 or candidates[0].score - candidates[1].score >= self.min_lead


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """(x, y) when the text is two numbers "x,y" (also full-width comma or a space), else None; the CRS is the
    caller's to say."""
    found = _COORDINATES.match(unicodedata.normalize("NFKC", text))
    return (float(found.group(1)), float(found.group(2))) if found else None
