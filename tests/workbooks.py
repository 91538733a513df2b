"""Spreadsheets as a gemeente sends them, for the import tests and bench_import."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent


@cache
def flemish_places() -> list[tuple[str, str]]:
    """One (postcode, gemeente) per Flemish gemeente, from the reference data."""
    seen: dict[str, tuple[str, str]] = {}
    with (ROOT / "data" / "postcodes.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["code"][:4] in ("BE21", "BE22", "BE23", "BE24", "BE25") and row["gemeente"]:
                seen.setdefault(row["gemeente"], (row["postcode"], row["gemeente"]))
    return list(seen.values())


def write_csv(path: Path, rows: list[list[object]], header: list[str], encoding: str = "utf-8") -> Path:
    """A semicolon-separated file, as Excel in a Belgian locale saves it."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], header: list[str]) -> Path:
    """A workbook with the header on the first row of the first sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path
