"""Free-text address → the best matching standard address (标准地址, 一标三实).

Reported addresses arrive typed by hand, by voice, or pasted from chat: with
full-width digits, Chinese numerals, 栋/幢/座/# for the same building, extra
spaces and punctuation, and with or without the province/city/district prefix.
:func:`normalise_address` reduces all of these to one canonical form; the
matcher ranks the standard addresses by fuzzy similarity of canonical forms
(rapidfuzz), then penalises candidates whose house, building, unit or room
numbers disagree with the query, since one digit there is a different door.

Points are WGS-84 longitude/latitude degrees.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from mapserver.derived import DerivedData, Kind
from mapserver.errors import Problem
from mapserver.store import Store

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_CHINESE_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千]+(?=[号栋幢座楼单元室层组排巷弄户#\-]|$)")
# The administrative prefix says nothing about which door: drop it so that it neither helps nor hurts.
# A district is only taken as such when a road-like word follows ("人和小区3号楼" keeps its 小区).
_ADMIN_PREFIX = re.compile(r"^(?:[^省]{2,6}?省)?(?:[^市]{2,6}?市)?(?:[^区县市省]{2,3}[区县](?=.*[路街道巷弄]))?")
_BUILDING = re.compile(r"(\d+)(?:号楼|栋|幢|座|#楼|#)")
_UNIT = re.compile(r"(\d+)(?:单元|门洞)")
_ROOM = re.compile(r"(\d+)(?:室|号房|房)")
_PUNCTUATION = re.compile(r"[\s\-_,.;:()\[\]{}'\"·、,。;:()【】“”‘’/\\]+")
_NUMBERED_PART = re.compile(r"(\d+)(号楼|单元|室|号|组)")

MIN_QUERY_CHARS = 2
ROOM_PENALTY = 8.0  # score points lost per disagreeing house/building/unit/room number


def chinese_to_int(text: str) -> int:
    """Value of a Chinese numeral: 十八 → 18, 二百零五 → 205, 五零一 → 501 (digit by digit)."""
    if not any(ch in _UNITS for ch in text):
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        else:
            total += (current or 1) * _UNITS[ch]
            current = 0
    return total + current


def normalise_address(text: str) -> str:
    """Canonical form of an address for matching (half-width, Arabic numerals, 号楼/单元/室, no spaces)."""
    text = unicodedata.normalize("NFKC", text).strip()
    text = _PUNCTUATION.sub("", text)
    text = _CHINESE_NUMBER.sub(lambda m: str(chinese_to_int(m.group(0))), text)
    text = _ADMIN_PREFIX.sub("", text, count=1) or text
    text = _BUILDING.sub(r"\1号楼", text)
    text = _UNIT.sub(r"\1单元", text)
    text = _ROOM.sub(r"\1室", text)
    return text.lower()


def numbered_parts(canonical: str) -> dict[str, str]:
    """House (号), building (号楼), unit (单元), room (室) and group (组) numbers of a canonical address."""
    return {kind: number for number, kind in _NUMBERED_PART.findall(canonical)}


@dataclass(frozen=True)
class AddressCandidate:
    """A standard address and how well it matches the query (score 0–100)."""

    code: str
    text: str
    lon: float
    lat: float
    score: float


class AddressMatcher:
    """Ranks standard addresses against free text; built once per change of the address table."""

    def __init__(self, entries: list[tuple[str, str, float, float]]) -> None:
        self._entries = entries
        self._canonical = [normalise_address(text) for _, text, _, _ in entries]
        self._parts = [numbered_parts(c) for c in self._canonical]

    @classmethod
    def from_store(cls, store: Store) -> AddressMatcher:
        """Load every standard address of the store."""
        return cls([(a.code, a.text, a.geom.x, a.geom.y) for a in store.layers.query("addresses")])

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, query: str, *, limit: int = 5) -> list[AddressCandidate]:
        """The best ``limit`` candidates, best first; raises 400 for an empty query."""
        canonical = normalise_address(query or "")
        if len(canonical) < MIN_QUERY_CHARS:
            raise Problem(400, "the address is empty or too short to match", param="address")
        wanted = numbered_parts(canonical)
        # Take a wider pool by fuzzy score, then re-rank with the number check.
        pool = process.extract(canonical, self._canonical, scorer=fuzz.WRatio, limit=max(limit * 8, 40))
        ranked = []
        for _, score, index in pool:
            have = self._parts[index]
            clashes = sum(1 for kind, number in wanted.items() if kind in have and have[kind] != number)
            ranked.append((max(0.0, float(score) - ROOM_PENALTY * clashes), index))
        ranked.sort(key=lambda item: (-item[0], self._entries[item[1]][0]))
        return [self._candidate(index, score) for score, index in ranked[:limit]]

    def _candidate(self, index: int, score: float) -> AddressCandidate:
        code, text, lon, lat = self._entries[index]
        return AddressCandidate(code=code, text=text, lon=lon, lat=lat, score=round(score, 1))


def _build_matcher(derived: DerivedData) -> AddressMatcher:
    return AddressMatcher.from_store(derived.store)


ADDRESS_MATCHER: Kind[AddressMatcher] = Kind("address matcher", layers=("addresses",), build=_build_matcher)
"""The matcher of a store's standard addresses, built again within a second of a change to them."""


def best_address(matcher: AddressMatcher, query: str, *, min_score: float, limit: int = 5) -> tuple[
        AddressCandidate, list[AddressCandidate]]:
    """The best match and the candidates; 404 listing the candidates when the best scores below ``min_score``."""
    candidates = matcher.match(query, limit=limit)
    if not candidates or candidates[0].score < min_score:
        best = f"best score {candidates[0].score}" if candidates else "no standard addresses are loaded"
        raise Problem(404, f"no standard address matches '{query[:100]}' well enough ({best}, need {min_score})",
                      param="address",
                      errors=[{"code": c.code, "text": c.text, "score": c.score} for c in candidates])
    return candidates[0], candidates
