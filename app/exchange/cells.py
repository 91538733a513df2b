"""Cells for CSV and XLSX files the register writes: text never runs as a spreadsheet formula.

A value starting with = + - @ TAB or CR is what Excel, LibreOffice and Google Sheets evaluate as a
formula (CSV injection, e.g. =HYPERLINK("http://evil.example","klik")); as OWASP recommends, such
text gets a leading apostrophe, which spreadsheets show as text and do not evaluate. Numbers and
other values pass unchanged. Every CSV/XLSX writer (dumps, statistics, import reports) uses this.
"""

from __future__ import annotations

from openpyxl.cell.cell import Cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def text_cell(sheet, value: str, kind: type = Cell):
    """An openpyxl cell that holds `value` as text whatever it looks like: '=…' is no formula, '6-12' no
    date. `kind` is the cell class: `WriteOnlyCell` for a write-only workbook."""
    cell = kind(sheet, value=value)
    cell.data_type = "s"
    return cell
