"""The month's assessment as files for the assessment office: CSV (UTF-8 with a byte-order mark, so Excel reads the
Chinese right) and an Excel workbook (openpyxl), with the same rows in the same order as the API's answer.

Distances are kilometres, times hours, shares from 0 to 1 (the workbook shows them as percentages). Text from the
data (a person's name) that a spreadsheet would read as a formula is written as text: in CSV behind a leading
apostrophe, in the workbook as a string cell (:mod:`mapserver.office_files`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mapserver.assessment.grading import MEASURES, Assessment, as_json
from mapserver.i18n import assessment_word
from mapserver.office_files import csv_file, xlsx_file

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


def csv_bytes(rows: Sequence[Assessment], lang: str) -> bytes:
    """The rows as CSV, UTF-8 with a byte-order mark, CRLF line ends; a measure not judged is an empty cell."""
    return csv_file(headers(lang), (_values(row, lang) for row in rows))


def xlsx_bytes(rows: Sequence[Assessment], lang: str, month: str) -> bytes:
    """The rows as a workbook of one sheet named for the month: a bold header row, each row filled by its grade
    (fail red, basic pass yellow, excellent green), shares as percentages."""
    first_share = len(COLUMNS) + 1  # 1-based column of the first share
    return xlsx_file(f"{assessment_word(lang, 'sheet')} {month}", headers(lang),
                     ((_values(row, lang), FILLS.get(row.grade)) for row in rows),
                     percent=range(first_share, first_share + len(MEASURES)), freeze="C2")
