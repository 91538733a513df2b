"""Read the rows of an import file (.csv or .xlsx) as {column: text}, or explain why not.

A file whose structure is wrong (unreadable, wrong encoding, unknown or missing columns, no data)
is refused as a whole: the import then writes nothing and reports why.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path


class FileRejected(Exception):
    """The file cannot be imported at all; the message says why, in Dutch."""


@dataclass(frozen=True)
class Row:
    number: int  # as the user sees it in the spreadsheet (header = row 1)
    values: dict[str, str]


def read_rows(path: Path, columns: set[str], required: set[str]) -> tuple[list[Row], list[int]]:
    """Data rows and the numbers of the empty rows that were skipped."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = _csv(path)
    elif suffix == ".xlsx":
        table = _xlsx(path)
    else:
        raise FileRejected(f"Onbekend bestandstype '{suffix}': gebruik .csv of .xlsx.")
    if not table:
        raise FileRejected("Het bestand is leeg: er is geen kopregel met kolomnamen.")
    header = [str(cell or "").strip() for cell in table[0]]
    unknown = [name for name in header if name and name not in columns]
    missing = sorted(required - set(header))
    if unknown or missing:
        parts = []
        if unknown:
            parts.append("onbekende kolommen: " + ", ".join(f"'{name}'" for name in unknown))
        if missing:
            parts.append("ontbrekende verplichte kolommen: " + ", ".join(f"'{name}'" for name in missing))
        raise FileRejected("De kolommen kloppen niet met het sjabloon (" + "; ".join(parts) + ").")
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        raise FileRejected("Kolommen komen meer dan eens voor: " + ", ".join(duplicates) + ".")
    rows, empty = [], []
    for offset, cells in enumerate(table[1:], start=2):
        values = {name: _text(cell) for name, cell in zip(header, cells, strict=False) if name}
        values = {name: value for name, value in values.items() if value}
        if values:
            rows.append(Row(offset, values))
        else:
            empty.append(offset)
    if not rows:
        raise FileRejected("Het bestand bevat geen ingevulde rijen onder de kopregel.")
    return rows, empty


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if hasattr(cell, "date") and hasattr(cell, "isoformat"):  # openpyxl gives datetime for date cells
        return cell.date().isoformat() if hasattr(cell, "hour") else cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"Het bestand is geen geldige UTF-8 tekst (byte {exc.start}); bewaar het als "
                           "'CSV UTF-8' en probeer opnieuw.") from None
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _xlsx(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a damaged or non-xlsx file
        raise FileRejected(f"Het Excel-bestand kan niet gelezen worden ({type(exc).__name__}).") from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
