"""Tables as files people open in a spreadsheet: CSV (UTF-8 with BOM) and XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

__all__ = ["Cell", "csv_bytes", "safe_cell", "xlsx_bytes"]

Cell = str | int | float | bool | date | datetime | None
# Spreadsheet programs run cells starting with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """Text that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_value(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return safe_cell(value)
    return str(value)


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """CSV with a byte-order mark, so spreadsheet programs read it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence[Cell]], title: str) -> bytes:
    """One sheet with a bold, frozen header row; numbers stay numbers, text never runs as a formula."""
    book = Workbook()
    sheet = book.active
    sheet.title = (title.replace("/", "-").replace("\\", "-") or "Sheet")[:31]  # Excel's limits
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = [len(h) for h in headers]
    for row in rows:
        values = []
        for n, value in enumerate(row):
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)  # Excel has no time zones; callers pass local time
            if isinstance(value, str):
                value = safe_cell(value)
            values.append(value)
            if n < len(widths):
                widths[n] = max(widths[n], min(len(str(value or "")), 60))
        sheet.append(values)
    for n, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width + 2
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
