"""SHACL results in the API's words: field path and a Dutch message, never an RDF path.

A SHACL result names a focus node (an IRI under the record, `…/V0001001/contactgegeven/5`) and a
predicate (`schema:telephone`). The client sent `contactgegevens[4].waarde`. The node IRIs follow
mapping.py's fixed layout; the predicate → field names come from the register's JSON-LD context
(the same table that reads and writes bodies), plus the few predicates the context does not name.
Item ids become list positions: items are listed in id order, as the record's representations do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache

from app import paths

# IRI segment of an item → the body's collection key.
COLLECTIONS = {"locatie": "locaties", "contactgegeven": "contactgegevens", "vertegenwoordiger": "vertegenwoordigers",
               "lidmaatschap": "lidmaatschappen", "erkenning": "erkenningen",
               "bankrekeningnummer": "bankrekeningnummers"}
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_SCHEMA, _FOAF, _VRX = "http://schema.org/", "http://xmlns.com/foaf/0.1/", "https://w3id.org/verenigingsregister/ns#"
_M8G, _REGORG, _ORG, _FV = ("http://data.europa.eu/m8g/", "http://www.w3.org/ns/regorg#", "http://www.w3.org/ns/org#",
                            "https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#")
# Predicates the context does not name (derived or typed copies of a field).
EXTRA = {
    "": {_REGORG + "legalName": "naam", _ORG + "hasPrimarySite": "locaties", _FV + "bankrekeningnummer":
         "bankrekeningnummers", _RDF + "type": "verenigingstype"},
    "contactgegevens": {_SCHEMA + "telephone": "waarde", _SCHEMA + "email": "waarde", _FOAF + "page": "waarde",
                        _VRX + "socialMedia": "waarde", _RDF + "value": "waarde"},
    # any item: the context's top-level terms that items share (dcterms:description is `beschrijving` there)
    "*": {"http://purl.org/dc/terms/description": "beschrijving", _VRX + "isPrimair": "isPrimair"},
    "lidmaatschappen.periode": {_M8G + "startTime": "van", _M8G + "endTime": "tot"},
    "erkenningen.periode": {_M8G + "startTime": "startdatum", _M8G + "endTime": "einddatum"},
}
# Sub-nodes whose fields belong to their parent in the body (a period is `van`/`tot` on the item).
FLATTENED = {"periode", "oprichting"}
# Node segments whose body term differs (the term names the collection, the segment one node of it).
RENAMED = {"stopzetting": "stopzettingsmelding", "validatie": "validaties"}
KEYED = {"validatie"}  # …/validatie/{OVO-code}
_ITEM = re.compile(r"^(?P<segment>[a-z]+)/(?P<id>[0-9]+)(?:/(?P<rest>.*))?$")


def _expand(term: str, prefixes: dict[str, str]) -> str:
    prefix, _, local = term.partition(":")
    return prefixes[prefix] + local if prefix in prefixes and not local.startswith("//") else term


@cache
def field_names() -> dict[str, dict[str, str]]:
    """{scope: {predicate IRI: field name}}; scope '' is the vereniging, 'locaties.adres' a nested node."""
    ctx = json.loads((paths.MAPPINGS / "vereniging.context.jsonld").read_text(encoding="utf-8"))["@context"]
    prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("#", "/"))}
    tables: dict[str, dict[str, str]] = {}

    def walk(scope_ctx: dict, scope: str) -> None:
        table = tables.setdefault(scope, {})
        for term, value in scope_ctx.items():
            iri = value.get("@id") if isinstance(value, dict) else value
            if term.startswith("@") or not isinstance(iri, str) or (isinstance(value, str) and term in prefixes):
                continue
            table.setdefault(_expand(iri, prefixes), term)
            if isinstance(value, dict) and isinstance(value.get("@context"), dict) and "@vocab" not in value[
                    "@context"]:
                walk(value["@context"], f"{scope}.{term}" if scope else term)

    walk(ctx, "")
    for scope, extra in EXTRA.items():
        tables.setdefault(scope, {}).update(extra)
    return tables


def _name(scope: str, predicate: str | None) -> str | None:
    if predicate is None:
        return None
    tables = field_names()
    for candidate in (scope, scope.split(".", 1)[0], "*" if scope else ""):
        if predicate in tables.get(candidate, {}):
            return tables[candidate][predicate]
    return tables[""].get(predicate)  # terms defined once at the top (isPrimair, beschrijving, email …)


def item_positions(subjects: Iterable[str], root: str) -> dict[tuple[str, int], int]:
    """(segment, id) → position of that item in its list, from the record's own node IRIs."""
    ids: dict[str, set[int]] = {}
    for subject in subjects:
        if subject.startswith(root + "/"):
            match = _ITEM.match(subject[len(root) + 1:])
            if match and match["segment"] in COLLECTIONS:
                ids.setdefault(match["segment"], set()).add(int(match["id"]))
    return {(segment, item): index for segment, found in ids.items() for index, item in enumerate(sorted(found))}


def api_path(focus: str, predicate: str | None, root: str, positions: dict[tuple[str, int], int]) -> str:
    """The body path of the field a SHACL result is about, e.g. `contactgegevens[4].waarde`."""
    relative = focus[len(root):].lstrip("/") if focus.startswith(root) else None
    if relative is None:
        return "vereniging"
    parts: list[str] = []
    scope = ""
    match = _ITEM.match(relative)
    if match:
        kind = COLLECTIONS.get(match["segment"], match["segment"])
        parts.append(f"{kind}[{positions.get((match['segment'], int(match['id'])), int(match['id']) - 1)}]")
        scope, relative = kind, match["rest"] or ""
    if relative == "oprichting":
        return ".".join(parts + ["startdatum"])
    if relative.startswith("identificator"):
        return ".".join(parts + ["kboNummer" if relative.endswith("/kbo") else "sleutels"])
    segments = [s for s in relative.split("/") if s]
    while segments:
        segment = segments.pop(0)
        name = RENAMED.get(segment, segment)
        scope = f"{scope}.{name}" if scope else name
        if segment in KEYED and segments:  # one of many nested nodes: `validaties[OVO000001]`
            parts.append(f"{name}[{segments.pop(0)}]")
        elif segment not in FLATTENED:
            parts.append(name)
    field = _name(scope, predicate)
    if field is not None:
        parts.append(field)
    return ".".join(parts) or "vereniging"


_COMPONENT_MESSAGES = {
    "MinCountConstraintComponent": "'{field}' is verplicht.",
    "MaxCountConstraintComponent": "'{field}' mag maar één waarde hebben.",
    "DatatypeConstraintComponent": "'{field}' heeft niet het verwachte type.",
    "PatternConstraintComponent": "'{field}' heeft niet het verwachte formaat.",
    "MaxLengthConstraintComponent": "'{field}' is te lang.",
    "MinLengthConstraintComponent": "'{field}' is te kort.",
    "InConstraintComponent": "'{field}' is geen gekende code.",
    "ClassConstraintComponent": "'{field}' verwijst niet naar het verwachte soort gegeven.",
    "NodeKindConstraintComponent": "'{field}' moet een IRI (webadres) zijn.",
}


def message(shape_message: str | None, component: str | None, path: str) -> str:
    """The shape's own Dutch sh:message, or one made from the kind of constraint that failed."""
    if shape_message:
        return shape_message
    field = path.rsplit(".", 1)[-1] or "vereniging"
    local = (component or "").rsplit("#", 1)[-1]
    return _COMPONENT_MESSAGES.get(local, "'{field}' voldoet niet aan de regels van het register.").format(
        field=field)
