"""LDES pages and DCAT descriptions as HTML, for a person who opens a stream's link in a browser.

A browser asks for text/html first; without this it got the stream's first format (N-Quads) as a
download. Harvesters ask for an RDF format and never get this page. A page of members lists each
member (its version, vereniging, name and moment) rather than every triple, with the relations to the
next pages as links; any other description (the stream's entry point, the DCAT catalog) is shown as
its triples grouped by subject. Links stay on this register where an IRI is one of ours.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app, render_template, request
from pyoxigraph import BlankNode, NamedNode, Triple

from app.domain import codelists
from app.namespaces import DCTERMS, PREFIXES, PROV, RDF, SKOS
from app.publication import negotiation

TREE = "https://w3id.org/tree#"
AS = "https://www.w3.org/ns/activitystreams#"
RELATIONS = {"GreaterThanOrEqualToRelation": "vanaf", "LessThanRelation": "tot (niet inbegrepen)",
             "EqualToRelation": "gelijk aan", "GreaterThanRelation": "na", "LessThanOrEqualToRelation": "tot en met"}


@dataclass
class Member:
    version: str
    vereniging: str = ""
    label: str = ""
    moment: str = ""
    tombstone: bool = False


@dataclass
class Relation:
    kind: str
    node: str
    value: str


@dataclass
class View:
    members: list[Member] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    described: dict[str, list[tuple[str, object]]] = field(default_factory=dict)


def render(triples: list[Triple], offered: tuple[str, ...]) -> bytes:
    view = _view(triples)
    formats = [negotiation.FORMATS[key] for key in offered if key != "html"]
    title = "Wijzigingsstroom" if "/ldes/" in request.path and request.path != "/ldes" else "Catalogus"
    html = render_template("stroom.html", view=view, title=title, formats=formats, prefixes=PREFIXES,
                           path=request.path, local=_local)
    return html.encode("utf-8")


def _view(triples: list[Triple]) -> View:
    about: dict[object, list[Triple]] = defaultdict(list)
    for triple in triples:
        about[triple.subject].append(triple)
    members = [t.object for t in triples if t.predicate.value == TREE + "member"]
    inside = _reachable(members, about)
    view = View(members=[_member(version, about) for version in members])
    relations = {t.object for t in triples if t.predicate.value == TREE + "relation"}
    view.relations = [_relation(node, about) for node in relations]
    view.relations.sort(key=lambda r: (r.node, r.kind))
    hidden = inside | relations | _shape_nodes(triples, about)
    for subject, own in about.items():
        if subject in hidden or not isinstance(subject, NamedNode):
            continue
        rows = [(t.predicate.value, t.object) for t in own
                if t.predicate.value not in (TREE + "member", TREE + "relation", TREE + "shape")]
        if rows:
            view.described[subject.value] = sorted(rows, key=lambda row: (row[0], str(row[1])))
    return view


def _reachable(roots: list, about: dict) -> set:
    """The members and every node below them: shown as one line per member, not as triples."""
    seen, todo = set(), list(roots)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo += [t.object for t in about.get(node, ()) if isinstance(t.object, (NamedNode, BlankNode))
                 and t.object in about and t.predicate.value != DCTERMS + "isVersionOf"]
    return seen


def _shape_nodes(triples: list[Triple], about: dict) -> set:
    return _reachable([t.object for t in triples if t.predicate.value == TREE + "shape"], about)


def _member(version, about: dict) -> Member:
    member = Member(version.value)
    for t in about.get(version, ()):
        predicate = t.predicate.value
        if predicate == DCTERMS + "isVersionOf":
            member.vereniging = t.object.value
        elif predicate == SKOS + "prefLabel":
            member.label = t.object.value
        elif predicate == PROV + "generatedAtTime":
            member.moment = t.object.value
        elif predicate == RDF + "type" and t.object.value == AS + "Tombstone":
            member.tombstone = True
    return member


def _relation(node, about: dict) -> Relation:
    values = {t.predicate.value: t.object for t in about.get(node, ())}
    kind = values.get(RDF + "type")
    local = kind.value.removeprefix(TREE) if kind is not None else ""
    target = values.get(TREE + "node")
    value = values.get(TREE + "value")
    shown = value.value if value is not None else ""
    if isinstance(value, NamedNode) and (concept := codelists.concept_by_iri(value.value)) is not None:
        shown = concept.label  # a gemeente's name rather than its werkingsgebied IRI
    return Relation(RELATIONS.get(local, local), target.value if target is not None else "", shown)


def _local(iri: str) -> str:
    """A link for an IRI: ours as a path on this server (so it works behind any host name), others as they are."""
    base = request.host_url.rstrip("/")
    ours = current_app.extensions["vr"].settings.base
    for prefix in (ours, base):
        if iri.startswith(prefix + "/"):
            return iri[len(prefix):]
    return iri
