"""Read an import file (.csv or .xlsx) row by row, matching its columns to the template.

The department's own column names are matched against the template's names and synonyms
(mappings/import-*.json; case, accents and punctuation ignored). Unknown columns are ignored with
a warning; only a file that cannot be read at all, or lacks a required column, is refused whole.
Rows are streamed: a 100,000-row file is never in memory as a whole.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from app.exchange.cells import FORMULA_STARTS
from app.exchange.normalise import fold


class FileRejected(Exception):
    """The file cannot be imported at all; the message says why, in Dutch."""


@dataclass(frozen=True)
class Row:
    number: int  # as the user sees it in the spreadsheet (header = row 1)
    values: dict[str, str]  # template column → cell text (non-empty cells only)
    cells: tuple = ()  # the row exactly as in the file, for the feedback workbook


@dataclass
class Table:
    """An opened import file: its header and a stream of rows."""

    header: list[str]  # as in the file
    columns: dict[int, str]  # position → template column
    ignored: list[str]  # file columns that are not in the template
    rows: Iterator[tuple[int, tuple]]  # (row number, cells)
    close: object = None
    notes: list[str] = field(default_factory=list)  # file-level remarks (encoding)


def match_columns(header: list[str], names: dict[str, str], required: set[str],
                  feedback: set[str]) -> tuple[dict[int, str], list[str]]:
    """Template column per position; unknown names are returned to be reported, not refused.

    `names` maps folded template names and synonyms to the template column.
    """
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for position, name in enumerate(header):
        if not name:
            continue
        column = names.get(fold(name))
        if column is None:
            if fold(name) not in feedback:
                ignored.append(name)
            continue
        if column in columns.values():
            first = next(header[p] for p, c in columns.items() if c == column)
            raise FileRejected(f"De kolommen '{first}' en '{name}' betekenen allebei '{column}': "
                               "hou er één over.")
        columns[position] = column
    missing = sorted(required - set(columns.values()))
    if missing:
        raise FileRejected("Verplichte kolom(men) ontbreken: " + ", ".join(f"'{m}'" for m in missing)
                           + ". Gebruik het sjabloon in data/templates/ of geef de kolom die naam.")
    return columns, ignored


def open_table(path: Path) -> tuple[list[str], Iterator[tuple], object, list[str]]:
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix == ".csv":
        rows, close = _csv(path, notes)
    elif suffix in (".xlsx", ".xlsm"):
        rows, close = _xlsx(path)
    else:
        raise FileRejected(f"Onbekend bestandstype '{suffix}': gebruik .csv of .xlsx.")
    try:
        first = next(rows)
    except StopIteration:
        raise FileRejected("Het bestand is leeg: er is geen kopregel met kolomnamen.") from None
    header = [text(cell) for cell in first]
    if not any(header):
        raise FileRejected("De eerste rij is leeg: zet de kolomnamen op rij 1.")
    return header, rows, close, notes


def read_rows(path: Path, names: dict[str, str], required: set[str], feedback: set[str]) -> Table:
    header, cells, close, notes = open_table(path)
    columns, ignored = match_columns(header, names, required, feedback)
    numbered = ((number, tuple(row)) for number, row in enumerate(cells, start=2))
    return Table(header, columns, ignored, numbered, close, notes)


def row_values(table: Table, number: int, cells: tuple) -> Row | None:
    """The template values of one row, or None for an empty row."""
    values = {}
    for position, column in table.columns.items():
        if position < len(cells):
            value = text(cells[position])
            if value:
                values[column] = value
    if not values:
        return None
    return Row(number, values, cells)


def text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):  # an Excel date cell
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    value = str(cell).strip()
    if value.startswith("'") and value[1:2] in FORMULA_STARTS:  # '+32 …: text marked as not-a-formula
        value = value[1:]
    return value


def _csv(path: Path, notes: list[str]) -> tuple[Iterator[list[str]], object]:
    """Streamed: the encoding is checked chunk by chunk, then the rows are read lazily."""
    encoding = "utf-8-sig"
    if not _decodes(path, "utf-8"):
        if not _decodes(path, "cp1252"):
            raise FileRejected("Het bestand is geen leesbare tekst; bewaar het als 'CSV UTF-8' en probeer "
                               "opnieuw.")
        encoding = "cp1252"
        notes.append("Het bestand is geen UTF-8; gelezen als Windows-tekst (cp1252). Controleer letters met "
                     "accenten, of bewaar het bestand als 'CSV UTF-8'.")
    handle = path.open(encoding=encoding, newline="")
    first = handle.readline()
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    handle.seek(0)
    return csv.reader(handle, dialect), handle.close


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _xlsx(path: Path) -> tuple[Iterator[tuple], object]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises several types for a damaged or non-xlsx file
        raise FileRejected("Het Excel-bestand kan niet gelezen worden: het is beschadigd of geen .xlsx-bestand "
                           "(sla het in Excel opnieuw op als .xlsx, of stuur een .csv).") from None
    sheet = workbook.worksheets[0]
    return sheet.iter_rows(values_only=True), workbook.close
