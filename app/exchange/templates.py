"""The .xlsx import templates in data/templates/, built from the mappings and the code lists.

    python -m app.exchange.templates        # rewrite data/templates/import-*.xlsx

Sheet 'Verenigingen': the template's columns with one example row (Sleutel 'VOORBEELD': the import
skips it), drop-down lists for the columns with codes (type, locatietype, one hoofdactiviteit, one
werkingsgebied; more than one code can be typed, separated by ';'), and the decision column 'Actie'.
Sheet 'Codelijsten': every code this template accepts, with its label (no VZW in the template for
feitelijke verenigingen, no maatschappelijke zetel: that comes from the KBO). Sheet 'Uitleg': what to
write in each column.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app import paths
from app.domain import codelists
from app.domain.model import KBO_TYPES, REGISTERABLE_TYPES
from app.exchange.rows import Mapping
from app.exchange.spreadsheet import EXAMPLE_KEY

TARGET = paths.DATA / "templates"
LISTS = {"code:verenigingstypes": "verenigingstypes", "code:locatietypes": "locatietypes",
         "codes:hoofdactiviteiten": "hoofdactiviteiten", "codes:werkingsgebieden": "werkingsgebieden"}
HELP = {
    "sleutel": "Verplicht. Jullie eigen, unieke sleutel per vereniging; bij een volgende import werkt dezelfde "
               "sleutel de vereniging bij.",
    "actie": "Leeg laten of 'nieuw' (een nieuwe vereniging), of bij een mogelijke dubbel: 'bevestig-nieuw' (toch "
             "een nieuwe vereniging) of 'koppel:V0001030' (dit is de bestaande vereniging met die V-code).",
    "code": "Eén code of omschrijving uit het werkblad 'Codelijsten'.",
    "codes": "Code of omschrijving uit het werkblad 'Codelijsten'; meerdere gescheiden door ';'.",
    "tekst": "Tekst.",
    "datum-of-jaar": "Datum als dag/maand/jaar (01/09/1995), 1 september 1995 of 1995-09-01; enkel een jaartal "
                     "wordt 1 januari van dat jaar.",
    "geheel-getal": "Een getal (leeftijd in jaren).",
    "huisnummer": "Huisnummer, eventueel met letter (12A); '12 bus 3' wordt huisnummer 12, bus 3.",
    "postcode": "Belgische postcode (4 cijfers); moet bij de gemeente passen.",
    "e-mail": "E-mailadres.",
    "telefoon": "Telefoonnummer, bv. 09 233 45 67 of 0470 12 34 56.",
    "website": "Webadres; https:// mag weg.",
}
EXAMPLES = {
    "Sleutel": EXAMPLE_KEY, "Type": "VZER", "Naam": "Buurtcomité De Bloemekens", "Korte naam": "Bloemekens",
    "Korte beschrijving": "Buurtwerking in de Bloemekenswijk.", "Startdatum": "01/03/2012",
    "Hoofdactiviteiten": "BWWC; SOVO", "Werkingsgebieden": "BE23444021", "Locatietype": "Activiteiten",
    "Straat": "Bloemekenstraat", "Huisnummer": "12", "Postcode": "9000", "Gemeente": "Gent",
    "E-mail": "info@bloemekens.be", "Telefoon": "09 222 33 44", "Website": "www.bloemekens.be",
    "KBO-nummer": "0202.239.951", "Rechtsvorm": "VZW",
}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
# Codes a template does not accept: registering a VZW needs its KBO number, the zetel comes from the KBO.
EXCLUDED = {("verenigingen", "verenigingstypes"): set(KBO_TYPES),
            ("kbo", "verenigingstypes"): set(REGISTERABLE_TYPES),
            ("verenigingen", "locatietypes"): {"MaatschappelijkeZetelVolgensKBO"},
            ("kbo", "locatietypes"): {"MaatschappelijkeZetelVolgensKBO"}}
ADDRESS = ("Straat", "Huisnummer", "Postcode", "Gemeente")  # required together, once one of them is filled


def build(kind: str) -> Workbook:
    mapping = Mapping.load(kind)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Verenigingen"
    columns = list(mapping.columns.values())
    sheet.append([c.kolom for c in columns])
    sheet.append([EXAMPLES.get(c.kolom) for c in columns])
    ranges = _code_sheet(workbook.create_sheet("Codelijsten"), kind)
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        sheet.column_dimensions[letter].width = max(14, len(column.kolom) + 4)
        name = LISTS.get(column.soort)
        formula = ranges.get(name) if name else '"nieuw,bevestig-nieuw"' if column.soort == "actie" else None
        if formula:
            check = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=False,
                                   showInputMessage=True, promptTitle=column.kolom[:32],
                                   prompt=HELP.get(column.soort, "Kies een code uit de lijst.")[:250])
            check.add(f"{letter}2:{letter}5000")
            sheet.add_data_validation(check)
    sheet.freeze_panes = "B2"
    _help_sheet(workbook.create_sheet("Uitleg"), mapping)
    return workbook


def _code_sheet(sheet, kind: str) -> dict[str, str]:
    """Code lists side by side (code, label); returns the range of each list's codes for drop-downs."""
    ranges = {}
    for offset, name in enumerate(LISTS.values()):
        concepts = [c for c in codelists.get(name).concepts if c.code not in EXCLUDED.get((kind, name), ())]
        code_col, label_col = get_column_letter(offset * 3 + 1), get_column_letter(offset * 3 + 2)
        sheet[f"{code_col}1"], sheet[f"{label_col}1"] = name, "betekenis"
        sheet[f"{code_col}1"].font = sheet[f"{label_col}1"].font = Font(bold=True)
        for row, concept in enumerate(concepts, start=2):
            sheet[f"{code_col}{row}"], sheet[f"{label_col}{row}"] = concept.code, concept.label
        sheet.column_dimensions[code_col].width = 16
        sheet.column_dimensions[label_col].width = 40
        ranges[name] = f"Codelijsten!${code_col}$2:${code_col}${len(concepts) + 1}"
    return ranges


def _help_sheet(sheet, mapping: Mapping) -> None:
    sheet.append(["Kolom", "Verplicht", "Wat schrijf je", "Andere kolomnamen die ook werken"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in mapping.columns.values():
        kind = column.soort.split(":", 1)[0]
        text = HELP.get(column.soort) or HELP.get(kind) or HELP["tekst"]
        required = "ja" if column.kolom in mapping.required else "bij een adres" if column.kolom in ADDRESS else None
        sheet.append([column.kolom, required, text, ", ".join(column.synoniemen)])
    for letter, width in zip("ABCD", (28, 10, 90, 60), strict=True):
        sheet.column_dimensions[letter].width = width


def write(target: Path = TARGET) -> list[Path]:
    """The .xlsx templates and the same columns with the example row as .csv (UTF-8, ';')."""
    written = []
    for kind in ("verenigingen", "kbo"):
        workbook = build(kind)
        path = target / f"import-{kind}.xlsx"
        workbook.save(path)
        rows = [[cell if cell is not None else "" for cell in row]
                for row in workbook["Verenigingen"].iter_rows(values_only=True)]
        csv_path = target / f"import-{kind}.csv"
        with csv_path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, delimiter=";").writerows(rows)
        written += [path, csv_path]
    return written


if __name__ == "__main__":
    for path in write():
        print(path)
