"""Generate mappings/vereniging.context.jsonld, the JSON-LD context of the API, from model.py.

Each field becomes a term named after its key (or its `term`), typed by its datatype; each
part is a property-scoped context under its collection's term. A term that several parts
define the same way (isPrimair, beschrijving, email, …) is defined once at the top. The file is
generated and committed so clients can read it; tests/test_model.py fails when it is stale.
Regenerate with:  python -m app.domain.context
"""

from __future__ import annotations

import json
from collections import Counter

from app import paths
from app.domain import codelists, model
from app.namespaces import CONCEPT, PREFIXES

TARGET = paths.MAPPINGS / "vereniging.context.jsonld"
CONTEXT_PREFIXES = ("fv", "org", "regorg", "organisatie", "m8g", "dcterms", "skos", "adms", "generiek", "schema",
                    "foaf", "locn", "adres", "person", "persoon", "prov", "rdfs", "rdf", "xsd", "vrx")
XSD_TYPES = {model.DATE: "xsd:date", model.DATETIME: "xsd:dateTime", model.DAY: "xsd:dateTime",
             model.ANY_URI: "xsd:anyURI"}


def _id(curie: str, terms: set[str]) -> str:
    """A compact IRI, unless its prefix is also a term in use (then `adres:x` would mean that term)."""
    prefix = curie.split(":", 1)[0]
    return model.iri(curie) if prefix in terms else curie


def term(f: model.Field, description: model.Model) -> dict:
    terms = _all_keys(description)
    definition: dict = {"@id": _id(f.predicate, terms)}
    if f.datatype == model.TEXT_NL:
        definition["@language"] = "nl"
    elif f.datatype in XSD_TYPES:
        definition["@type"] = XSD_TYPES[f.datatype]
    elif f.datatype in (model.IRI, model.VCODE, model.OVO):
        definition["@type"] = "@id"
    elif f.datatype == model.CODE:
        definition["@type"] = "@vocab"
    if f.many:
        definition["@container"] = "@set"
    if f.datatype == model.CODE:
        segment = codelists.SCHEMES[f.codelist]
        definition["@context"] = {"@vocab": f"{CONCEPT}{segment}/"}
    if f.datatype == model.OBJECT:
        definition["@context"] = {sub.name: term(sub, description) for sub in f.fields}
    return definition


def _all_keys(description: model.Model) -> set[str]:
    keys = {f.name for f in description.fields}
    for part in description.parts:
        keys |= {part.kind} | {f.name for f in _terms_of(part.fields)}
    return keys


def _terms_of(fields: tuple[model.Field, ...]) -> list[model.Field]:
    """The fields with a term of their own plus the period nodes their dates hang on."""
    found = []
    for f in fields:
        if f.via is not None and f.via.term:
            found.append(model.Field(f.via.term, f.via.predicate, model.OBJECT))
        found.append(f)
    return found


def build(description: model.Model = model.MODEL) -> dict:
    ctx: dict = {"@version": 1.1, **{p: PREFIXES[p] for p in CONTEXT_PREFIXES}, "id": "@id", "type": "@type"}
    ctx.update(model.CLASS_TERMS)
    for f in description.fields:
        ctx[f.name] = term(f, description)
    definitions = Counter()
    shared: dict[str, dict] = {}
    for part in description.parts:
        definitions.update({(f.name, json.dumps(_part_term(f, description), sort_keys=True))
                            for f in _terms_of(part.fields)})
    for (name, definition), count in definitions.items():
        if count > 1 and name not in ctx:
            shared[name] = json.loads(definition)
    for part in description.parts:
        scoped = {}
        for f in _terms_of(part.fields):
            if f.name not in scoped and shared.get(f.name) != _part_term(f, description):
                scoped[f.name] = _part_term(f, description)
        ctx[part.kind] = {"@id": part.link, "@container": "@set", "@context": scoped}
    ctx.update(sorted(shared.items()))
    return {"@context": ctx}


def _part_term(f: model.Field, description: model.Model) -> dict:
    if f.datatype == model.OBJECT and not f.fields:  # a period node: its dates are terms of their own
        return {"@id": f.predicate}
    return term(f, description)


def render(description: model.Model = model.MODEL) -> str:
    return json.dumps(build(description), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET}")
