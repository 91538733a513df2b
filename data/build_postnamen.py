"""Build data/postnamen.csv: the place name (deelgemeente) bpost uses for each Belgian postcode.

    python data/build_postnamen.py <postcodes.json of the PyPI package countrystatecity-postal-codes>

Input: `countrystatecity_postal_codes/data/by-country/BE/postcodes.json` (ODbL 1.0, one locality name per
postcode, e.g. 9041 Oostakker). Only postcodes of data/postcodes.csv are kept. The import uses the
names to accept a deelgemeente where the gemeente is asked ("9041 Oostakker" is in Gent).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main(source: Path) -> None:
    with (ROOT / "postcodes.csv").open(encoding="utf-8") as handle:
        known = {row["postcode"] for row in csv.DictReader(handle)}
    names = {row["code"]: row["localityName"] for row in json.loads(source.read_text(encoding="utf-8"))
             if row.get("countryCode") == "BE" and row["code"] in known}
    with (ROOT / "postnamen.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["postcode", "postnaam"])
        writer.writerows(sorted(names.items()))
    print(f"{len(names)} postnamen; zonder naam: {' '.join(sorted(known - set(names)))}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
