"""The register as a workbook, for a person with a spreadsheet rather than a program.

The CSV is for programs: UTF-8 without a byte order mark, commas, codes, and a leading apostrophe
before text a spreadsheet would run as a formula. Opened in Excel with Belgian settings it lands in
one column, "Café" is garbled, "6-12" (a doelgroep) becomes a date and a phone number shows its
apostrophe. The workbook holds the same rows as text cells (never a formula, never a date guessed
from text), a frozen header with a filter, readable widths, and a sheet that explains every column.
Rows are written one at a time (openpyxl's write-only mode) into a temporary file, which is then
handed out in chunks, so memory stays bounded for a large register.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.domain.model import MODEL
from app.exchange.cells import text_cell

# what each column holds, for the explanation sheet (fields of the description give their own label)
EXPLAINED = {
    "vCode": "De V-code: het vaste nummer van de vereniging in het register.",
    "postcodes": "De postcodes van haar locaties, gescheiden door een spatie.",
    "gemeenten": "De gemeenten van haar locaties zoals opgegeven in het adres, gescheiden door ' | '.",
    "gemeentecodes": "De gemeenten waarin de postcodes van haar locaties liggen, als werkingsgebiedcode (NUTS + "
                     "NIS, bv. BE23444021 voor Gent), gescheiden door een spatie: zo tellen de statistieken.",
    "e-mail": "De publieke e-mailadressen, gescheiden door ' | '.",
    "telefoon": "De publieke telefoonnummers, gescheiden door ' | '.",
    "website": "De websites, gescheiden door ' | '.",
}
CODES = {"hoofdactiviteiten": "codes van /conceptscheme/hoofdactiviteiten",
         "werkingsgebieden": "codes van /conceptscheme/werkingsgebieden (NUTS + NIS)",
         "verenigingstype": "code van /conceptscheme/verenigingstypes", "status": "Actief of Gestopt",
         "doelgroep": "leeftijd van-tot in jaren (0-150: alle leeftijden)"}
CHUNK = 1 << 20


def chunks(columns: list[str], rows: Iterable[list[str]]) -> Iterator[bytes]:
    with tempfile.TemporaryFile() as handle:
        _write(columns, rows).save(handle)
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            yield chunk


def _write(columns: list[str], rows: Iterable[list[str]]) -> Workbook:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("verenigingen")
    sheet.freeze_panes = "A2"
    for index, name in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 12 if name in ("vCode", "postcodes") else 28
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([text_cell(sheet, value, WriteOnlyCell) for value in row])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    guide = book.create_sheet("kolommen")
    guide.append(["kolom", "betekenis"])
    for name in columns:
        guide.append([name, _meaning(name)])
    return book


def _meaning(name: str) -> str:
    if name in EXPLAINED:
        return EXPLAINED[name]
    field = next((f for f in MODEL.fields if f.key == name), None)
    part = next((p for p in MODEL.parts if p.kind == name), None)
    label = field.label if field else part.label if part else name
    return label[:1].upper() + label[1:] + (f" ({CODES[name]})" if name in CODES else "")
