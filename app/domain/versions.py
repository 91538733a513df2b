"""Version records: an immutable snapshot of each accepted change, with PROV-O provenance.

A version `{vereniging}/versie/{n}` is a version object in the LDES sense: it carries the
vereniging's properties at that moment (every IRI below the vereniging rewritten below the
version, so old snapshots never change), `dcterms:isVersionOf` the vereniging,
`prov:generatedAtTime`, `prov:wasRevisionOf` the previous version, and `prov:wasGeneratedBy`
an activity that says what kind of change it was, why, and which organisation did it.
The public snapshot goes to the public version graph, the restricted part (personal data) to
the restricted version graph, so both streams come from the same record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Quad

from app.namespaces import (
    CONCEPT,
    DCTERMS,
    FV,
    GRAPH_SYSTEM,
    GRAPH_VERSIONS_PUBLIC,
    GRAPH_VERSIONS_RESTRICTED,
    ORG,
    PROV,
    RDF,
    RDFS,
    SKOS,
    VRX,
    XSD,
)
from app.store.keys import gemeente_key, sequence_key  # noqa: F401  (re-exported for callers)

G_VPUB = NamedNode(GRAPH_VERSIONS_PUBLIC)
G_SYSTEM = NamedNode(GRAPH_SYSTEM)
G_VRES = NamedNode(GRAPH_VERSIONS_RESTRICTED)
OVO_BASE = "https://data.vlaanderen.be/id/organisatie/"

# Activity types, named after the official register's events (reference §5).
ACTIVITY_TYPES = {
    "registratie": "VerenigingWerdGeregistreerd",
    "wijziging": "VerenigingWerdGewijzigd",
    "stopzetting": "VerenigingWerdGestopt",
    "correctie-stopzetting": "StopzettingWerdGecorrigeerd",
    "verwijdering": "VerenigingWerdVerwijderd",
    "wijziging-erkenning": "ErkenningWerdGewijzigd",
    "schorsing": "ErkenningWerdGeschorst",
    "correctie-schorsing": "ErkenningRedenVanSchorsingWerdGecorrigeerd",
    "opheffing-schorsing": "SchorsingVanErkenningWerdOpgeheven",
    "erkenningsstatus": "ErkenningsstatusWerdBijgewerkt",
    "in-stopzetting": "VerenigingWerdInStopzettingGeplaatst",
    "uit-stopzetting": "VerenigingWerdUitStopzettingGehaald",
    "validatie-bankrekening": "BankrekeningnummerWerdGevalideerd",
    "ongedaan-validatie": "ValidatieBankrekeningnummerWerdOngedaanGemaakt",
}
AS = "https://www.w3.org/ns/activitystreams#"


@dataclass(frozen=True)
class Initiator:
    """The organisation (gegevensinitiator) on whose behalf a command runs."""

    ovo: str
    naam: str
    agent_iri: str | None = None  # for agents that are no OVO organisation, such as the KBO

    @property
    def iri(self) -> str:
        return self.agent_iri or OVO_BASE + self.ovo


KBO_AGENT = Initiator("KBO", "Kruispuntbank van Ondernemingen", "https://w3id.org/verenigingsregister/agent/KBO")


@dataclass(frozen=True)
class Provenance:
    activity: str  # key of ACTIVITY_TYPES
    initiator: Initiator
    reason: str | None = None
    # before_commit(vcode, sequence) runs just before the transaction, under the writer lock (the
    # audit entry of an HTTP write): if it raises, nothing is written, so a change is never
    # committed without its audit entry and never reported as failed after it was committed.
    before_commit: Callable[[str, int], None] | None = field(default=None, compare=False, repr=False)


def version_iri(vc_iri: str, number: int) -> str:
    return f"{vc_iri}/versie/{number}"


def version_quads(vc_iri: str, number: int, sequence: int, timestamp: str, prov: Provenance,
                  public: list[Quad], restricted: list[Quad], gemeenten: set[str] = frozenset()) -> list[Quad]:
    return _header(vc_iri, number, sequence, timestamp, prov, gemeenten) + \
        _snapshot(vc_iri, version_iri(vc_iri, number), public, G_VPUB) + \
        _snapshot(vc_iri, version_iri(vc_iri, number), restricted, G_VRES)


def tombstone_quads(vc_iri: str, number: int, sequence: int, timestamp: str, prov: Provenance,
                    gemeenten: set[str] = frozenset()) -> list[Quad]:
    """The last version of a removed vereniging: an as:Tombstone without any of its data."""
    v = NamedNode(version_iri(vc_iri, number))
    when = Literal(timestamp, datatype=NamedNode(XSD + "dateTime"))
    return _header(vc_iri, number, sequence, timestamp, prov, gemeenten) + [
        Quad(v, NamedNode(RDF + "type"), NamedNode(AS + "Tombstone"), G_VPUB),
        Quad(v, NamedNode(AS + "formerType"), NamedNode(FV + "Vereniging"), G_VPUB),
        Quad(v, NamedNode(AS + "deleted"), when, G_VPUB),
    ]


def _header(vc_iri: str, number: int, sequence: int, timestamp: str, prov: Provenance,
            gemeenten: set[str] = frozenset()) -> list[Quad]:
    """Version metadata, plus the system index entries that let the LDES pages be read directly."""
    version = version_iri(vc_iri, number)
    v = NamedNode(version)
    activity = NamedNode(version + "/activiteit")
    agent = NamedNode(prov.initiator.iri)
    when = Literal(timestamp, datatype=NamedNode(XSD + "dateTime"))
    out = [
        Quad(v, NamedNode(RDF + "type"), NamedNode(VRX + "Versie"), G_VPUB),
        Quad(v, NamedNode(DCTERMS + "isVersionOf"), NamedNode(vc_iri), G_VPUB),
        Quad(v, NamedNode(PROV + "generatedAtTime"), when, G_VPUB),
        Quad(v, NamedNode(PROV + "wasGeneratedBy"), activity, G_VPUB),
        Quad(v, NamedNode(VRX + "versienummer"), Literal(str(number), datatype=NamedNode(XSD + "integer")),
             G_VPUB),
        Quad(activity, NamedNode(RDF + "type"), NamedNode(PROV + "Activity"), G_VPUB),
        Quad(activity, NamedNode(RDF + "type"), NamedNode(VRX + ACTIVITY_TYPES[prov.activity]), G_VPUB),
        Quad(activity, NamedNode(PROV + "wasAssociatedWith"), agent, G_VPUB),
        Quad(activity, NamedNode(PROV + "endedAtTime"), when, G_VPUB),
        Quad(activity, NamedNode(VRX + "sequentie"), Literal(str(sequence), datatype=NamedNode(XSD + "integer")),
             G_VPUB),
        Quad(agent, NamedNode(RDF + "type"), NamedNode(PROV + "Agent"), G_VPUB),
        Quad(agent, NamedNode(RDF + "type"), NamedNode(ORG + "Organization"), G_VPUB),
        Quad(agent, NamedNode(SKOS + "prefLabel"), Literal(prov.initiator.naam, language="nl"), G_VPUB),
    ]
    if number > 1:
        out.append(Quad(v, NamedNode(PROV + "wasRevisionOf"), NamedNode(version_iri(vc_iri, number - 1)), G_VPUB))
    if prov.reason:
        out.append(Quad(activity, NamedNode(RDFS + "comment"), Literal(prov.reason, language="nl"), G_VPUB))
    seq = Literal(str(sequence), datatype=NamedNode(XSD + "integer"))
    out.append(Quad(sequence_key(sequence), NamedNode(VRX + "versie"), v, G_SYSTEM))
    for code in sorted(gemeenten):
        out.append(Quad(v, NamedNode(VRX + "gemeente"), NamedNode(CONCEPT + "werkingsgebied/" + code), G_VPUB))
        out.append(Quad(gemeente_key(code), NamedNode(VRX + "sequentie"), seq, G_SYSTEM))
    return out


def rebase(old: str, new: str):
    """A term mapper that moves `old` and every IRI below `old/` under `new` (vereniging ⇄ version snapshot)."""
    prefix = old + "/"

    cut = len(prefix)

    def move(term):
        if type(term) is NamedNode:  # noqa: E721  (one property read per term: each makes a new str)
            value = term.value
            if value == old:
                return NamedNode(new)
            if value.startswith(prefix):
                return NamedNode(new + "/" + value[cut:])
        return term

    return move


def _snapshot(vc_iri: str, version: str, quads: list[Quad], graph: NamedNode) -> list[Quad]:
    move = rebase(vc_iri, version)
    return [Quad(move(q.subject), q.predicate, move(q.object), graph) for q in quads]
