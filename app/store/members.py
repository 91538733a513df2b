"""Reads of version members (LDES members, version documents) and the IRIs they describe.

A member is the version IRI, every node below it (the snapshot's parts and its activity) and
the agent of the activity: exactly what a client replicating the stream receives and what
`/doc/vereniging/{vCode}/versie/{n}` answers. Each read is one store round trip, scoped by an
audience.
"""

from __future__ import annotations

from pyoxigraph import NamedNode, Quad, Triple

from app.namespaces import GRAPH_VERSIONS_PUBLIC
from app.store.audience import Audience
from app.store.base import RegisterStore

G_VPUB = NamedNode(GRAPH_VERSIONS_PUBLIC)
SKOS_PREFLABEL = NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")


def member_triples(store: RegisterStore, version: NamedNode, audience: Audience) -> list[Triple]:
    """The version, its snapshot nodes, its activity and the activity's agent, as plain triples."""
    return store.members([version.value], audience).get(version.value, [])


def version_at(store: RegisterStore, sequence: int) -> NamedNode | None:
    return store.version_at(sequence)


def describes(store: RegisterStore, iri: str, audience: Audience) -> bool:
    """Whether any graph the audience may read says something about this IRI (from a request path: a text
    that is no IRI, such as '…/x> ?p ?o } #', is about nothing, and never reaches a store or its queries)."""
    try:
        NamedNode(iri)
    except ValueError:
        return False
    return store.describes(iri, audience)


def agent_label(store: RegisterStore, agent: str) -> str | None:
    """The name an organisation was recorded with when it acted on the register (from the versions)."""
    for quad in store.quads(NamedNode(agent), SKOS_PREFLABEL, None, G_VPUB):
        return quad.object.value
    return None


def about(store: RegisterStore, subject: NamedNode, predicate: str | None = None) -> list[Quad]:
    """What the public version graph says about one node (a version header, an activity, an agent)."""
    return store.quads(subject, NamedNode(predicate) if predicate else None, None, G_VPUB)
