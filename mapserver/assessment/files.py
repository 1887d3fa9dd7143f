"""The month's assessment as files for the assessment office: CSV (UTF-8 with a byte-order mark, so Excel reads the
Chinese right) and an Excel workbook (openpyxl), with the same rows in the same order as the API's answer.

Distances are kilometres, times hours, shares from 0 to 1 (the workbook shows them as percentages). Text from the
data (a person's name) that a spreadsheet would read as a formula is written as text: in CSV behind a leading
apostrophe, in the workbook as a string cell (the unit scorecards' rule, :mod:`mapserver.incidents.scorecard_files`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from mapserver.assessment.grading import MEASURES, Assessment, as_json
from mapserver.i18n import assessment_word
from mapserver.incidents.scorecard_files import FORMULA_STARTS

COLUMNS = ("person", "name", "grid_code", "score", "label", "reported", "handled", "handled_on_time",
           "handled_late", "reopened", "followed_up", "satisfied", "distance_km", "patrol_hours", "in_grid_hours",
           "patrol_days", "stops_planned", "stops_visited")
FILLS = {"fail": "FFC7CE", "basic": "FFEB9C", "excellent": "C6EFCE"}  # Excel's own light warning fills


def headers(lang: str) -> list[str]:
    """The columns' titles in ``lang``: the figures, each measure's share of full marks, the reasons."""
    say = lambda key: assessment_word(lang, key)  # noqa: E731 - a local shorthand
    shares = (assessment_word(lang, "share_col", measure=say(m)) for m in MEASURES)
    return [*(say("col_" + c) for c in COLUMNS), *shares, say("reasons")]


def _values(row: Assessment, lang: str) -> list[Any]:
    data = as_json(row, lang)
    return [*(data[c] for c in COLUMNS), *(data["shares"][m] for m in MEASURES),
            "；".join(r["text"] for r in data["reasons"])]


def _inert(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(rows: Sequence[Assessment], lang: str) -> bytes:
    """The rows as CSV, UTF-8 with a byte-order mark, CRLF line ends; a measure not judged is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(lang))
    for row in rows:
        writer.writerow(["" if v is None else _inert(v) for v in _values(row, lang)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows: Sequence[Assessment], lang: str, month: str) -> bytes:
    """The rows as a workbook of one sheet named for the month: a bold header row, each row filled by its grade
    (fail red, basic pass yellow, excellent green), shares as percentages."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"{assessment_word(lang, 'sheet')} {month}"
    sheet.append(headers(lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    first_share = len(COLUMNS) + 1  # 1-based column of the first share
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(_values(row, lang), start=1):
            cell = sheet.cell(row=number, column=column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text from the data is never a formula
            elif first_share <= column < first_share + len(MEASURES):
                cell.number_format = "0.0%"
        if row.grade in FILLS:
            fill = PatternFill("solid", start_color=FILLS[row.grade])
            for cell in sheet[number]:
                cell.fill = fill
    sheet.freeze_panes = "C2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
