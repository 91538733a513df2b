"""Reads of version members (LDES members, version documents), one pattern scan per node.

A member is the version IRI, every node below it (the snapshot's parts and its activity) and
the agent of the activity: exactly what a client replicating the stream receives and what
`/doc/vereniging/{vCode}/versie/{n}` answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyoxigraph import NamedNode, Quad, Triple

from app.namespaces import GRAPH_SYSTEM, GRAPH_VERSIONS_PUBLIC, PROV, VRX
from app.store.oxigraph_store import RegisterStore

G_SYSTEM = NamedNode(GRAPH_SYSTEM)
G_VPUB = NamedNode(GRAPH_VERSIONS_PUBLIC)
ASSOCIATED = PROV + "wasAssociatedWith"
SKOS_PREFLABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"


def member_triples(register: RegisterStore, version: NamedNode, graphs: Sequence[str]) -> list[Triple]:
    """The version, its snapshot nodes, its activity and the activity's agent, as plain triples."""
    store = register.store
    prefix = version.value + "/"
    graph_nodes = [NamedNode(g) for g in graphs]
    seen, todo, out = {version.value}, [version], []
    agents: set[NamedNode] = set()
    while todo:
        subject = todo.pop()
        for graph in graph_nodes:
            for quad in store.quads_for_pattern(subject, None, None, graph):
                out.append(Triple(quad.subject, quad.predicate, quad.object))
                obj = quad.object
                if quad.predicate.value == ASSOCIATED:
                    agents.add(obj)
                elif isinstance(obj, NamedNode) and obj.value.startswith(prefix) and obj.value not in seen:
                    seen.add(obj.value)
                    todo.append(obj)
    for agent in agents:
        out += [Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(agent, None, None, G_VPUB)]
    return out


def version_at(register: RegisterStore, sequence_key: NamedNode) -> NamedNode | None:
    """The version that has this register-wide sequence number."""
    for quad in register.store.quads_for_pattern(sequence_key, NamedNode(VRX + "versie"), None, G_SYSTEM):
        return quad.object
    return None


def describes(register: RegisterStore, iri: str, graphs: Sequence[str]) -> bool:
    """Whether any of these graphs says something about this IRI."""
    store = register.store
    subject = NamedNode(iri)
    return any(True for graph in graphs for _ in store.quads_for_pattern(subject, None, None, NamedNode(graph)))


def first_gemeente_sequence(register: RegisterStore, gemeente_key: NamedNode) -> int | None:
    for quad in register.store.quads_for_pattern(gemeente_key, NamedNode(VRX + "sequentie"), None, G_SYSTEM):
        return int(quad.object.value)
    return None


def timestamp(register: RegisterStore, version: NamedNode) -> str | None:
    """A version's prov:generatedAtTime."""
    store = register.store
    for quad in store.quads_for_pattern(version, NamedNode(PROV + "generatedAtTime"), None, G_VPUB):
        return quad.object.value
    return None


def agent_label(register: RegisterStore, agent: str) -> str | None:
    """The name an organisation was recorded with when it acted on the register (from the versions)."""
    store = register.store
    for quad in store.quads_for_pattern(NamedNode(agent), NamedNode(SKOS_PREFLABEL), None, G_VPUB):
        return quad.object.value
    return None


def gemeente_sequences(register: RegisterStore, gemeente_key: NamedNode) -> list[int]:
    """The sequences of the changes that concern one gemeente, in order."""
    return sorted(int(q.object.value) for q in register.store.quads_for_pattern(
        gemeente_key, NamedNode(VRX + "sequentie"), None, G_SYSTEM))


def about(register: RegisterStore, subject: NamedNode, predicate: str | None = None) -> list[Quad]:
    """What the public version graph says about one node (a version header, an activity, an agent)."""
    return list(register.store.quads_for_pattern(subject, NamedNode(predicate) if predicate else None, None, G_VPUB))
