"""Tables as files for an office: CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese right, CRLF line
ends) and an Excel workbook of one sheet (openpyxl) with a bold header row, each row filled in its colour and some
columns shown as percentages.

Text from the data that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) is written as text: in CSV behind a leading apostrophe, in the workbook as a string cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_file(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The rows under ``headers`` as CSV; None is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else _inert(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_file(title: str, headers: Sequence[str], rows: Iterable[tuple[Sequence[Any], str | None]], *,
              percent: range, freeze: str) -> bytes:
    """A workbook of one sheet named ``title``: each row given with its fill (an RGB hex, or None for none); the
    1-based columns in ``percent`` shown as percentages; panes frozen at the cell ``freeze``."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, (values, fill) in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=number, column=column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text from the data is never a formula
            elif column in percent:
                cell.number_format = "0.0%"
        if fill is not None:
            pattern = PatternFill("solid", start_color=fill)
            for cell in sheet[number]:
                cell.fill = pattern
    sheet.freeze_panes = freeze
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
