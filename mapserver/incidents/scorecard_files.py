"""The unit scorecards as files for the assessment office: CSV (UTF-8 with a byte-order mark, so Excel reads the
Chinese right) and an Excel workbook (openpyxl), with the same rows in the same order as the API's answer.

Rates are shares from 0 to 1 (the workbook shows them as percentages). Text from the data (a unit's name) that a
spreadsheet would read as a formula is written as text (:mod:`mapserver.office_files`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mapserver.i18n import scorecard_word
from mapserver.incidents.scorecards import Scorecard, as_json
from mapserver.office_files import csv_file, xlsx_file

COUNTS = ("cases", "closed", "closed_on_time", "overdue_open", "followed_up", "satisfied", "reopened",
          "reopen_count", "returns")
RATES = ("on_time_rate", "closure_rate", "satisfaction_rate", "reopen_share", "return_share")
FILLS = {"red": "FFC7CE", "yellow": "FFEB9C", "green": "C6EFCE"}  # Excel's own light warning fills


def headers(by: str, lang: str) -> list[str]:
    """The columns' titles in ``lang``: the row's key (unit, or the grid's code and name), then its figures."""
    say = lambda key: scorecard_word(lang, key)  # noqa: E731 - a local shorthand
    first = [say("unit")] if by == "unit" else [say("code"), say(by)]
    return [*first, say("colour"), say("action"), *(say(k) for k in COUNTS), *(say(k) for k in RATES),
            say("reasons")]


def _values(card: Scorecard, by: str, lang: str) -> list[Any]:
    row = as_json(card, lang)
    first = [row["key"]] if by == "unit" else [row["key"], row["name"]]
    return [*first, row["label"], row["action"], *(row[k] for k in COUNTS), *(row[k] for k in RATES),
            "；".join(r["text"] for r in row["reasons"])]


def csv_bytes(cards: Sequence[Scorecard], *, by: str, lang: str) -> bytes:
    """The rows as CSV, UTF-8 with a byte-order mark, CRLF line ends; an empty rate is an empty cell."""
    return csv_file(headers(by, lang), (_values(card, by, lang) for card in cards))


def xlsx_bytes(cards: Sequence[Scorecard], *, by: str, lang: str) -> bytes:
    """The rows as an Excel workbook of one sheet: a bold header row, each row filled in its colour, rates as
    percentages."""
    first_rate = len(headers(by, lang)) - len(RATES)  # 1-based column of the first rate
    return xlsx_file(scorecard_word(lang, "sheet"), headers(by, lang),
                     ((_values(card, by, lang), FILLS.get(card.colour)) for card in cards),
                     percent=range(first_rate, first_rate + len(RATES)), freeze="A2")
