"""Read an import file (.csv or .xlsx) row by row, matching its columns to the template.

The department's own column names are matched against the template's names and synonyms
(mappings/import-*.json; case, accents and punctuation ignored). Unknown columns are ignored with
a warning; only a file that cannot be read at all, or lacks a required column, is refused whole.
Rows are streamed: a 100,000-row file is never in memory as a whole.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, islice
from pathlib import Path

from app.exchange.cells import FORMULA_STARTS
from app.exchange.normalise import fold
from app.validation.characters import without_invisible

EXAMPLE_KEY = "VOORBEELD"  # the Sleutel of the templates' example row, which an import skips


def is_example(row: Row) -> bool:
    return row.values.get("Sleutel", "").strip().upper() == EXAMPLE_KEY


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
    header_row: int = 1  # where the header was (rows above it: a title)
    above: list[tuple] = field(default_factory=list)  # the rows above the header, as in the file


def match_columns(header: list[str], names: dict[str, str], required: set[str], feedback: set[str],
                  repeatable: frozenset[str] = frozenset()) -> tuple[dict[int, str], list[str]]:
    """Template column per position; unknown names are returned to be reported, not refused.

    `names` maps folded template names and synonyms to the template column; a `repeatable` one may come
    more than once (a 'Tel.' and a 'GSM' column: two phone numbers).
    """
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for position, name in enumerate(header):
        if not name:
            continue
        column = recognised(name, names)
        if column is None:
            if fold(name) not in feedback:
                ignored.append(name)
            continue
        if column in columns.values() and column not in repeatable:
            first = next(header[p] for p, c in columns.items() if c == column)
            raise FileRejected(f"De kolommen '{first}' en '{name}' betekenen allebei '{column}': "
                               "hou er één over.")
        columns[position] = column
    missing = sorted(required - set(columns.values()))
    if missing:
        raise FileRejected("Verplichte kolom(men) ontbreken: " + ", ".join(f"'{m}'" for m in missing)
                           + ". Gebruik het sjabloon (in het register te downloaden op "
                           "/sjablonen/import-verenigingen.xlsx of /sjablonen/import-kbo.xlsx) of geef de kolom "
                           "die naam.")
    return columns, ignored


def _loose(name: str) -> str:
    """A column name without what is in brackets ('Activiteit(en)', 'Telefoon (vast)'), a final dot or a final
    number ('E-mail 2': a second e-mail column)."""
    return re.sub(r"\s*\d+$", "", fold(re.sub(r"\(.*?\)", " ", name)))


# the parts of a column that holds two template columns at once, and the column that reads it ('Straat + nr':
# a street with its house number, which the row reader splits)
COMBINED = {frozenset({"Straat", "Huisnummer"}): "Straat", frozenset({"Straat", "Huisnummer", "Bus"}): "Straat"}


def recognised(name: str, names: dict[str, str]) -> str | None:
    """The template column a file's column name means: as written, without brackets, or when it joins
    names with '/', '+', '&' or ',' (case, accents and punctuation ignored), the column all its parts mean
    ('Gemeente/deelgemeente', 'Tel/GSM'), or a street with its number ('Straat + nr')."""
    for form in (fold(name), _loose(name)):
        if form in names:
            return names[form]
    parts = [_loose(part) for part in re.split(r"[/+&,]| en | of ", name) if _loose(part)]
    meant = {names.get(part) for part in parts}
    if len(parts) < 2 or None in meant:
        return None
    return meant.pop() if len(meant) == 1 else COMBINED.get(frozenset(meant))  # type: ignore[arg-type]


def known_columns(header: list[str], names: dict[str, str]) -> int:
    """How many of a row's cells name a template column: the likeliest header has the most."""
    return sum(1 for name in header if name and recognised(name, names) is not None)


HEADER_SEARCH = 10  # rows looked at for the header: a title or an explanation may come first


@dataclass
class _Opened:
    header: list[str]
    rows: Iterator[tuple]
    close: object
    notes: list[str]
    header_row: int  # the header's row number as the user sees it; data rows follow it
    sheet: str | None = None
    elsewhere: bool = False  # not the first sheet looked at: worth telling the user
    xml: _SheetXml | None = None  # what the sheet's XML in a workbook tells
    above: list[tuple] = field(default_factory=list)  # rows above the header (a title, an explanation)
    others: list[str] = field(default_factory=list)  # later visible sheets with the template's columns


def open_table(path: Path, fits: Callable[[list[str]], bool] = lambda header: True,
               score: Callable[[list[str]], int] = lambda header: 0) -> _Opened:
    """The file's header and the rows below it. In a workbook the visible sheets are tried (the active one
    first) and in each the first HEADER_SEARCH rows, for the first row that `fits` (has the template's
    required columns); without one, the row with the highest `score` (the most template columns; the first
    non-empty row at a tie), whose columns then say what is wrong."""
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix == ".csv":
        rows, close = _csv(path, notes)
        sources = [(None, rows, None)]
    elif suffix in (".xlsx", ".xlsm"):
        sources, close = _xlsx(path)
    else:
        raise FileRejected(f"Onbekend bestandstype '{suffix}': gebruik .csv of .xlsx.")
    fallback, best = None, -1
    for position, (sheet, rows, xml) in enumerate(sources):
        peeked = list(islice(rows, HEADER_SEARCH))
        for index, cells in enumerate(peeked):
            header = [text(cell) for cell in cells]
            if any(header) and fits(header):
                opened = _Opened(header, chain(peeked[index + 1:], rows), close, notes, index + 1, sheet,
                                 position > 0, xml, [tuple(row) for row in peeked[:index]])
                opened.others = [name for name, later, _ in sources[position + 1:]  # sheets that could be imported
                                 if any(fits([text(cell) for cell in cells]) for cells in islice(later, HEADER_SEARCH))]
                return opened
            if any(header) and score(header) > best:
                fallback, best = _Opened(header, chain(peeked[index + 1:], rows), close, notes, index + 1, sheet,
                                         xml=xml, above=[tuple(row) for row in peeked[:index]]), score(header)
    if fallback is None:
        raise FileRejected("Het bestand is leeg: er is geen kopregel met kolomnamen.")
    return fallback


def read_rows(path: Path, names: dict[str, str], required: set[str], feedback: set[str],
              formulas: bool = True, repeatable: frozenset[str] = frozenset()) -> Table:
    """The rows of the file's table. `formulas`: also scan for formulas without a value (a note in the
    report); the check of an upload, which only asks whether the file can be imported, skips that scan."""
    def fits(header: list[str]) -> bool:
        try:
            match_columns(header, names, required, feedback, repeatable)
        except FileRejected:
            return False
        return True

    opened = open_table(path, fits, lambda header: known_columns(header, names))
    read_at = f"Kopregel gelezen op {f'werkblad {opened.sheet!r}, ' if opened.sheet else ''}rij {opened.header_row}."
    try:
        columns, ignored = match_columns(opened.header, names, required, feedback, repeatable)
    except FileRejected as exc:
        hint = "" if known_columns(opened.header, names) else (  # no row looks like a header at all
            f" Geen van de eerste {HEADER_SEARCH} rijen lijkt op een kopregel: zet de kopregel (Sleutel, Naam, …) "
            "bovenaan, of verwijder de rijen erboven.")
        raise FileRejected(f"{exc} ({read_at}){hint}") from None
    numbered = ((number, tuple(row)) for number, row in enumerate(opened.rows, start=opened.header_row + 1))
    table = Table(opened.header, columns, ignored, numbered, opened.close, opened.notes, opened.header_row,
                  opened.above)
    if opened.header_row > 1 or opened.elsewhere:
        table.notes.append(read_at)
    if opened.others:
        table.notes.append(f"Enkel werkblad {opened.sheet!r} werd gelezen, niet " + ", ".join(
            repr(name) for name in opened.others) + ": importeer een ander werkblad apart, of zet alle rijen op één "
            "werkblad.")
    if opened.xml and formulas:
        from openpyxl.utils import get_column_letter

        table.notes += opened.xml.notes(opened.header_row, {get_column_letter(position + 1) for position in columns})
    return table


_EMPTY_FORMULA = re.compile(rb'<c r="([A-Z]{1,3})([0-9]+)"[^>]*>'  # a cell with a formula and no value
                            rb'(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)(?:<v\s*/>|<v></v>)?</c>')
_HIDDEN_ROW = re.compile(rb'<row r="([0-9]+)"[^>]*\shidden="(?:1|true)"')


@dataclass
class _SheetXml:
    """What one stream over a sheet's XML tells before openpyxl reads it (no XML parsed: ~0.3 s for 100,000
    rows): how many rows it has, which rows it hides and which cells hold a formula without a value."""

    rows: int = 0
    hidden: list[int] = field(default_factory=list)  # the first hidden row numbers
    hidden_count: int = 0
    uncomputed: dict[str, list[str]] = field(default_factory=dict)  # column letter → its first such cells
    uncomputed_count: dict[str, int] = field(default_factory=dict)

    def take(self, data: bytes, end: int) -> None:
        self.rows += data.count(b"<row", 0, end)
        for match in _HIDDEN_ROW.finditer(data, 0, end):
            self.hidden_count += 1
            if len(self.hidden) < HEADER_SEARCH + 10:
                self.hidden.append(int(match[1]))
        if b"<f" in data:
            for cell in _EMPTY_FORMULA.finditer(data, 0, end):
                letter = cell[1].decode()
                self.uncomputed_count[letter] = self.uncomputed_count.get(letter, 0) + 1
                if len(first := self.uncomputed.setdefault(letter, [])) < 5:
                    first.append((cell[1] + cell[2]).decode())

    def notes(self, header_row: int, letters: set[str]) -> list[str]:
        return self._uncomputed_note(letters) + self._hidden_note(header_row)

    def _hidden_note(self, header_row: int) -> list[str]:
        """The rows under the header that the file hides (a filter, hidden rows): they are read like the others,
        while whoever looks at the sheet does not see them."""
        count = self.hidden_count - sum(1 for row in self.hidden if row <= header_row)
        if count <= 0:
            return []
        rows = [row for row in self.hidden if row > header_row]
        shown = ", ".join(str(row) for row in rows[:10]) + (" …" if count > 10 else "")
        return [f"{count} rij(en) zijn verborgen in het bestand (bv. door een filter): rij {shown}. Ze worden "
                "ingelezen zoals de andere; verwijder ze uit het bestand als ze niet geïmporteerd mogen worden."]

    def _uncomputed_note(self, letters: set[str]) -> list[str]:
        """Formulas in the columns read whose value was never computed (a file written by a program, not saved
        by Excel or LibreOffice): they read as empty, while the spreadsheet program shows a value."""
        count = sum(n for letter, n in self.uncomputed_count.items() if letter in letters)
        if not count:
            return []
        found = sorted((cell for letter in letters for cell in self.uncomputed.get(letter, ())),
                       key=lambda cell: (int(cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")), len(cell), cell))[:5]
        return [f"{count} cel(len) met een formule zonder berekende waarde (bv. {', '.join(found)}) worden als leeg "
                "gelezen: het bestand werd niet in Excel of LibreOffice bewaard. Open het daarin en bewaar het "
                "opnieuw, dan staan de waarden in het bestand."]


def _scanned(archive: zipfile.ZipFile, part: str) -> _SheetXml:
    """One pass over the sheet's XML, cut only between cells or rows; a sheet with more rows than Excel allows
    is refused as soon as the count passes it."""
    facts, rest = _SheetXml(), b""
    with archive.open(part) as xml:
        while chunk := xml.read(1 << 22):
            data = rest + chunk
            cell = data.rfind(b"</c>")
            end = max(data.rfind(b"<row "), cell + 4 if cell >= 0 else 0)
            if end == 0 and len(data) > 1 << 24:  # one row of millions of empty cells: cut after a tag
                end = data.rfind(b">") + 1
            facts.take(data, end)
            rest = data[end:]
            if facts.rows > MAX_ROWS:
                break
    facts.take(rest, len(rest))
    if facts.rows > MAX_ROWS:
        raise FileRejected(f"Een werkblad heeft meer dan {MAX_ROWS:,} rijen, meer dan Excel zelf toelaat. "
                           "Bewaar enkel de rijen met verenigingen, of stuur een .csv.".replace(",", "."))
    return facts


def row_values(table: Table, number: int, cells: tuple) -> Row | None:
    """The template values of one row, or None for an empty row."""
    values = {}
    for position, column in table.columns.items():
        if position < len(cells):
            value = text(cells[position])
            if value:  # a repeated column (two phone columns) adds a line
                values[column] = f"{values[column]}\n{value}" if column in values else value
    if not values:
        return None
    return Row(number, values, cells)


_SPACES = str.maketrans({"\u00a0": " ", "\u2007": " ", "\u202f": " "})  # no-break spaces (Excel, Word)


def text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):  # an Excel date cell
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    value = without_invisible(str(cell).translate(_SPACES)).strip()  # what nobody sees in the cell is not read
    if value.startswith("'") and value[1:2] in FORMULA_STARTS:  # '+32 …: text marked as not-a-formula
        value = value[1:]
    return value


def _csv(path: Path, notes: list[str]) -> tuple[Iterator[list[str]], object]:
    """Streamed: the encoding is checked chunk by chunk, then the rows are read lazily."""
    encoding = "utf-8-sig"
    with path.open("rb") as handle:
        start = handle.read(4096)
    wide = _utf16_without_bom(start)
    if start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or wide:  # Excel's "Unicode-tekst": UTF-16
        encoding = wide or "utf-16"
        if not _decodes(path, encoding):
            raise FileRejected("Het bestand is geen leesbare tekst; bewaar het als 'CSV UTF-8' en probeer "
                               "opnieuw.")
    elif b"\x00" in start:  # text has no NUL: a workbook or a PDF renamed to .csv
        raise FileRejected("Het bestand is geen leesbare tekst maar een ander soort bestand (bv. een Excel-bestand "
                           "dat .csv genoemd werd); bewaar het in Excel als 'CSV UTF-8' of als .xlsx.")
    elif not _decodes(path, "utf-8"):
        if not _decodes(path, "cp1252"):
            raise FileRejected("Het bestand is geen leesbare tekst; bewaar het als 'CSV UTF-8' en probeer "
                               "opnieuw.")
        encoding = "cp1252"
        notes.append("Het bestand is geen UTF-8; gelezen als Windows-tekst (cp1252). Controleer letters met "
                     "accenten, of bewaar het bestand als 'CSV UTF-8'.")
    handle = path.open(encoding=encoding, newline="")
    first = handle.readline(1 << 16)
    handle.seek(0)
    return _lines(csv.reader(handle, delimiter=_delimiter(first))), handle.close


def _delimiter(first: str) -> str:
    """The separator of the header line: the most frequent of ';' (Excel in Belgium), ',' and tab. (csv.Sniffer
    took seconds to minutes on one long line of quotes, holding the interpreter all that time.)"""
    return max(";,\t", key=lambda sign: (first.count(sign), sign == ";"))


def _lines(reader) -> Iterator[list[str]]:
    """The CSV's rows; a line the csv module cannot read is a refused file, with its line number."""
    try:
        yield from reader
    except csv.Error as exc:
        reason = "een cel is langer dan 131.072 tekens" if "field larger" in str(exc) else "het is geen geldige CSV"
        raise FileRejected(f"Het bestand kan niet gelezen worden vanaf regel {reader.line_num}: {reason}. Bewaar "
                           "het in Excel als 'CSV UTF-8' of als .xlsx.") from None


def _utf16_without_bom(start: bytes) -> str | None:
    """'utf-16-le'/'-be' for text whose every other byte is NUL (ASCII in UTF-16 without its BOM), else None."""
    pairs = len(start) // 2
    if pairs < 2:
        return None
    if start[1::2].count(0) > 0.6 * pairs and start[0::2].count(0) == 0:
        return "utf-16-le"
    if start[0::2].count(0) > 0.6 * pairs and start[1::2].count(0) == 0:
        return "utf-16-be"
    return None


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


MAX_SHARED_STRINGS = 64 << 20  # unpacked bytes: openpyxl holds every shared string in memory (~6x)
MAX_UNPACKED = 512 << 20  # a workbook of 100,000 filled rows unpacks to ~100 MB
MAX_ROWS = 1_048_576  # Excel's own maximum; a sheet of 150 million empty rows took a worker past 5.8 GB


def _unpacked_size(path: Path) -> None:
    """Refuse a workbook that unpacks to more than a list of verenigingen can be (a zip bomb: 200 KB that
    unpacks to millions of strings), before anything is unpacked."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # not a zip: openpyxl says it in Dutch below
    shared = sum(e.file_size for e in entries if e.filename.lower().endswith("sharedstrings.xml"))
    if shared > MAX_SHARED_STRINGS or sum(e.file_size for e in entries) > MAX_UNPACKED:
        raise FileRejected("Het Excel-bestand is uitgepakt veel groter dan een lijst van verenigingen (meer dan "
                           f"{MAX_UNPACKED >> 20} MB, of {MAX_SHARED_STRINGS >> 20} MB tekst). Bewaar enkel het "
                           "werkblad met de verenigingen, of stuur een .csv.")


def _xlsx(path: Path) -> tuple[list[tuple[str, Iterator[tuple], _SheetXml]], object]:
    """The visible sheets, the active one first, each as (name, rows, its XML part)."""
    from openpyxl import load_workbook

    _unpacked_size(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises several types for a damaged or non-xlsx file
        raise FileRejected("Het Excel-bestand kan niet gelezen worden: het is beschadigd, met een wachtwoord "
                           "beveiligd of geen .xlsx-bestand (sla het in Excel opnieuw op als .xlsx zonder "
                           "wachtwoord, of stuur een .csv).") from None
    visible = [sheet for sheet in workbook.worksheets if sheet.sheet_state == "visible"] or workbook.worksheets[:1]
    active = workbook.active if workbook.active in visible else None
    ordered = [active] * (active is not None) + [sheet for sheet in visible if sheet is not active]
    try:  # the parts openpyxl will read, each streamed once before it does (rows counted, hidden rows, formulas)
        with zipfile.ZipFile(path) as archive:
            facts = [_scanned(archive, sheet._worksheet_path) for sheet in ordered]
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, zlib.error):
        workbook.close()
        raise FileRejected("Het Excel-bestand kan niet gelezen worden: het is beschadigd (sla het in Excel opnieuw "
                           "op als .xlsx, of stuur een .csv).") from None
    except FileRejected:
        workbook.close()
        raise
    return [(sheet.title, sheet.iter_rows(values_only=True), xml)
            for sheet, xml in zip(ordered, facts, strict=True)], workbook.close
