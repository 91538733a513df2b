"""Erasure of personal data from the restricted history (GDPR art. 5(1)(e) retention, art. 17 requests).

Personal data lives in the restricted graphs only: the current restricted state and the restricted
snapshot of every version (the restricted LDES stream, the full history, /sparql/beheer and the
restricted dumps read them). A removed vereniging loses its current state at removal, but its
restricted snapshots stay until the retention period after the removal has passed; then every
restricted snapshot of it goes. An item of a restricted part (a vertegenwoordiger, a bankrekeningnummer)
that left a vereniging that still exists stays in the snapshots of the versions it was part of until the
retention period after leaving; then those nodes go (an account with its flat OSLO copy on the version).
On request, one person's nodes (found by INSZ) go from every snapshot at once, unless (s)he is still a
current vertegenwoordiger — that is a change of the record, done with the beheer API first. Public
graphs hold no personal data and are never touched.

Each erasure is ONE store transaction (a DELETE of exactly the quads found), under the write lease.
It does not make a new version: the state of no vereniging changes, only history is forgotten.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pyoxigraph import Literal, NamedNode, Quad

from app.domain import model
from app.domain.model import MODEL
from app.namespaces import (
    FV,
    GRAPH_RESTRICTED,
    GRAPH_SYSTEM,
    GRAPH_VERSIONS_PUBLIC,
    GRAPH_VERSIONS_RESTRICTED,
    PROV,
    SCHEMA,
    VRX,
)
from app.store import keys
from app.store.base import RegisterStore

G_VRES = NamedNode(GRAPH_VERSIONS_RESTRICTED)
G_RESTRICTED = NamedNode(GRAPH_RESTRICTED)
FLAT_IBAN = NamedNode(FV + "bankrekeningnummer")
IDENTIFIER = NamedNode(SCHEMA + "identifier")
# every part the model marks restricted holds personal data (vertegenwoordigers, bankrekeningnummers)
RESTRICTED_LINKS = [NamedNode(model.iri(part.link)) for part in MODEL.parts if part.restricted]
INSZ = NamedNode(VRX + "insz")
DCTERMS_IS_VERSION_OF = "http://purl.org/dc/terms/isVersionOf"


class StillRepresentative(Exception):
    """The person is a current vertegenwoordiger: remove him or her from the record first."""

    def __init__(self, vcodes: list[str]) -> None:
        super().__init__(", ".join(vcodes))
        self.vcodes = vcodes


@dataclass
class Erasure:
    """What one erasure removed: quads, and the verenigingen whose history it touched."""

    quads: int = 0
    vcodes: list[str] = field(default_factory=list)
    persons: int = 0  # vertegenwoordiger nodes (one per person per version)
    accounts: int = 0  # bankrekeningnummer nodes (one per account per version)


Announce = Callable[[Erasure], None]  # runs just before the transaction (the audit entry); raising stops it


def erase_person(store: RegisterStore, insz: str, announce: Announce | None = None) -> Erasure:
    """Remove every snapshot node of the person with this INSZ (art. 17), in one transaction."""
    with store.lease.held():
        current = [q.subject.value for q in store.quads(None, INSZ, Literal(insz), G_RESTRICTED)]
        if current:
            raise StillRepresentative(sorted({_vcode(node) for node in current}))
        nodes = {q.subject.value for q in store.quads(None, INSZ, Literal(insz), G_VRES)}
        return _delete_nodes(store, nodes, [], set(), announce)


def expired(store: RegisterStore, days: int, now: datetime | None = None, announce: Announce | None = None) -> Erasure:
    """Apply the retention period: erase what was removed more than `days` ago, in one transaction."""
    cutoff = _iso((now or datetime.now(UTC)) - timedelta(days=days))
    with store.lease.held():
        removed = _removed_before(store, cutoff)
        quads = [q for vc in removed for q in _restricted_history(store, vc)]
        nodes = _left_before(store, cutoff, exclude=set(removed))
        return _delete_nodes(store, nodes, quads, {_vcode(vc) for vc in removed}, announce)


def _delete_nodes(store: RegisterStore, nodes: set[str], extra: list[Quad], vcodes: set[str],
                  announce: Announce | None) -> Erasure:
    quads = list(extra)
    for node in nodes:
        own = store.quads(NamedNode(node), None, None, G_VRES)
        quads += own + store.quads(None, None, NamedNode(node), G_VRES)
        quads += _flat_copies(store, node, own)
    quads = list(dict.fromkeys(quads))
    erasure = Erasure(len(quads), sorted(vcodes | {_vcode(q.subject.value) for q in quads}),
                      sum("/vertegenwoordiger/" in node for node in nodes),
                      sum("/bankrekeningnummer/" in node for node in nodes))
    if quads:
        if announce is not None:
            announce(erasure)
        store.delete_data(quads, _logged(quads))
        store.compact()  # so the erased values also leave the database files
    return erasure


_VERSION = re.compile(r"^(.*/versie/[0-9]+)(?:/.*)?$")


def _logged(quads: list[Quad]) -> list[Quad]:
    """The erasure's entry in the log a restricted replica reads (erasures()): when, and which versions
    changed. A replica harvested those versions' restricted pages before; ldes-client does not emit a member
    again when its page changes, so without this a replica kept the erased data."""
    moment = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    node = NamedNode(f"{keys.ERASURE_PREFIX}{moment}")
    versions = sorted({found[1] for q in quads if (found := _VERSION.match(q.subject.value))})
    return [Quad(node, keys.ERASURE_TIME, keys.timestamp_literal(moment), keys.G_SYSTEM)] + \
        [Quad(node, keys.ERASED_VERSION, NamedNode(version), keys.G_SYSTEM) for version in versions]


_MOMENT = re.compile(r"^[0-9T:.+Z-]{0,40}$")


def erasures(store: RegisterStore, since: str = "") -> list[dict]:
    """The erasures after `since` (an ISO moment in UTC, as the log writes them; all without it), oldest
    first: moment and versions. ValueError for a `since` that is no such moment."""
    if not _MOMENT.match(since):
        raise ValueError(since)
    rows = store.select(f"""
        SELECT ?t ?v WHERE {{ GRAPH <{GRAPH_SYSTEM}> {{ ?w {keys.ERASURE_TIME} ?t ; {keys.ERASED_VERSION} ?v }}
          FILTER(STR(?t) > "{since}") }}""")
    found: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        found[row[0].value].append(row[1].value)
    return [{"tijdstip": moment, "versies": sorted(found[moment])} for moment in sorted(found)]


def _flat_copies(store: RegisterStore, node: str, own: list[Quad]) -> list[Quad]:
    """The OSLO flat copy of an account on its version (`fv:bankrekeningnummer "BE71…"`), if it is this one."""
    if "/bankrekeningnummer/" not in node:
        return []
    version = node.rsplit("/bankrekeningnummer/", 1)[0]  # …/versie/n/bankrekeningnummer/1 → …/versie/n
    ibans = {q.object.value.replace(" ", "") for q in own if q.predicate == IDENTIFIER}
    return [q for q in store.quads(NamedNode(version), FLAT_IBAN, None, G_VRES) if q.object.value in ibans]


def _removed_before(store: RegisterStore, cutoff: str) -> list[str]:
    """Removed verenigingen whose last version (the tombstone) is older than the cutoff."""
    rows = store.select(f"""
        SELECT ?vc (MAX(?t) AS ?removed) WHERE {{
          GRAPH <{GRAPH_SYSTEM}> {{ ?vc <{VRX}verwijderd> true }}
          GRAPH <{GRAPH_VERSIONS_PUBLIC}> {{ ?v <{DCTERMS_IS_VERSION_OF}> ?vc ; <{PROV}generatedAtTime> ?t }}
        }} GROUP BY ?vc""")
    return [row[0].value for row in rows if row[1] is not None and row[1].value < cutoff]


def _restricted_history(store: RegisterStore, vc: str) -> list[Quad]:
    """Every restricted snapshot quad of one vereniging (subjects below {vc}/versie/)."""
    prefix = vc + "/versie/"
    rows = store.select(f"""
        SELECT DISTINCT ?s WHERE {{ GRAPH <{GRAPH_VERSIONS_RESTRICTED}> {{ ?s ?p ?o }}
          FILTER(STRSTARTS(STR(?s), "{prefix}")) }}""")
    quads: list[Quad] = []
    for row in rows:
        quads += store.quads(row[0], None, None, G_VRES)
    return quads


def _left_before(store: RegisterStore, cutoff: str, exclude: set[str]) -> set[str]:
    """Snapshot nodes of restricted items (vertegenwoordigers, bankrekeningnummers) that left a (still
    existing) vereniging before the cutoff.

    An item id left when a version of the vereniging no longer has it; the time of that first version
    without it is when it left."""
    times: dict[str, dict[int, str]] = defaultdict(dict)
    for row in store.select(f"""
            SELECT ?v ?t WHERE {{ GRAPH <{GRAPH_VERSIONS_PUBLIC}> {{ ?v <{PROV}generatedAtTime> ?t }} }}"""):
        vc, _, number = row[0].value.rpartition("/versie/")
        if number.isdigit():
            times[vc][int(number)] = row[1].value
    present: dict[tuple[str, str], dict[int, str]] = defaultdict(dict)  # (vc, segment/id) → version → node
    current: set[str] = set()
    for link in RESTRICTED_LINKS:
        for quad in store.quads(None, link, None, G_VRES):
            vc, _, rest = quad.subject.value.rpartition("/versie/")
            if rest.isdigit() and vc not in exclude:
                item = quad.object.value.split("/versie/" + rest + "/", 1)[-1]  # e.g. vertegenwoordiger/2
                present[(vc, item)][int(rest)] = quad.object.value
        current |= {q.object.value for q in store.quads(None, link, None, G_RESTRICTED)}
    gone: set[str] = set()
    for (vc, item), versions in present.items():
        if f"{vc}/{item}" in current:
            continue
        later = [t for n, t in times[vc].items() if n > max(versions)]
        if later and min(later) < cutoff:
            gone.update(versions.values())
    return gone


def _vcode(iri: str) -> str:
    return iri.split("/id/vereniging/", 1)[-1].split("/", 1)[0]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
