"""Text that a spreadsheet would evaluate as a formula is written as text in every CSV/XLSX."""

from __future__ import annotations

import csv
import io

import pytest

from app.exchange.cells import safe_cell
from tests.conftest import Keys, valid_body

EVIL = '=HYPERLINK("http://evil.example/x","klik")'


@pytest.mark.parametrize("value, expected", [
    (EVIL, "'" + EVIL), ("+32 9 234 56 78", "'+32 9 234 56 78"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("Volleybalclub", "Volleybalclub"), ("a=b", "a=b"), (12, 12), (None, None),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_dumps_neutralise_formulas(client, post, keys):
    vcode = post(valid_body(korteNaam=EVIL)).get_json()["vCode"]
    for path, headers in (("/dumps/verenigingen.csv", {}),
                          ("/dumps/beheer/verenigingen.csv", Keys.auth(keys.reader))):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        row = next(r for r in rows if r["vCode"] == vcode)
        assert row["korteNaam"] == "'" + EVIL
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r.values() if cell)


def test_the_workbook_dump_holds_text_cells_a_spreadsheet_shows_as_written(client, post, keys):
    """The .xlsx download is for people: no formula, no apostrophe, no date made of '6-12', accents intact."""
    import openpyxl

    body = valid_body(korteNaam=EVIL, naam="Café De Smashers", doelgroep={"minimumleeftijd": 6, "maximumleeftijd": 12})
    vcode = post(body).get_json()["vCode"]
    for path, headers in (("/dumps/verenigingen.xlsx", {}),
                          ("/dumps/beheer/verenigingen.xlsx", Keys.auth(keys.reader))):
        response = client.get(path, headers=headers)
        assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        sheet = book["verenigingen"]
        header = [cell.value for cell in sheet[1]]
        row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == vcode)
        cells = dict(zip(header, row, strict=False))
        assert cells["korteNaam"].value == EVIL and cells["korteNaam"].data_type == "s"  # text, not a formula
        assert cells["doelgroep"].value == "6-12" and cells["naam"].value == "Café De Smashers"
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
        assert {r[0] for r in book["kolommen"].iter_rows(min_row=2, values_only=True)} == set(header)

