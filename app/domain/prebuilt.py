"""A new vereniging's quads as N-Quads text: made once when its batch is checked, moved to its V-code at commit.

An import writes ~160 quads a row (the record and its version-1 snapshot). As pyoxigraph Quad
objects made in Python each costs ~3 µs, once to move the record from the placeholder V-code it
was validated under to the V-code the store hands out and once more to copy it into the version
snapshot, and the embedded store then serialises them all to text for its bulk loader. Here the
record is serialised once (in Rust), its snapshot is made by rewriting the record's IRIs and graph
names in that text, and the commit only replaces the placeholder V-code.

That equals mapping.with_vcode + versions.version_quads exactly when the placeholder occurs
nowhere in the bestuur's data: then every occurrence is the record's own IRI or own identifier.
Otherwise `prebuild` returns None and the commit moves Quad objects as before
(tests/test_mapping.py compares both ways).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph
from pyoxigraph import Quad

from app.domain import mapping, versions
from app.namespaces import GRAPH_PUBLIC, GRAPH_RESTRICTED, GRAPH_VERSIONS_PUBLIC, GRAPH_VERSIONS_RESTRICTED


@dataclass(frozen=True)
class Prebuilt:
    """The record's public quads, and its restricted quads plus both version-1 snapshots, for `placeholder`."""

    placeholder: str
    public: str
    rest: str

    def moved(self, vcode: str) -> tuple[str, str]:
        return self.public.replace(self.placeholder, vcode), self.rest.replace(self.placeholder, vcode)


def prebuild(state: dict, base: str, placeholder: str, public: list[Quad], restricted: list[Quad]) -> Prebuilt | None:
    """The text form of state_to_quads(state, base, placeholder) = (public, restricted) and its first
    version's snapshot; None if the placeholder also occurs in the bestuur's data (or the base)."""
    if placeholder in base or _mentions(state, placeholder):
        return None
    record = mapping.vereniging_iri(base, placeholder)
    version = versions.version_iri(record, 1)
    pub, res = _text(public), _text(restricted)
    return Prebuilt(placeholder, pub, res + _snapshot(pub, record, version, GRAPH_PUBLIC, GRAPH_VERSIONS_PUBLIC)
                    + _snapshot(res, record, version, GRAPH_RESTRICTED, GRAPH_VERSIONS_RESTRICTED))


def _text(quads: list[Quad]) -> str:
    return pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS).decode() if quads else ""


def _snapshot(text: str, record: str, version: str, graph: str, version_graph: str) -> str:
    """versions._snapshot on text: the record's IRIs moved below the version, into the version graph.

    `<record` starts only the record's own IRIs (the placeholder is in no literal); a graph name is
    the last term of a line and a literal's newline is escaped, so ` <graph> .\\n` ends lines only."""
    moved = text.replace(f"<{record}/", f"<{version}/").replace(f"<{record}>", f"<{version}>")
    return moved.replace(f" <{graph}> .\n", f" <{version_graph}> .\n")


def _mentions(value: object, text: str) -> bool:
    if isinstance(value, str):
        return text in value
    if isinstance(value, dict):
        return any(_mentions(v, text) for v in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_mentions(v, text) for v in value)
    return False
