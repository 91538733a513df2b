"""The RDF mapping: state → quads → state is lossless, and personal data lands only in the restricted graph."""

from __future__ import annotations

import copy
import json

import pyoxigraph

from app import paths
from app.domain import mapping, places, prebuilt, versions
from app.domain.parse import KINDS, parse_registration
from app.namespaces import GRAPH_PUBLIC, GRAPH_RESTRICTED
from tests.conftest import BASE, VALID_BODY


def state() -> dict:
    result = parse_registration(copy.deepcopy(VALID_BODY))
    for key in ("locaties", "contactgegevens", "vertegenwoordigers"):
        for index, item in enumerate(result[key], start=1):
            item["id"] = index
    return result


def normalise(value):
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return sorted((normalise(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def test_state_round_trips_through_rdf():
    original = state()
    public, restricted = mapping.state_to_quads(original, BASE, "V0001001")
    back = mapping.quads_to_state(public + restricted, f"{BASE}/id/vereniging/V0001001")
    assert normalise(back) == normalise(original)


def test_personal_data_is_only_in_the_restricted_graph():
    public, restricted = mapping.state_to_quads(state(), BASE, "V0001001")
    assert {q.graph_name.value for q in public} == {GRAPH_PUBLIC}
    assert {q.graph_name.value for q in restricted} == {GRAPH_RESTRICTED}
    public_text = " ".join(str(q) for q in public)
    for secret in ("85073003328", "Peeters", "an.peeters@example.be", "+32 470 12 34 56", "vertegenwoordiger"):
        assert secret not in public_text
    assert any("85073003328" in str(q) for q in restricted)


def test_no_blank_nodes_so_updates_can_delete_exact_data():
    public, restricted = mapping.state_to_quads(state(), BASE, "V0001001")
    for quad in public + restricted:
        assert type(quad.subject).__name__ == "NamedNode"
        assert type(quad.object).__name__ != "BlankNode"


def test_quads_moved_to_another_vcode_equal_quads_built_for_it():
    """register_batch builds a record's quads once, under a placeholder V-code, and moves them to the
    V-code the store hands out; user data that looks like a V-code stays as it is."""
    bodies = json.loads((paths.DATA / "demo" / "verenigingen.json").read_text(encoding="utf-8"))
    for body in [VALID_BODY, *bodies]:
        parsed = parse_registration(copy.deepcopy(body))
        for kind in KINDS:
            for index, item in enumerate(parsed[kind], start=1):
                item["id"] = index
        parsed["sleutels"] = [{"bron": "OVO000001", "waarde": "V9000003"}]
        parsed["naam"] = "V9000003"
        for built, real in zip(mapping.state_to_quads(parsed, BASE, "V9000003"),
                               mapping.state_to_quads(parsed, BASE, "V0001234"), strict=True):
            assert set(mapping.with_vcode(built, BASE, "V9000003", "V0001234")) == set(real)


def test_prebuilt_text_equals_the_quads_moved_to_the_vcode():
    """An import batch makes each record, its metadata and its first version as N-Quads text under a
    placeholder V-code and marks for the commit's sequence and time (prebuilt.py); moved at commit it
    holds exactly what the commit would build as Quads. With the placeholder or a mark in what the
    bestuur wrote there is no text form (the commit builds Quad objects)."""
    bodies = json.loads((paths.DATA / "demo" / "verenigingen.json").read_text(encoding="utf-8"))
    prov = versions.Provenance("registratie", versions.Initiator("OVO000001", "Gemeente"), "Import")
    when = "2026-12-01T03:00:00.123456Z"
    for body in [VALID_BODY, *bodies]:
        parsed = parse_registration(copy.deepcopy(body))
        for kind in KINDS:
            for index, item in enumerate(parsed[kind], start=1):
                item["id"] = index
        made = prebuilt.prebuild(parsed, BASE, "V9000003", *mapping.state_to_quads(parsed, BASE, "V9000003"), prov)
        assert made.fits(prov) and not made.fits(versions.Provenance("registratie", prov.initiator, "Anders"))
        public, restricted = mapping.state_to_quads(parsed, BASE, "V0001234")
        iri = mapping.vereniging_iri(BASE, "V0001234")
        public += mapping.metadata_quads(iri, when, when)
        expected = public + restricted + versions.version_quads(iri, 1, 7, when, prov, public, restricted,
                                                                places.concerned(parsed))  # as the commit builds them
        assert set(pyoxigraph.parse(made.moved("V0001234", 7, when), pyoxigraph.RdfFormat.N_QUADS)) == set(expected)
        assert made.public_state == mapping.quads_to_state(public, iri)  # what the search index reads
        for said in ("Zie ook V9000003.", f"Sinds {prebuilt.TIME_MARK}", str(prebuilt.SEQUENCE_MARK)):
            parsed["korteBeschrijving"] = said
            assert prebuilt.prebuild(parsed, BASE, "V9000003", *mapping.state_to_quads(parsed, BASE, "V9000003"),
                                     prov) is None
