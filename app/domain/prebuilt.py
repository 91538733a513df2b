"""A new vereniging's quads as N-Quads text: made once when its batch is checked, moved to its V-code at commit.

An import writes ~160 quads a row (the record and its version-1 snapshot). As pyoxigraph Quad
objects made in Python each costs ~3 µs, once to move the record from the placeholder V-code it
was validated under to the V-code the store hands out and once more to copy it into the version
snapshot, and the embedded store then serialises them all to text for its bulk loader. Here the
record is serialised once (in Rust), its snapshot is made by rewriting the record's IRIs and graph
names in that text, and the commit only replaces the placeholder V-code.

What depends on the commit (the sequence number and timestamp the store hands out: the record's
created/modified, the version's header with its provenance, and their snapshot) is made the same
way with marks in their place, replaced at commit. The search index gets the record's public state
(made here too) instead of parsing the text back.

That equals mapping.with_vcode + versions.version_quads exactly when neither the placeholder nor a
mark occurs in the bestuur's data, the reason or the initiator's name: then every occurrence is the
record's own IRI, own identifier, sequence or time. Otherwise `prebuild` returns None and the
commit builds Quad objects as before (tests/test_mapping.py compares both ways).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph
from pyoxigraph import Quad

from app.domain import mapping, places, versions
from app.namespaces import GRAPH_PUBLIC, GRAPH_RESTRICTED, GRAPH_VERSIONS_PUBLIC, GRAPH_VERSIONS_RESTRICTED

SEQUENCE_MARK = 8_765_432_109_876_543  # stands for the sequence number until the commit
TIME_MARK = "tijdstip-bij-commit-5f1c"  # stands for the commit's timestamp


@dataclass(frozen=True)
class PublicState:
    """What the search index reads from a record: its public state and when it was created."""

    state: dict
    created: str


@dataclass(frozen=True)
class Prebuilt:
    """A new record's quads as text for `placeholder` and the marks, made for provenance `made_for`."""

    placeholder: str
    text: str  # public and restricted state, their version-1 snapshot, metadata and version header
    public_state: dict
    made_for: tuple[str, str, str | None]  # (activity, initiator IRI and name, reason) of the header

    def fits(self, prov: versions.Provenance) -> bool:
        return self.made_for == _provenance(prov)

    def moved(self, vcode: str, sequence: int, timestamp: str) -> str:
        return self.text.replace(self.placeholder, vcode).replace(str(SEQUENCE_MARK), str(sequence)) \
            .replace(TIME_MARK, timestamp)


def prebuild(state: dict, base: str, placeholder: str, public: list[Quad], restricted: list[Quad],
             prov: versions.Provenance) -> Prebuilt | None:
    """The text of what a registration writes besides its bookkeeping: state_to_quads(state, base,
    placeholder) = (public, restricted), the metadata and the first version (header and snapshot);
    None if the placeholder or a mark also occurs in what the bestuur wrote (or the base)."""
    # repr keeps a mark's characters (letters, digits, '-') as they are, so a mark in any value is in
    # it; one it has elsewhere only sends this record the slower way (a tenth of the cost of a walk)
    said = repr((state, prov.reason, prov.initiator.naam, prov.initiator.iri, base))
    if any(mark in said for mark in (placeholder, str(SEQUENCE_MARK), TIME_MARK)):
        return None
    record = mapping.vereniging_iri(base, placeholder)
    version = versions.version_iri(record, 1)
    meta = mapping.metadata_quads(record, TIME_MARK, TIME_MARK)
    pub, res, dated = _text(public), _text(restricted), _text(meta)
    header = versions.version_quads(record, 1, SEQUENCE_MARK, TIME_MARK, prov, [], [], places.concerned(state))
    text = pub + dated + res + _snapshot(pub + dated, record, version, GRAPH_PUBLIC, GRAPH_VERSIONS_PUBLIC) \
        + _snapshot(res, record, version, GRAPH_RESTRICTED, GRAPH_VERSIONS_RESTRICTED) + _text(header)
    return Prebuilt(placeholder, text, mapping.quads_to_state(public, record), _provenance(prov))


def _provenance(prov: versions.Provenance) -> tuple[str, str, str | None]:
    return prov.activity, f"{prov.initiator.iri} {prov.initiator.naam}", prov.reason


def _text(quads: list[Quad]) -> str:
    return pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS).decode() if quads else ""


def _snapshot(text: str, record: str, version: str, graph: str, version_graph: str) -> str:
    """versions._snapshot on text: the record's IRIs moved below the version, into the version graph.

    `<record` starts only the record's own IRIs (the placeholder is in no literal); a graph name is
    the last term of a line and a literal's newline is escaped, so ` <graph> .\\n` ends lines only."""
    moved = text.replace(f"<{record}/", f"<{version}/").replace(f"<{record}>", f"<{version}>")
    return moved.replace(f" <{graph}> .\n", f" <{version_graph}> .\n")

