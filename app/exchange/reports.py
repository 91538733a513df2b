"""Import reports a civil servant can open: .csv and one .xlsx workbook, plus the feedback workbook.

Every line carries Rij, Sleutel and Naam and the lines are sorted by row. The workbook starts with a
summary sheet; every sheet has a frozen header with a filter and column widths that fit the text.
The feedback workbook (`terugkoppeling-<bestand>.xlsx`) is the bestuur's own file with, per row, the
status, the messages, the possible duplicates and the decision column `Actie`: corrected and sent
back unchanged in shape, it is round 2.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app.exchange.cells import FORMULA_STARTS, safe_cell, text_cell
from app.exchange.normalise import fold

MESSAGES = ["Rij", "Sleutel", "Naam", "Soort", "Kolom", "Waarde", "Melding", "Oplossing"]
DUPLICATES = ["Rij", "Sleutel", "Naam", "Mogelijke dubbel", "Naam dubbel", "Adres dubbel", "Link", "Gelijkenis"]
RESULTS = ["Rij", "Sleutel", "Naam", "Status", "V-code", "Link", "Actie"]
FEEDBACK = ["Status", "Meldingen", "Kandidaten", "V-code"]
WIDTHS = {"Rij": 6, "Soort": 13, "Gelijkenis": 11, "V-code": 11, "Status": 30, "Melding": 70, "Oplossing": 60,
          "Meldingen": 80, "Kandidaten": 60, "Link": 45, "Actie": 20}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def tables(report) -> dict[str, tuple[list[str], list[list]]]:
    lines: list[tuple[int, int, list]] = []
    for order, finding in enumerate(report.file_notes):
        lines.append((finding.row, order, [finding.row, "", "", finding.level, report.column(finding.column),
                                           finding.value, report.say(finding.message), report.say(finding.fix)]))
    for result in report.results:
        for order, f in enumerate(result.findings):
            lines.append((result.row, order, [result.row, result.sleutel, result.naam, f.level,
                                              report.column(f.column), f.value, report.say(f.message),
                                              report.say(f.fix)]))
    for first, last in _runs(report.empty):  # a block of empty rows is one line, not one line a row
        said = "Lege rij overgeslagen." if first == last else f"Rijen {first} tot {last} zijn leeg en overgeslagen."
        lines.append((first, 0, [first, "", "", "waarschuwing", "", "", said, ""]))
    doubles = [[r.row, r.sleutel, r.naam, c.ref, c.naam, c.adres, report.link(c.vcode), c.score]
               for r in report.results for c in r.candidates]
    results = [[r.row, r.sleutel, r.naam, r.status, r.vcode, report.link(r.vcode), r.actie] for r in report.results]
    return {
        "meldingen": (MESSAGES, [line for _, _, line in sorted(lines, key=lambda item: item[:2])]),
        "dubbels": (DUPLICATES, doubles),
        "resultaat": (RESULTS, results),
    }


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Consecutive numbers as (first, last) runs: [3, 4, 5, 9] → [(3, 5), (9, 9)]."""
    runs: list[tuple[int, int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def write_reports(report, directory: Path, source: Path | None = None) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    content = tables(report)
    for name, (header, lines) in content.items():
        path = directory / f"{name}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel opens it as UTF-8
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(header)
            writer.writerows([_safe(cell) for cell in line] for line in lines)
        written.append(path)
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Samenvatting"
    _summary(summary, report, source)
    for name, (header, lines) in content.items():
        _sheet(workbook.create_sheet(name.capitalize()), header, lines)
    path = directory / "importrapport.xlsx"
    workbook.save(path)
    written.append(path)
    return written


def _summary(sheet, report, source: Path | None) -> None:
    findings = report.findings
    rows = [
        ["Bestand", source.name if source else ""],
        ["Soort import", "proefimport (ronde 1, niets geschreven)" if report.dry_run else "import (geschreven)"],
        ["Ingevulde rijen", len(report.results)],
        ["Lege rijen overgeslagen", len(report.empty)],
        ["Rijen met fouten", report.error_rows],
        ["Rijen met mogelijke dubbels", sum(1 for r in report.results if r.candidates)],
        ["Waarschuwingen", sum(1 for f in findings if f.level == "waarschuwing")],
        *([["Rijen die een bestaande vereniging wijzigen", sum(1 for r in report.results
                                                              if any(f.level == "wijziging" for f in r.findings))]]
          if report.dry_run else []),
        [],
        ["Status", "Aantal rijen"],
        *[[status, count] for status, count in sorted(report.counts().items(), key=lambda kv: -kv[1])],
        [],
        ["Volgende stap", "Verbeter de fouten en beslis over de dubbels in de kolom 'Actie' van het "
                          "terugkoppelingsbestand; stuur dat bestand terug voor ronde 2."],
    ]
    for row in rows:
        _append(sheet, [_safe(cell) for cell in row])
    sheet["A1"].font = sheet[f"A{rows.index(['Status', 'Aantal rijen']) + 1}"].font = Font(bold=True)
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 60


def _sheet(sheet, header: list[str], lines: list[list]) -> None:
    sheet.append(header)
    for line in lines:
        _append(sheet, [_safe(cell) for cell in line])
    _dress(sheet, header, lines)


def _append(sheet, line: list) -> None:
    """A row of values: text starting with '=' is stored as text, never as a formula.

    The cells are made before the row is added: looking the row up afterwards (sheet.max_row) walks
    every cell of the sheet, which made a feedback workbook of 6,000 rows take minutes."""
    sheet.append([_xlsx_cell(sheet, value) for value in line])


def _xlsx_cell(sheet, value: object) -> object:
    """A workbook's text cell is never a formula: text that a CSV marks with an apostrophe ('+32 …) goes in as
    it was typed, without the mark."""
    if not isinstance(value, str):
        return value
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_STARTS:
        return text_cell(sheet, value[1:])
    return text_cell(sheet, value) if value.startswith(FORMULA_STARTS) else value


def _dress(sheet, header: list[str], lines: list[list], at: int = 1, last: int | None = None) -> None:
    """Frozen, bold header on row `at` with a filter down to row `last` (default: the lines below it); widths
    after the content (capped), long texts wrapped."""
    for index, name in enumerate(header, start=1):
        cell = sheet.cell(row=at, column=index)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        longest = max([len(str(name))] + [len(str(line[index - 1] or "")) for line in lines[:2000]
                                          if index - 1 < len(line)])
        width = WIDTHS.get(name, min(max(10, longest + 2), 40))
        sheet.column_dimensions[get_column_letter(index)].width = min(width, max(10, longest + 2)) \
            if name not in WIDTHS else width
        if name in ("Melding", "Oplossing", "Meldingen", "Kandidaten"):
            for row in sheet.iter_rows(min_row=at + 1, min_col=index, max_col=index):
                row[0].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = f"A{at + 1}"
    sheet.auto_filter.ref = f"A{at}:{get_column_letter(len(header))}{last or at + len(lines)}"


_safe = safe_cell  # text that a spreadsheet would run as a formula is written as text


class Feedback:
    """Streams the terugkoppeling workbook: the bestuur's rows as they were, plus status, messages,
    candidates, V-code and the decision column, so round 2 is the same file corrected."""

    def __init__(self, path: Path, header: list[str], feedback_names: list[str], above: list[tuple] = ()) -> None:
        self.path = path
        folded = {fold(name) for name in feedback_names}
        self.keep = [i for i, name in enumerate(header) if fold(name or "") not in folded]
        names = [header[i] for i in self.keep]
        self.actie = next((i for i, name in enumerate(names) if fold(name or "") in ("actie", "beslissing")), None)
        if self.actie is None:
            names.append("Actie")
        self.header = names + FEEDBACK
        self.workbook = Workbook()
        self.sheet = self.workbook.active
        self.sheet.title = "Verenigingen"
        for row in above:  # a title above the header stays: every row keeps its number in round 2
            _append(self.sheet, [_safe(row[i]) if i < len(row) else None for i in self.keep])
        self.header_row = len(above) + 1
        self.sheet.append(self.header)
        self.written = self.header_row  # rows in the sheet (counted: sheet.max_row walks every cell)
        self.lines: list[list] = []

    def add(self, result, link, column=lambda name: name, say=lambda text: text) -> None:
        cells = [result.cells[i] if i < len(result.cells) else None for i in self.keep]
        if self.actie is None:
            cells.append(result.actie or None)
        notes = "\n".join(f"[{f.level}] {column(f.column) + ': ' if f.column else ''}{say(f.message)} {say(f.fix)}"
                          .strip() for f in result.findings)
        candidates = "\n".join(f"{c.ref} {c.naam} ({c.adres}) {link(c.vcode)}".strip() for c in result.candidates)
        # the bestuur's own cells go back unchanged (as text cells, never formulas) so round 2 reads the same
        line = [*cells, result.status, _safe(notes), _safe(candidates), result.vcode or None]
        while self.written < result.row - 1:  # empty rows stay: every row keeps its number
            self.sheet.append([None])
            self.written += 1
        _append(self.sheet, line)
        self.written += 1
        if len(self.lines) < 2000:
            self.lines.append(line)

    def close(self) -> Path:
        _dress(self.sheet, self.header, self.lines, self.header_row, self.written)
        column = get_column_letter((self.actie if self.actie is not None else len(self.keep)) + 1)
        choice = DataValidation(type="list", formula1='"nieuw,bevestig-nieuw"', allow_blank=True,
                                showErrorMessage=False, promptTitle="Actie",
                                prompt="nieuw, bevestig-nieuw, of koppel:V0001030 (V-code van de bestaande "
                                       "vereniging)", showInputMessage=True)
        choice.add(f"{column}{self.header_row + 1}:{column}{self.written + 500}")
        self.sheet.add_data_validation(choice)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.workbook.save(self.path)
        return self.path
