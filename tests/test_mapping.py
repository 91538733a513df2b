"""The RDF mapping: state → quads → state is lossless, and personal data lands only in the restricted graph."""

from __future__ import annotations

import copy
import json

from app.domain import mapping
from app.domain.parse import parse_registration
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
