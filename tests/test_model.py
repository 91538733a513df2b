"""One description of a vereniging (app/domain/model.py) drives parsing, mapping, context and OpenAPI.

The proof: a field added to a copy of the description is parsed, written to RDF, read back, in the
JSON-LD context and in the OpenAPI schemas, without touching any other code. The generated context
file must be up to date, and the hand-written SHACL shapes must constrain every described field.
"""

from __future__ import annotations

import copy
import json

import pytest
import rdflib
from pyld import jsonld

from app import paths
from app.domain import context, mapping, model
from app.domain.errors import Invalid
from app.domain.model import MODEL, Field
from app.domain.parse import parse_registration
from app.publication.openapi import schemas
from tests.conftest import BASE, VALID_BODY

VC = f"{BASE}/id/vereniging/V0001001"


def _numbered(state: dict) -> dict:
    for part in MODEL.parts:
        for index, item in enumerate(state[part.kind], start=1):
            item["id"] = index
    return state


@pytest.fixture
def extended() -> model.Model:
    """The description with two new fields: a motto on the vereniging and accessibility on a locatie."""
    motto = Field("motto", "vrx:motto", model.TEXT_NL, "motto", max_len=80)
    toegankelijk = Field("rolstoeltoegankelijk", "vrx:rolstoeltoegankelijk", model.BOOLEAN, "rolstoeltoegankelijk")
    return MODEL.with_field(motto).with_field(toegankelijk, kind="locaties")


def test_a_field_added_to_the_description_is_parsed_mapped_both_ways_in_context_and_openapi(extended):
    body = copy.deepcopy(VALID_BODY)
    body["motto"] = "Samen smashen"
    body["locaties"][0]["rolstoeltoegankelijk"] = True
    with pytest.raises(Invalid):  # the real description does not know the new fields
        parse_registration(copy.deepcopy(body))

    state = _numbered(parse_registration(body, extended))
    assert state["motto"] == "Samen smashen" and state["locaties"][0]["rolstoeltoegankelijk"] is True
    with pytest.raises(Invalid) as too_long:
        parse_registration(dict(body, motto="x" * 81), extended)
    assert [e.path for e in too_long.value.errors] == ["motto"]

    public, restricted = mapping.state_to_quads(state, BASE, "V0001001", extended)
    motto = [q for q in public if q.predicate.value == model.iri("vrx:motto")]
    assert [(q.subject.value, q.object.value, q.object.language) for q in motto] == [(VC, "Samen smashen", "nl")]
    assert any(q.predicate.value == model.iri("vrx:rolstoeltoegankelijk") and q.subject.value == f"{VC}/locatie/1"
               for q in public)
    assert mapping.quads_to_state(public + restricted, VC, extended) == state

    ctx = context.build(extended)["@context"]
    assert ctx["motto"] == {"@id": "vrx:motto", "@language": "nl"}
    assert ctx["locaties"]["@context"]["rolstoeltoegankelijk"] == {"@id": "vrx:rolstoeltoegankelijk"}
    expanded = jsonld.expand({"@context": ctx, "@id": VC, "motto": "Samen smashen"})
    assert expanded[0][model.iri("vrx:motto")] == [{"@value": "Samen smashen", "@language": "nl"}]

    api = schemas(extended)
    assert api["Registratie"]["properties"]["motto"] == {"type": "string", "minLength": 1, "maxLength": 80}
    assert api["Basisgegevens"]["properties"]["motto"]["nullable"] is True
    assert api["Locatie"]["properties"]["rolstoeltoegankelijk"] == {"type": "boolean"}
    assert extended.labels()["motto"] == "motto"
    assert "motto" not in schemas()["Registratie"]["properties"]  # the real description is untouched


def test_the_published_context_file_is_generated_from_the_description():
    stored = (paths.MAPPINGS / "vereniging.context.jsonld").read_text(encoding="utf-8")
    assert stored == context.render(), "stale: run  python -m app.domain.context"


def test_mapping_round_trips_every_part():
    state = _numbered(parse_registration(copy.deepcopy(VALID_BODY)))
    state["lidmaatschappen"] = [{"id": 1, "andereVereniging": "V0001002", "van": "2020-01-01", "tot": None,
                                 "identificatie": "L-1", "beschrijving": None}]
    state["erkenningen"] = [{"id": 1, "ipdcProductNummer": "1502", "ipdcProductNaam": "Erkenning",
                             "geregistreerdDoor": "OVO000001", "startdatum": "2020-01-01", "einddatum": None,
                             "hernieuwingsdatum": None, "hernieuwingsUrl": "https://example.be/hernieuw",
                             "status": "Actief", "schorsing": {"reden": "onderzoek", "van": "2025-01-01"}}]
    state["bankrekeningnummers"] = [{"id": 1, "iban": "BE71 0961 2345 6769", "doel": None, "titularissen": ["An"],
                                     "validaties": [{"door": "OVO000001", "tijdstip": "2025-01-01T10:00:00Z",
                                                     "document": "bankattest"}]}]
    state["locaties"][1]["bron"] = "KBO"
    public, restricted = mapping.state_to_quads(state, BASE, "V0001001")
    assert mapping.quads_to_state(public + restricted, VC) == state
    restricted_subjects = {q.subject.value for q in restricted}
    assert f"{VC}/vertegenwoordiger/1" in restricted_subjects and f"{VC}/bankrekeningnummer/1" in restricted_subjects
    assert not {q.subject.value for q in public} & {f"{VC}/vertegenwoordiger/1", f"{VC}/bankrekeningnummer/1"}


def _constrained_paths() -> set[str]:
    shapes = rdflib.Graph()
    for path in paths.SHAPES.glob("*.ttl"):
        shapes.parse(path)
    return {str(o) for o in shapes.objects(None, rdflib.URIRef("http://www.w3.org/ns/shacl#path"))}


def _described(fields: tuple[Field, ...], where: str):
    for f in fields:
        if f.derived:
            continue
        yield where + "." + f.key, f.iri
        if f.via is not None:
            yield where + "." + f.key + " (periode)", model.iri(f.via.predicate)
        if f.datatype == model.OBJECT:
            yield from _described(f.fields, where + "." + f.key)


def test_every_described_field_is_constrained_by_a_hand_written_shape():
    constrained = _constrained_paths()
    described = list(_described(MODEL.fields, "vereniging"))
    for part in MODEL.parts:
        described.append((part.kind, model.iri(part.link)))
        described += _described(part.fields, part.kind)
    assert [where for where, predicate in described if predicate not in constrained] == []


def test_the_context_means_what_the_mapping_writes(client, post, keys):
    """The record as JSON-LD (compacted with the generated context) is the same graph as the mapping's quads."""
    vcode = post(VALID_BODY).get_json()["vCode"]
    doc = json.loads(client.get(f"/doc/vereniging/{vcode}.jsonld").data)
    assert doc["naam"] == VALID_BODY["naam"] and doc["locaties"][0]["adres"]["straatnaam"] == "Driepikkelstraat"
    assert {c["contactgegeventype"] for c in doc["contactgegevens"]} == {"E-mail", "Telefoon", "Website",
                                                                          "SocialMedia"}
    for kind in ("locaties", "contactgegevens"):  # every predicate the mapping writes has a term
        assert [key for item in doc[kind] for key in item if ":" in key] == [], kind
