"""Property-based attack on every write operation: no generated body may cause a server error.

Two generators, both bounded so CI stays fast:
- hypothesis: for each write operation of /openapi.json, a valid example body with one field
  replaced by a value of the wrong type, odd Unicode (lone surrogates, control characters,
  non-characters, other scripts' digits), a deeply nested structure or raw junk;
- schemathesis in negative mode: bodies, parameters and headers that violate the OpenAPI schema.
Every response must be < 500, and every 400 must be problem+json with a non-empty `errors` list.
"""

from __future__ import annotations

import json
import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from app.domain.model import MODEL
from tests.conftest import Keys, valid_body

EXAMPLES = {
    "Registratie": valid_body(),
    "KboRegistratie": {"kboNummer": "0202239951", "verenigingstype": "VZW", "naam": "Koninklijke Harmonie"},
    "Basisgegevens": {"korteNaam": "VC S", "doelgroep": {"minimumleeftijd": 10}, "hoofdactiviteiten": ["SPRT"]},
    "Stopzetting": {"einddatum": "2024-01-01"},
    "Verwijdering": {"reden": "dubbel ingevoerd"},
    "Locatie": valid_body()["locaties"][0],
    "Contactgegeven": valid_body()["contactgegevens"][0],
    "Vertegenwoordiger": {"insz": "90.02.01-997.04", "voornaam": "Jan", "achternaam": "Janssens", "isPrimair": False},
    "Lidmaatschap": {"andereVereniging": "V0001002", "van": "2020-01-01"},
    "Erkenning": {"ipdcProductNummer": "1234", "startdatum": "2020-01-01"},
    "Bankrekeningnummer": {"iban": "BE68 5390 0754 7034", "titularissen": ["Penningmeester"]},
    "ErkenningWijziging": {"einddatum": "2030-12-31", "redenVanWijziging": "verlengd"},
    "NieuwAbonnement": {"gemeenten": ["BE23444021"], "meldingtypes": ["nieuwe-vereniging"], "kanaal": "pull"},
    "Abonnementstatus": {"status": "gepauzeerd"},
    "Schorsing": {"redenSchorsing": "onderzoek", "tot": "2030-01-01"},
    "SchorsingCorrectie": {"redenSchorsing": "onderzoek naar klacht"},
    "InStopzetting": {"inStopzetting": True, "reden": "ontbinding", "datum": "2024-01-01"},
    "Validatie": {"document": "bankattest"},
    "Wissing": {"insz": "90.02.01-997.04", "reden": "verzoek 2026/17"},
    "Retentie": {"reden": "jaarlijkse opkuis"},
    "ImportOpdracht": {"soort": "verenigingen", "proef": "ja"},
}

ODD_TEXT = st.sampled_from([
    "\x00", "a\x07b", "\x1b[31m", "\ud800", "x\udfffy", "\ufffe", "\u202eevil", "０２０２２３９９５１", "٠١٢",
    "https://www.club.be/onze leden{}", "<b>vet</b>", "BE68-5390-0754-7034", "+1 202 555 0143", "V０００１００１",
    "https://evil.example/id/vereniging/V0001001", "9" * 40, "", " ", "a" * 6000, "Cafe\u0301", "\U0001f600",
    "2020-02-30", "２０２０-０１-０１", "null", "W/\"1\"",
])
TEXT = st.one_of(ODD_TEXT, st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF,
                                                 categories=None), max_size=30))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                    max_leaves=8)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


def _deep(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)


@st.composite
def hostile_body(draw, example: Any) -> str:
    """A JSON text: the valid example with one part replaced, or something else altogether."""
    shape = draw(st.sampled_from(["replace", "replace", "replace", "add", "deep", "junk", "any"]))
    if shape == "replace":
        path = draw(st.sampled_from(_paths(example)))
        return json.dumps(_replace(example, path, draw(JSON)))
    if shape == "add" and isinstance(example, dict):
        return json.dumps({**example, draw(TEXT): draw(JSON)})
    if shape == "deep":
        depth = draw(st.sampled_from([33, 100, 1000, 50_000]))
        nested = _deep(depth, draw(st.sampled_from(["list", "object"])))
        key = draw(st.sampled_from(sorted(example) if isinstance(example, dict) and example else ["naam"]))
        return draw(st.sampled_from([nested, json.dumps({key: "x"})[:-1].replace('"x"', nested) + "}"]))
    if shape == "junk":
        return draw(st.sampled_from(['{"naam": "a" "b"}', "{", "", "nul", '{"naam": NaN}', '{"a": 1, "a": 2}',
                                     "\ufeff{}", '{"naam": "\\ud800"}', "[]", "1e999", "9" * 5000]))
    return json.dumps(draw(JSON))


def _operations(client) -> list[tuple[str, str, str, str]]:
    """(method, path template, media type, example schema) for every operation that takes a body."""
    spec = client.get("/openapi.json").get_json()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if not body:
                continue
            media_type, content = next(iter(body["content"].items()))
            found.append((method.upper(), path, media_type, content["schema"]["$ref"].rsplit("/", 1)[-1]))
    return found


def _check(response, failures: list[str], label: str) -> None:
    if response.status_code >= 500:
        failures.append(f"{label} → {response.status_code} {response.get_data(as_text=True)[:200]}")
    elif response.status_code == 400:
        problem = response.get_json(silent=True) or {}
        if response.mimetype != "application/problem+json" or not problem.get("errors"):
            failures.append(f"{label} → 400 without errors: {response.get_data(as_text=True)[:200]}")


def test_hostile_bodies_never_cause_a_server_error(app, keys):
    client = app.test_client()
    auth = Keys.auth(keys.admin)
    for naam in ("Eerste vereniging", "Tweede club"):  # V0001001 and V0001002 exist, with items 1 and 2
        assert client.post("/verenigingen", json=valid_body(naam=naam), headers=auth).status_code == 201
    for kind in ("erkenningen", "bankrekeningnummers"):  # items the schorsing and validatie operations act on
        assert client.post(f"/verenigingen/V0001001/{kind}", json=EXAMPLES[MODEL.part(kind).schema],
                           headers=auth).status_code == 201
    operations = _operations(client)
    assert len(operations) >= 15
    failures: list[str] = []

    @given(data=st.data())
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def attack(data):
        method, template, media_type, schema = data.draw(st.sampled_from(operations))
        url = re.sub(r"\{vCode\}", data.draw(st.sampled_from(["V0001001", "V0001002", "V０００１００１"])), template)
        url = url.replace("{id}", str(data.draw(st.sampled_from([1, 2, 99]))))
        body = data.draw(hostile_body(EXAMPLES.get(schema, {})))  # a new operation is attacked from {}
        response = client.open(url, method=method, data=body.encode("utf-8", "surrogatepass"),
                               content_type=media_type, headers=auth)
        _check(response, failures, f"{method} {url} {body[:120]!r}")

    attack()
    assert failures == []


def test_schemathesis_negative_mode_finds_no_server_errors(app, keys):
    """Bodies, parameters and headers that break the OpenAPI schema, for every operation: no 5xx."""
    client = app.test_client()
    for naam in ("Eerste vereniging", "Tweede club"):
        client.post("/verenigingen", json=valid_body(naam=naam), headers=Keys.auth(keys.initiator))
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "GET":
            continue

        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            response = case.call(headers=Keys.auth(keys.admin))
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {case.as_curl_command()}\n{response.text[:300]}")

        run()
    assert failures == []
