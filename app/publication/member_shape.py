"""The `tree:shape` of the stream members: which nodes belong to a version.

A version snapshot gives every part its own IRI (`…/versie/3/locatie/1`), and an LDES client
extracts a member as the member's own triples (CBD) plus whatever the shape's `sh:node` links
lead to. So the shape nests every path from a version to a node of that version (and to the
activity and its agent): with it, `ldes-client` emits the whole version, exactly what
`/doc/vereniging/{vCode}/versie/{n}` answers. Nested shapes carry no `sh:minCount`, because a
client dereferences a node that misses a required path.
"""

from __future__ import annotations

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.domain import model
from app.domain.model import MODEL
from app.namespaces import (
    ADMS,
    DCTERMS,
    FV,
    GENERIEK,
    LOCN,
    ORG,
    PROV,
    RDF,
    REGORG,
    SCHEMA,
    SH,
    VRX,
    XSD,
)

_ADDRESS = {LOCN + "address": {}}
_SITE = {LOCN + "address": {}, ORG + "siteAddress": _ADDRESS}
# predicate → nested links of the node it reaches, for the nodes the mapping writes besides those the description of
# a vereniging names (nesting() adds those; test_the_member_shape_reaches_every_node_of_a_version checks the sum).
NESTING: dict[str, dict] = {
    PROV + "wasGeneratedBy": {PROV + "wasAssociatedWith": {}},
    ADMS + "identifier": {GENERIEK + "gestructureerdeIdentificator": {}},
    REGORG + "registration": {GENERIEK + "gestructureerdeIdentificator": {}},
    ORG + "resultedFrom": {},
    SCHEMA + "audience": {},
    ORG + "hasSite": _SITE,
    ORG + "hasPrimarySite": _SITE,
    SCHEMA + "contactPoint": {},
    FV + "heeftVertegenwoordiger": {SCHEMA + "contactPoint": {}, ORG + "heldBy": {}},
    ORG + "hasMembership": {ORG + "memberDuring": {}},
    FV + "heeftErkenning": {FV + "geldigheidsperiode": {}},
    VRX + "bankrekening": {},
}


def _from_model(fields: tuple[model.Field, ...]) -> dict[str, dict]:
    """The links to nodes the description of a vereniging gives (a field with its own node or an intermediate
    one): a node added to the description is in the shape without a second list to keep in step."""
    links: dict[str, dict] = {}
    for field in fields:
        if field.via is not None:
            links.setdefault(model.iri(field.via.predicate), {})
        if field.node is not None:
            _merge(links.setdefault(model.iri(field.node.predicate), {}), _from_model(field.fields))
    return links


def _merge(into: dict[str, dict], links: dict[str, dict]) -> dict[str, dict]:
    for path, inner in links.items():
        _merge(into.setdefault(path, {}), inner)
    return into


def nesting(description: model.Model = MODEL) -> dict[str, dict]:
    """Every path from a version to a node of it: the description's fields and parts, plus the nodes the
    mapping adds outside it (NESTING: the activity, identifiers, the addresses of sites)."""
    links = _merge({}, NESTING)
    _merge(links, _from_model(description.fields))
    for part in description.parts:
        _merge(links.setdefault(model.iri(part.link), {}), _from_model(part.fields))
    return links


def shape_triples(shape: BlankNode | NamedNode) -> list[Triple]:
    """The member shape: timestamp and version-of required, every part nested."""
    out = [Triple(shape, NamedNode(RDF + "type"), NamedNode(SH + "NodeShape"))]
    for index, path in enumerate((PROV + "generatedAtTime", DCTERMS + "isVersionOf")):
        prop = BlankNode(f"verplicht{index}")
        out += [Triple(shape, NamedNode(SH + "property"), prop), Triple(prop, NamedNode(SH + "path"), NamedNode(path)),
                Triple(prop, NamedNode(SH + "minCount"), Literal("1", datatype=NamedNode(XSD + "integer")))]
    return out + _nest(shape, nesting(), "deel")


def _nest(shape: BlankNode | NamedNode, links: dict[str, dict], name: str) -> list[Triple]:
    out = []
    for index, (path, inner) in enumerate(links.items()):
        prop, node = BlankNode(f"{name}{index}p"), BlankNode(f"{name}{index}")
        out += [Triple(shape, NamedNode(SH + "property"), prop),
                Triple(prop, NamedNode(SH + "path"), NamedNode(path)),
                Triple(prop, NamedNode(SH + "node"), node),
                Triple(node, NamedNode(RDF + "type"), NamedNode(SH + "NodeShape"))]
        out += _nest(node, inner, f"{name}{index}_")
    return out
