"""Where a vereniging is: the gemeenten (werkingsgebied codes) of its locaties' postcodes."""

from __future__ import annotations

import csv
from functools import cache

from app import paths


@cache
def postcode_table() -> dict[str, str]:
    """Postcode → NUTS3+LAU gemeente code (data/postcodes.csv, from the official reference table)."""
    with (paths.DATA / "postcodes.csv").open(encoding="utf-8") as handle:
        return {row["postcode"]: row["code"] for row in csv.DictReader(handle)}


def gemeenten(state: dict | None) -> set[str]:
    if not state:
        return set()
    table = postcode_table()
    return {table[loc["adres"]["postcode"]] for loc in state["locaties"]
            if loc.get("adres") and loc["adres"]["postcode"] in table}
