"""Streaming exports of the whole register: N-Quads, Turtle, JSON-LD, CSV and a workbook (.xlsx).

One record at a time is read and written, so memory stays bounded however large the register
is. Public exports read the public graph only; restricted exports (for initiators) add the
restricted graph. Removed verenigingen are simply absent (their data is gone).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pyoxigraph
from pyoxigraph import Triple

from app.domain import mapping, places
from app.domain.model import MODEL
from app.exchange import export_workbook as workbook
from app.exchange.cells import safe_cell
from app.namespaces import PREFIXES
from app.publication import jsonld, negotiation
from app.store import RegisterStore
from app.store.audience import Audience

# dump formats: RDF for programs, CSV for programs and tools, a workbook for people with a spreadsheet
FORMATS = {key: negotiation.FORMATS[key].media_type for key in ("nq", "ttl", "jsonld", "csv", "xlsx")}
EXPORTED = [f for f in MODEL.fields if f.export and not f.derived]
SUMMARISED = [p for p in MODEL.parts if p.summary]
PLACES_AND_CONTACTS = ["postcodes", "gemeenten", "gemeentecodes", "e-mail", "telefoon", "website"]
PUBLIC_COLUMNS = ["vCode", *(f.key for f in EXPORTED if not f.restricted), *PLACES_AND_CONTACTS]
RESTRICTED_COLUMNS = [*(f.key for f in EXPORTED if f.restricted), *(p.kind for p in SUMMARISED if p.restricted)]


def verenigingen(store: RegisterStore) -> Iterator[str]:
    """IRIs of all current verenigingen (from the public graph, where every one has its type)."""
    return store.record_iris()


def stream(store: RegisterStore, fmt: str, audience: Audience, context_url: str) -> Iterator[bytes]:
    """The export, chunk by chunk. The records are read (and a restricted read audited by the store)
    before the first chunk: a caller that takes the first chunk before answering never answers
    unaudited."""
    restricted = audience.restricted
    rows = store.records(audience)
    if fmt == "nq":
        for _, quads in rows:
            yield pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS)
    elif fmt == "ttl":
        yield "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items()).encode()
        for _, quads in rows:
            triples = [Triple(q.subject, q.predicate, q.object) for q in quads]
            text = pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.TURTLE, prefixes=PREFIXES)
            yield b"\n" + b"\n".join(line for line in text.splitlines() if not line.startswith(b"@prefix")) + b"\n"
    elif fmt == "jsonld":
        yield json.dumps({"@context": context_url})[:-1].encode() + b', "@graph": ['
        for index, (iri, quads) in enumerate(rows):
            doc = jsonld.compact_record(quads, iri, context_url)
            doc.pop("@context", None)
            yield (b"," if index else b"") + b"\n" + json.dumps(doc, ensure_ascii=False).encode()
        yield b"\n]}\n"
    elif fmt == "csv":
        columns = PUBLIC_COLUMNS + (RESTRICTED_COLUMNS if restricted else [])
        yield _csv_line(columns)
        for iri, quads in rows:
            yield _csv_line(_row(mapping.quads_to_state(quads, iri), iri, restricted))
    elif fmt == "xlsx":
        columns = PUBLIC_COLUMNS + (RESTRICTED_COLUMNS if restricted else [])
        yield from workbook.chunks(columns, (_row(mapping.quads_to_state(quads, iri), iri, restricted)
                                             for iri, quads in rows))
    else:
        raise ValueError(fmt)


def _csv_line(values: list) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([safe_cell(value) for value in values])
    return buffer.getvalue().encode("utf-8")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "-".join(str(v) for v in value.values())
    return str(value)


def _row(state: dict, iri: str, restricted: bool) -> list[str]:
    """One CSV row: the described fields, then where it is and how to reach it (public), then the rest."""
    def contact(kind: str) -> str:
        return " | ".join(c["waarde"] for c in state["contactgegevens"] if c["contactgegeventype"] == kind)

    adressen = [loc["adres"] for loc in state["locaties"] if loc.get("adres")]
    row = [iri.rsplit("/", 1)[-1], *(_cell(state[f.key]) for f in EXPORTED if not f.restricted),
           " ".join(sorted({a["postcode"] for a in adressen})), " | ".join(sorted({a["gemeente"] for a in adressen})),
           " ".join(sorted(places.gemeenten(state))), contact("E-mail"), contact("Telefoon"), contact("Website")]
    if restricted:
        row += [_cell(state[f.key]) for f in EXPORTED if f.restricted]
        row += [" | ".join(p.summary.format(**item) for item in state[p.kind]) for p in SUMMARISED if p.restricted]
    return row
