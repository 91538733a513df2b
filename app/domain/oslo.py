"""What the OSLO "Feitelijke Verenigingen" application profile asks beyond the register's own mapping.

Applied to the quads of every state (so the store, the versions, the streams, SPARQL and the
dumps all carry it), and kept apart so the mapping itself stays one description of the record:
- a vertegenwoordiger has exactly one `org:role`, a concept of the published `rollen` list
  (the free-text `vrx:rol` stays next to it);
- a locatie reaches its address along the profile's path `org:siteAddress` → contact node (a
  `schema:ContactPoint`, as the profile's Contactinfo) → `locn:address` (the direct `locn:address` stays
  for readers that use it). The register's own contactgegeven shape targets the objects of
  `schema:contactPoint`, not the class, so the type is stored with the data: the dumps and SPARQL carry it
  as /doc does (records written before keep getting it from app/publication/vocab.py on /doc only);
- a website is `foaf:page` typed `xsd:anyURI`, as the profile types it, and also `schema:url`
  as a link a client can follow.
Deviations that are defects of the profile itself are listed in docs/oslo-profiel.md.
"""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad

from app.namespaces import CONCEPT, FOAF, LOCN, ORG, ORGANISATIE, RDF, SCHEMA, VRX, XSD

ROLES = {"voorzitter": "voorzitter", "ondervoorzitter": "ondervoorzitter", "secretaris": "secretaris",
         "penningmeester": "penningmeester", "bestuurslid": "bestuurslid"}
DEFAULT_ROLE = "vertegenwoordiger"
A = NamedNode(RDF + "type")


def role_concept(rol: str | None) -> NamedNode:
    """The rollen concept for a free-text role; any other text is a plain vertegenwoordiger."""
    key = (rol or "").strip().casefold()
    return NamedNode(f"{CONCEPT}rol/{ROLES.get(key, DEFAULT_ROLE)}")


def complete(quads: list[Quad]) -> list[Quad]:
    """The quads plus what the profile adds; nothing is removed except the untyped website IRI."""
    out: list[Quad] = []
    roles: dict[NamedNode, tuple[str | None, object]] = {}
    for quad in quads:
        predicate = quad.predicate.value
        if predicate == FOAF + "page" and "/contactgegeven/" in quad.subject.value:
            out += [Quad(quad.subject, quad.predicate, Literal(quad.object.value, datatype=NamedNode(XSD + "anyURI")),
                         quad.graph_name),
                    Quad(quad.subject, NamedNode(SCHEMA + "url"), quad.object, quad.graph_name)]
            continue
        out.append(quad)
        if predicate == LOCN + "address" and "/locatie/" in quad.subject.value:
            contact = NamedNode(quad.subject.value + "/vestigingsadres")
            out += [Quad(quad.subject, NamedNode(ORG + "siteAddress"), contact, quad.graph_name),
                    Quad(contact, A, NamedNode(SCHEMA + "ContactPoint"), quad.graph_name),
                    Quad(contact, quad.predicate, quad.object, quad.graph_name)]
        elif predicate == RDF + "type" and quad.object.value == ORGANISATIE + "Hoedanigheid":
            roles.setdefault(quad.subject, (None, quad.graph_name))
        elif predicate == VRX + "rol":
            roles[quad.subject] = (quad.object.value, quad.graph_name)
    out += [Quad(agent, NamedNode(ORG + "role"), role_concept(rol), graph) for agent, (rol, graph) in roles.items()]
    return out
