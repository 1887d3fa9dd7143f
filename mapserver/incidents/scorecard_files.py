"""The unit scorecards as files for the assessment office: CSV (UTF-8 with a byte-order mark, so Excel reads the
Chinese right) and an Excel workbook (openpyxl), with the same rows in the same order as the API's answer.

Rates are shares from 0 to 1 (the workbook shows them as percentages). Text from the data (a unit's name) that a
spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
written as text: in CSV behind a leading apostrophe, in the workbook as a string cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from mapserver.i18n import scorecard_word
from mapserver.incidents.scorecards import Scorecard, as_json

COUNTS = ("cases", "closed", "closed_on_time", "overdue_open", "followed_up", "satisfied", "reopened",
          "reopen_count", "returns")
RATES = ("on_time_rate", "closure_rate", "satisfaction_rate", "reopen_share", "return_share")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
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


def _inert(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(cards: Sequence[Scorecard], *, by: str, lang: str) -> bytes:
    """The rows as CSV, UTF-8 with a byte-order mark, CRLF line ends; an empty rate is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(by, lang))
    for card in cards:
        writer.writerow(["" if v is None else _inert(v) for v in _values(card, by, lang)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(cards: Sequence[Scorecard], *, by: str, lang: str) -> bytes:
    """The rows as an Excel workbook of one sheet: a bold header row, each row filled in its colour, rates as
    percentages."""
    book = Workbook()
    sheet = book.active
    sheet.title = scorecard_word(lang, "sheet")
    sheet.append(headers(by, lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    first_rate = len(headers(by, lang)) - len(RATES)  # 1-based column of the first rate
    for number, card in enumerate(cards, start=2):
        for column, value in enumerate(_values(card, by, lang), start=1):
            cell = sheet.cell(row=number, column=column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text from the data is never a formula
            elif first_rate <= column < first_rate + len(RATES):
                cell.number_format = "0.0%"
        if card.colour in FILLS:
            fill = PatternFill("solid", start_color=FILLS[card.colour])
            for cell in sheet[number]:
                cell.fill = fill
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
