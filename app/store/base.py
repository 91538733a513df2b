"""The store interface at the level of intent, written once in standard SPARQL 1.1.

Every read here is one round trip (one SELECT) and every command is one commit (one SPARQL
update). An engine only supplies `_select` (a query → solutions) and `_update` (one update
request); the embedded engine overrides a few hot reads with direct index scans. Reads take an
Audience, never a graph list, so public code cannot name a restricted graph.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import astuple, dataclass, field
from datetime import UTC, datetime, timedelta

from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, Store, Triple

from app.namespaces import (
    ADRES,
    CONCEPT,
    DCTERMS,
    FV,
    GRAPH_CODELISTS,
    GRAPH_PUBLIC,
    GRAPH_SYSTEM,
    GRAPH_VERSIONS_PUBLIC,
    LOCN,
    ORG,
    PROV,
    RDF,
    REGORG,
    SKOS,
    VRX,
)
from app.store import keys
from app.store.audience import Audience
from app.store.lease import WriteLease

log = logging.getLogger(__name__)


class BaseMismatch(Exception):
    """The register was created with another base IRI than the one this process was given."""

    def __init__(self, stored: str, given: str) -> None:
        super().__init__(
            f"Dit register werd aangemaakt met basis-URI {stored}, maar dit proces kreeg {given} "
            f"(--base-url of VR_BASE_URL). Laat de optie weg of gebruik {stored}.")
        self.stored, self.given = stored, given


class StoreUnavailable(Exception):
    """The store server did not answer, or refused a request we consider valid (remote engine)."""


class StoreLate(StoreUnavailable):
    """The store server did not answer within the time we gave it (it may still be working on it)."""


class Refused(Exception):
    """A commit's guard no longer holds. reason: 'versie' | 'sleutel' | 'herhaling'."""

    def __init__(self, reason: str, value: object) -> None:
        super().__init__(f"{reason}: {value}")
        self.reason, self.value = reason, value


@dataclass(frozen=True)
class Allocation:
    """What the store hands a commit under the lease: its place in the register."""

    sequence: int
    timestamp: str
    vcode_number: int | None = None


class NQuads(str):
    """Quads to insert as N-Quads text, one quad a line, every one in a named graph.

    An import's new records are made as text once (app/domain/prebuilt.py): moving Python Quad
    objects to a V-code costs more than the bulk write of them, and the embedded engine's bulk
    loader reads text anyway. Engines that need Quad objects parse it (expand_inserts)."""


def expand_inserts(insert: Sequence[Quad | NQuads]) -> list[Quad]:
    """An insert list with its N-Quads text parsed into quads (made in Rust)."""
    import pyoxigraph

    out: list[Quad] = []
    for item in insert:
        if isinstance(item, NQuads):
            out += pyoxigraph.parse(item, pyoxigraph.RdfFormat.N_QUADS)
        else:
            out.append(item)
    return out


@dataclass
class Change:
    """One command's effect, computed by the domain and written by the store as ONE update.

    `build` turns the allocation into (delete, insert) quads (an insert may hold NQuads text); it
    runs under the write lease, so it must be cheap (no SHACL, no store reads). `on_commit` also
    runs under the lease, right after the update, so derived indexes see changes in sequence order.
    """

    build: Callable[[Allocation], tuple[list[Quad], list[Quad]]]
    now: datetime
    subject: str | None = None  # the vereniging changed; None registers a new one (V-code allocated)
    expected_version: int | None = None  # guard: the version the change was computed from
    unique_keys: Sequence[NamedNode] = ()  # new records: keys that must still be free
    idempotency: NamedNode | None = None
    on_commit: Callable[[Allocation], None] | None = None
    min_vcode_number: int = 1  # the first V-code number the register hands out


@dataclass(frozen=True)
class Counters:
    sequence: int
    vcode_number: int
    timestamp: str


@dataclass
class Member:
    """One LDES member (a version): its sequence, IRI, timestamp and triples."""

    sequence: int
    version: NamedNode
    timestamp: str
    triples: list[Triple] = field(default_factory=list)


class RegisterStore(ABC):
    """The register's storage. Only app/store knows which engine is behind it."""

    lease: WriteLease
    # Pipelined group commit (see _lead): the next group is checked and built while this one is written.
    # Only where this process sees every write (the embedded engine: one process owns the store), since
    # the next group's guards must include the facts of the group still being written.
    pipelined = False

    def __init__(self) -> None:
        self._queue: list[_Ticket] = []  # commits waiting for the lease (group commit)
        self._queue_lock = threading.Lock()
        # Hooks around each group commit (the Register installs them): `sealing` contexts are entered
        # under the write lease before the group's changes are built and closed before its one update:
        # the audit log makes all the group's entries durable with ONE fsync there (raising writes
        # nothing). `written` runs after the update and every change's on_commit, under the after lease
        # (lease.py): listeners that handle the group at once (one search-index transaction).
        self.sealing: list[Callable[[], AbstractContextManager]] = []
        self.written: list[Callable[[], None]] = []
        self._inflight: _Prepared | None = None  # the group being written while the next one is prepared
        # The counters as this process last wrote or read them: a hint, confirmed by point lookups before use.
        self._seen_counters: tuple[int, int, str] | None = None
        self._exclusive: dict[str, WriteLease] = {}  # exclusive(): named leases, made once

    # -- engine primitives -----------------------------------------------------------------------------
    @abstractmethod
    def _select(self, query: str, default_graph: Sequence[str] | None = None,
                named_graphs: Sequence[str] | None = None) -> Iterable:
        """Evaluate a SELECT/ASK/CONSTRUCT; solutions support row[i] and row['name']."""

    @abstractmethod
    def _update(self, update: str) -> None:
        """Apply one SPARQL update request (one transaction)."""

    def flush(self) -> None:  # noqa: B027  (only the embedded engine has something to flush)
        """Make written data durable on disk (embedded); nothing to do remotely."""

    def close(self) -> None:
        self.lease.close()
        for lease in self._exclusive.values():
            lease.close()

    def exclusive(self, name: str) -> WriteLease:
        """A lease of its own for work that the register runs once at a time over all its processes on this
        host (an import: its duplicate search must see the rows of an import that ran before it)."""
        with self._queue_lock:
            if name not in self._exclusive:
                self._exclusive[name] = self.lease.named(name)
            return self._exclusive[name]

    def dump_nquads(self) -> bytes:
        """Every quad as N-Quads (tests and backups)."""
        rows = self._select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
        return b"".join(f"{r[1]} {r[2]} {r[3]} {r[0]} .\n".encode() for r in rows)

    def select(self, query: str, default_graph: Sequence[str] | None = None,
               named_graphs: Sequence[str] | None = None) -> list:
        """A read-only query for tools and tests (not for request handlers: use the intents)."""
        def names(graphs):
            return None if graphs is None else [getattr(g, "value", g) for g in graphs]

        return list(self._select(query, names(default_graph), names(named_graphs)))

    # -- identity ---------------------------------------------------------------------------------------
    def identity(self) -> tuple[str, str] | None:
        """(base IRI, register id) written at creation, or None for a new store."""
        found = {row[0].value: row[1].value for row in self._select(
            f"SELECT ?p ?o WHERE {{ GRAPH <{GRAPH_SYSTEM}> {{ {keys.REGISTER} ?p ?o }} }}")}
        if keys.BASE_IRI.value not in found:
            return None
        return found[keys.BASE_IRI.value], found.get(keys.REGISTER_ID.value, "")

    def claim(self, base: str) -> tuple[str, str]:
        """Write the register's identity and counters into a store that has none yet.

        A store written before identities existed keeps the base its records already use.
        """
        with self.lease.held():
            existing = self.identity()
            if existing is not None:
                return existing
            base = self._base_in_data() or base
            register_id = secrets.token_hex(8)
            counters = self._derived_counters()
            quads = [Quad(keys.REGISTER, keys.BASE_IRI, Literal(base), keys.G_SYSTEM),
                     Quad(keys.REGISTER, keys.REGISTER_ID, Literal(register_id), keys.G_SYSTEM),
                     Quad(keys.REGISTER, keys.SEQUENCE, keys.integer(counters.sequence), keys.G_SYSTEM),
                     Quad(keys.REGISTER, keys.LAST_VCODE, keys.integer(counters.vcode_number), keys.G_SYSTEM)]
            if counters.timestamp:
                quads.append(Quad(keys.REGISTER, keys.LAST_TIMESTAMP, keys.timestamp_literal(counters.timestamp),
                                  keys.G_SYSTEM))
            self._update(f"INSERT DATA {{ {data_block(quads)} }}")
            return base, register_id

    def _base_in_data(self) -> str | None:
        for row in self._select(f"""SELECT ?v ?code WHERE {{ GRAPH <{GRAPH_PUBLIC}> {{
                ?v a <{FV}Vereniging> ; <{DCTERMS}identifier> ?code }} }} LIMIT 1"""):
            iri, code = row[0].value, row[1].value
            suffix = f"/id/vereniging/{code}"
            if iri.endswith(suffix):
                return iri[:-len(suffix)]
        return None

    def _derived_counters(self) -> Counters:
        """Counters of a store written before they were kept: the highest values in the data."""
        def highest(query: str) -> str | None:
            for row in self._select(query):
                return row[0].value if row[0] is not None else None
            return None

        vcode = highest(f"SELECT (MAX(?n) AS ?m) WHERE {{ GRAPH <{GRAPH_SYSTEM}> {{ ?v <{VRX}vcodeNummer> ?n }} }}")
        sequence = highest(f"SELECT (MAX(?n) AS ?m) WHERE {{ GRAPH <{GRAPH_VERSIONS_PUBLIC}> "
                           f"{{ ?a <{VRX}sequentie> ?n }} }}")
        timestamp = highest(f"SELECT (MAX(?t) AS ?m) WHERE {{ GRAPH <{GRAPH_VERSIONS_PUBLIC}> "
                            f"{{ ?v <{PROV}generatedAtTime> ?t }} }}")
        return Counters(int(sequence or 0), int(vcode or 0), timestamp or "")

    # -- counters and bookkeeping -----------------------------------------------------------------------
    def counters(self) -> Counters:
        found = counters_of(self.bookkeeping(keys.REGISTER))
        self._seen_counters = astuple(found)
        return found

    def latest_sequence(self) -> int:
        """The last committed sequence number. Asked before every search (has another process
        committed?): when the counters this process saw last are still in the store, a point lookup
        says so; scanning the register's facts costs more with every commit, each of which leaves a
        removed counter behind until the store compacts (measured on the embedded engine: 0.13 ms
        after 500 commits, 1.2 ms after 4,000)."""
        hint = self._seen_counters
        if hint is not None and any(True for _ in self._select(
                f"SELECT * WHERE {{ GRAPH <{GRAPH_SYSTEM}> {{ {_probe(counter_quads(hint)[0])} }} }} LIMIT 1")):
            return hint[0]
        return self.counters().sequence

    def bookkeeping(self, subject: NamedNode) -> dict[str, str]:
        """The system-graph facts about one subject, by the local name of the predicate."""
        found: dict[str, str] = {}
        for row in self._select(f"SELECT ?p ?o WHERE {{ GRAPH <{GRAPH_SYSTEM}> {{ {subject} ?p ?o }} }}"):
            keep_fact(found, row[0].value, row[1].value)
        return found

    def owner_of(self, key: NamedNode) -> str | None:
        """The IRI of the vereniging that holds a unique key (KBO number, own key, idempotency key)."""
        for row in self._select(f"SELECT ?v WHERE {{ GRAPH <{GRAPH_SYSTEM}> {{ {key} {keys.OWNER} ?v }} }} LIMIT 1"):
            return row[0].value
        return None

    # -- records ----------------------------------------------------------------------------------------
    def record(self, root: str, audience: Audience) -> list[Quad]:
        """A record: its root IRI and every node below it, from the audience's record graphs
        (a restricted read is audited before it is returned)."""
        quads = self._tree(root, audience.record_graphs)
        audience.read([root] if quads else [])
        return quads

    def _tree(self, root: str, graphs: Sequence[str]) -> list[Quad]:
        nodes = {node for _, node in self._below(f"VALUES ?root {{ <{root}> }}", graphs)}
        return self._about(nodes, graphs)

    def _below(self, bind: str, graphs: Sequence[str], agent: bool = False) -> list[tuple[str, str]]:
        """(root, node) for every root bound to ?root by `bind` and each node of its tree: itself and the IRIs
        under its own IRI that it reaches in the graphs, and with `agent` the agent of its activity. The graphs
        are merged as the default graph (a tree may continue in a restricted graph), so `bind` names no graph.

        A property path from the bound root: its cost is the tree's, not the register's. (A union of fixed hops,
        each joined to the next, was evaluated from the hops outward: 1.3 s for a vereniging with one version
        at 1,500 verenigingen, growing with the register, until the store server gave up.)"""
        query = f"""SELECT DISTINCT ?root ?s WHERE {{
            {{ {bind} . ?root (!<urn:vr:geen>)* ?s FILTER(?s = ?root || STRSTARTS(STR(?s), CONCAT(STR(?root), "/"))) }}
            {f"UNION {{ {bind} . ?root <{PROV}wasGeneratedBy>/<{PROV}wasAssociatedWith> ?s }}" if agent else ""} }}"""
        # sorted: a path's solutions come in no fixed order, and a page's bytes (its ETag) must not change
        return sorted((row[0].value, row[1].value) for row in self._select(query, default_graph=list(graphs))
                      if isinstance(row[1], NamedNode))

    def _about(self, nodes: Iterable[str], graphs: Sequence[str]) -> list[Quad]:
        """Every quad of these subjects in these graphs, one round trip (the subjects bound in each graph's
        branch: an index lookup per subject, where one pattern over all graphs joined afterwards was a scan)."""
        nodes = sorted(set(nodes))
        if not nodes or not graphs:
            return []
        values = f"VALUES ?s {{ {_iris(nodes)} }}"
        query = "SELECT ?g ?s ?p ?o WHERE { " + " UNION ".join(
            f"{{ {values} GRAPH <{graph}> {{ ?s ?p ?o }} BIND(<{graph}> AS ?g) }}" for graph in graphs) + " }"
        return [Quad(r[1], r[2], r[3], r[0]) for r in self._select(query)]

    def record_iris(self) -> Iterator[str]:
        """IRIs of all current verenigingen (every one has its type in the public graph)."""
        for row in self._select(f"SELECT ?v WHERE {{ GRAPH <{GRAPH_PUBLIC}> {{ ?v a <{FV}Vereniging> }} }}"):
            yield row[0].value

    def records(self, audience: Audience) -> Iterator[tuple[str, list[Quad]]]:
        """Every record (dumps, exports): a restricted read is audited once, now, before the first record."""
        iris = list(self.record_iris())
        audience.read(iris, many=True)
        graphs = audience.record_graphs
        return ((iri, self._tree(iri, graphs)) for iri in iris)

    def graph_quads(self, graph: str) -> list[Quad]:
        """Reference graphs (code lists)."""
        return [Quad(r[0], r[1], r[2], NamedNode(graph)) for r in self._select(
            f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")]

    def has_codelists(self) -> bool:
        query = f"SELECT ?s WHERE {{ GRAPH <{GRAPH_CODELISTS}> {{ ?s ?p ?o }} }} LIMIT 1"
        return any(True for _ in self._select(query))

    def public_triple_count(self) -> int:
        for row in self._select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH_PUBLIC}> {{ ?s ?p ?o }} }}"):
            return int(row[0].value)
        return 0

    def active_at_places(self, postcodes: Iterable[str], gemeenten: Iterable[str]) -> list[dict]:
        """Active verenigingen with a site at one of these postcodes or gemeente names (duplicate check).

        The places are one VALUES table of (property, value) pairs, so the engine starts from the
        matching addresses; a UNION of two VALUES groups joined afterwards made Oxigraph scan every
        site of the register (70 ms at 1,000 records, 0.15 ms this way).
        """
        pairs = [f'(<{LOCN}postCode> "{_escape(p)}")' for p in postcodes]
        pairs += [f'(<{ADRES}gemeentenaam> "{_escape(g)}"@nl)' for g in gemeenten]
        if not pairs:
            return []
        query = f"""SELECT DISTINCT ?adres ?code ?naam ?postcode ?gemeente WHERE {{ GRAPH <{GRAPH_PUBLIC}> {{
            VALUES (?plaats ?waarde) {{ {' '.join(pairs)} }} ?adres ?plaats ?waarde .
            ?site <{LOCN}address> ?adres . ?v <{ORG}hasSite> ?site ;
               <{REGORG}orgStatus> <{CONCEPT}verenigingstatus/Actief> .
            OPTIONAL {{ ?v <{SKOS}prefLabel> ?naam }} OPTIONAL {{ ?v <{DCTERMS}identifier> ?code }}
            OPTIONAL {{ ?adres <{LOCN}postCode> ?postcode }} OPTIONAL {{ ?adres <{ADRES}gemeentenaam> ?gemeente }}
        }} }}"""
        return [{"vCode": _value(r[1]) or "", "naam": _value(r[2]) or "", "postcode": _value(r[3]),
                 "gemeente": _value(r[4])} for r in self._select(query)]

    def active_at_postcodes(self, postcodes: Iterable[str] | None) -> list[dict[str, str]]:
        """Active verenigingen with a public locatie at one of these postcodes (duplicate search in imports):
        vCode, naam and one address per locatie, in one query. None: every active vereniging, with or without
        an address (a row that has none is compared with the whole register)."""
        if postcodes is None:
            where = f"""?v <{REGORG}orgStatus> <{CONCEPT}verenigingstatus/Actief> ;
                 <{SKOS}prefLabel> ?naam ; <{DCTERMS}identifier> ?code .
              OPTIONAL {{ ?v <{ORG}hasSite>/<{LOCN}address> ?adres . ?adres <{LOCN}postCode> ?postcode .
                OPTIONAL {{ ?adres <{LOCN}thoroughfare> ?straat }}
                OPTIONAL {{ ?adres <{ADRES}Adresvoorstelling.huisnummer> ?nummer }}
                OPTIONAL {{ ?adres <{ADRES}gemeentenaam> ?gemeente }} }}"""
        else:
            values = " ".join(f'"{p}"' for p in sorted(set(postcodes)) if p.isdigit())
            if not values:
                return []
            where = f"""VALUES ?postcode {{ {values} }}
              ?adres <{LOCN}postCode> ?postcode .
              OPTIONAL {{ ?adres <{LOCN}thoroughfare> ?straat }}
              OPTIONAL {{ ?adres <{ADRES}Adresvoorstelling.huisnummer> ?nummer }}
              OPTIONAL {{ ?adres <{ADRES}gemeentenaam> ?gemeente }}
              ?site <{LOCN}address> ?adres . ?v <{ORG}hasSite> ?site ;
                 <{REGORG}orgStatus> <{CONCEPT}verenigingstatus/Actief> ;
                 <{SKOS}prefLabel> ?naam ; <{DCTERMS}identifier> ?code ."""
        query = f"""
            SELECT ?code ?naam ?straat ?nummer ?postcode ?gemeente WHERE {{ GRAPH <{GRAPH_PUBLIC}> {{
              {where}
            }} }}"""
        rows = self._select(query)
        return [{name: (row[name].value if row[name] is not None else "") for name in
                 ("code", "naam", "straat", "nummer", "postcode", "gemeente")} for row in rows]

    def verenigingen_met_erkenningen(self) -> list[str]:
        """V-codes of the verenigingen that have at least one erkenning (their status follows the calendar)."""
        query = f"""SELECT DISTINCT ?code WHERE {{ GRAPH <{GRAPH_PUBLIC}> {{
            ?v <{FV}heeftErkenning> ?e ; <{DCTERMS}identifier> ?code }} }} ORDER BY ?code"""
        return [row["code"].value for row in self._select(query)]

    # -- versions, history and LDES -----------------------------------------------------------------------
    def history(self, vc_iri: str, audience: Audience) -> QuadIndex:
        """Every version of one vereniging (snapshots, activities, agents), read in two round trips: the trees'
        nodes, then their quads."""
        graphs = audience.version_graphs
        nodes = self._below(f"?root <{DCTERMS}isVersionOf> <{vc_iri}>", graphs, agent=True)
        found = QuadIndex(self._about((node for _, node in nodes), graphs))
        audience.read([vc_iri] if found else [])
        return found

    def version_tree(self, version: str, audience: Audience) -> list[Quad]:
        """One version's snapshot (and its activity), from the audience's version graphs."""
        quads = self._tree(version, audience.version_graphs)
        audience.read([version] if quads else [])
        return quads

    def version_at(self, sequence: int) -> NamedNode | None:
        for row in self._select(f"SELECT ?v WHERE {{ GRAPH <{GRAPH_SYSTEM}> {{ {keys.sequence_key(sequence)} "
                                f"{keys.VERSION_OF_SEQUENCE} ?v }} }} LIMIT 1"):
            return row[0]
        return None

    def page(self, sequences: Sequence[int], audience: Audience, with_triples: bool = True) -> list[Member]:
        """LDES members for these sequence numbers, in order: the index in one round trip, the members in one more."""
        if not sequences:
            return []
        key_values = " ".join(str(keys.sequence_key(s)) for s in sequences)
        head = f"""GRAPH <{GRAPH_SYSTEM}> {{ VALUES ?k {{ {key_values} }} ?k {keys.VERSION_OF_SEQUENCE} ?version }}
                   GRAPH <{GRAPH_VERSIONS_PUBLIC}> {{ ?version <{PROV}generatedAtTime> ?t }}"""
        members: dict[str, Member] = {}
        for row in self._select(f"SELECT ?k ?version ?t WHERE {{ {head} }}"):
            members[row[1].value] = Member(int(row[0].value.removeprefix(keys.SEQUENCE_PREFIX)), row[1], row[2].value)
        if with_triples and members:
            for version, triples in self.members(list(members), audience).items():
                members[version].triples = triples
        return sorted(members.values(), key=lambda m: m.sequence)

    def members(self, versions: Sequence[str], audience: Audience) -> dict[str, list[Triple]]:
        """LDES members: each version, the nodes below it and its agent (a restricted read is audited)."""
        found = self._members(versions, audience.version_graphs) if versions else {}
        audience.read(list(found))
        return found

    def _members(self, versions: Sequence[str], graphs: Sequence[str]) -> dict[str, list[Triple]]:
        """The members read in two round trips: the trees' nodes, then their quads."""
        below = self._below(f"VALUES ?root {{ {_iris(versions)} }}", graphs, agent=True)
        triples: dict[str, list[Triple]] = {}
        for quad in self._about((node for _, node in below), graphs):
            triples.setdefault(quad.subject.value, []).append(Triple(quad.subject, quad.predicate, quad.object))
        out: dict[str, list[Triple]] = {}
        for version, node in below:
            out.setdefault(version, []).extend(triples.get(node, ()))
        return {version: found for version, found in out.items() if found}

    def describes(self, iri: str, audience: Audience) -> bool:
        """Whether a graph the audience may read (records or versions) has triples about this IRI."""
        graphs = audience.record_graphs + audience.version_graphs
        return any(True for _ in self._select(
            f"SELECT ?p WHERE {{ GRAPH ?g {{ {NamedNode(iri)} ?p ?o }} VALUES ?g {{ {_iris(graphs)} }} }} LIMIT 1"))

    def gemeente_sequences(self, code: str) -> list[int]:
        return sorted(int(row[0].value) for row in self._select(
            f"SELECT ?n WHERE {{ GRAPH <{GRAPH_SYSTEM}> {{ {keys.gemeente_key(code)} {keys.SEQUENCE_OF} ?n }} }}"))

    def gemeenten_with_members(self, codes: Sequence[str]) -> set[str]:
        """Which of these gemeente codes have changes (an index lookup per code, no scan)."""
        if not codes:
            return set()
        values = " ".join(str(keys.gemeente_key(code)) for code in codes)
        return {row[0].value.removeprefix(keys.GEMEENTE_PREFIX) for row in self._select(
            f"SELECT ?k WHERE {{ VALUES ?k {{ {values} }} FILTER EXISTS {{ GRAPH <{GRAPH_SYSTEM}> "
            f"{{ ?k {keys.SEQUENCE_OF} ?n }} }} }}")}

    def changed_records(self, after: int, upto: int) -> set[str]:
        """IRIs of the verenigingen changed by sequences after..upto (derived indexes catching up)."""
        out: set[str] = set()
        numbers = list(range(after + 1, upto + 1))
        for start in range(0, len(numbers), 500):
            for member in self.page(numbers[start:start + 500], Audience(False), with_triples=False):
                out.add(member.version.value.rsplit("/versie/", 1)[0])
        return out

    def quads(self, subject=None, predicate=None, obj=None, graph: NamedNode | None = None) -> list[Quad]:
        """A pattern scan in one graph (app/store internals, e.g. erasure); None is a wildcard."""
        terms = [str(t) if t is not None else f"?{name}" for t, name in ((subject, "s"), (predicate, "p"), (obj, "o"))]
        rows = self._select(f"SELECT * WHERE {{ GRAPH {graph} {{ {' '.join(terms)} }} }}")
        out = []
        for row in rows:
            values = [t if t is not None else row[name] for t, name in ((subject, "s"), (predicate, "p"), (obj, "o"))]
            out.append(Quad(*values, graph))
        return out

    def delete_data(self, quads: Sequence[Quad], insert: Sequence[Quad] = ()) -> None:
        """Remove exactly these quads (and add `insert`) in one update; the caller holds the write lease (erasure)."""
        if quads:
            added = f" ;\nINSERT DATA {{ {data_block(insert)} }}" if insert else ""
            self._update(f"DELETE DATA {{ {data_block(quads)} }}{added}")

    def compact(self) -> None:  # noqa: B027  (only the embedded engine compacts its own files)
        """Rewrite the storage files so deleted values leave the disk (the remote server does its own)."""

    def recount(self) -> Counters:
        """After data was bulk-loaded outside the write path (benchmarks): counters from the data."""
        with self.lease.held():
            before, after = self.counters(), self._derived_counters()
            self._write([], [], astuple(before), astuple(after))
            return after

    # -- writing ---------------------------------------------------------------------------------------
    def replace_graph(self, graph: str, quads: Sequence[Quad]) -> None:
        """Reference data (code lists) only: replace a whole graph in one update."""
        with self.lease.held():
            self._update(f"DROP SILENT GRAPH <{graph}> ;\nINSERT DATA {{ {data_block(quads)} }}")

    def commit(self, change: Change) -> Allocation:
        """Write one command's effect under the write lease; Refused writes nothing.

        Group commit: changes that arrive while another thread holds the lease queue up, and the
        next thread to get the lease writes the whole queue as ONE update (each change keeps its
        own guard, sequence number and version), so concurrent requests share one transaction.
        The `written` hooks (the search index) then run under the after lease, taken before the
        write lease is released: in commit order, while the next group is already being written.
        Every thread returns only when its group is written and its hooks have run.
        """
        ticket = _Ticket(change)
        with self._queue_lock:
            self._queue.append(ticket)
        self.lease.acquire(stage=not self.pipelined)
        if ticket.taken:  # an earlier leader took it into its group
            self.lease.release(stage=not self.pipelined)
        else:
            self._lead()  # releases the write lease
        ticket.finished.wait()
        if ticket.error is not None:
            raise ticket.error
        if isinstance(ticket.outcome, BaseException):  # Refused, or what the change's build raised
            raise ticket.outcome
        return ticket.outcome

    def _lead(self) -> None:
        """Holding the write lease: write the queue as one group, then hand over to the after lease.

        Pipelined (embedded engine): the lease is held without its store stage while the group is
        checked and built (guards, allocation, audit entries and their fsync); then the leader takes the
        stage (the previous group is written by then), lets go of the rest of the lease, and writes. The
        next leader prepares its group meanwhile, its guards read through the group being written
        (`_inflight`), and if that group's write fails, the next one fails too instead of writing on
        top of counters that never reached the store.
        """
        with self._queue_lock:
            batch, self._queue = self._queue, []
        for t in batch:
            t.taken = True
        holding, staged, after, prepared = True, not self.pipelined, None, None
        try:
            prepared = self._prepare([t.change for t in batch])
            if not staged:  # take the stage (the previous group is written), let the next group prepare
                self.lease.stage.acquire()
                staged, self._inflight = True, prepared
                self.lease.release(stage=False)
                holding = False
            self._apply(prepared)
        except BaseException as exc:
            if prepared is not None and prepared.failed is None:
                prepared.failed = exc  # not written: nothing may be written on top of it
            for t in batch:
                t.error = exc
        else:
            for t, outcome in zip(batch, prepared.outcomes, strict=True):
                t.outcome = outcome
            after = self._after_lease(prepared.outcomes)
        finally:
            if staged and self.pipelined:
                self._inflight = None
            if holding:
                self.lease.release(stage=staged)
            elif staged:
                self.lease.stage.release()
        try:
            if after is not None:
                self._run_written()
        finally:
            if after is not None:
                after.release()
            for t in batch:
                t.finished.set()

    def _after_lease(self, outcomes: list[Allocation | BaseException]) -> WriteLease | None:
        """The after lease, taken (still under the write lease or stage) when something was committed."""
        if not self.written or not any(isinstance(outcome, Allocation) for outcome in outcomes):
            return None
        try:
            self.lease.after.acquire()
        except OSError:  # committed all the same; derived indexes catch up on their next use
            log.exception("the after-commit lease cannot be taken")
            return None
        return self.lease.after

    def _run_written(self) -> None:
        for hook in self.written:
            try:
                hook()
            except Exception:  # derived data must never fail a committed change; it catches up later
                log.exception("a hook after a commit failed")

    def commit_many(self, changes: Sequence[Change],
                    written: Callable[[list[Allocation | BaseException]], None] | None = None
                    ) -> list[Allocation | BaseException]:
        """Write several commands' effects as ONE update (imports), under the write lease; `written`
        runs under the lease too, right after the update (derived indexes see the batch in order)."""
        with self.lease.held():
            outcomes = self._commit_locked(changes)
            with self.lease.after.held():
                if written is not None:
                    written(outcomes)
                self._run_written()
            return outcomes

    def _commit_locked(self, changes: Sequence[Change]) -> list[Allocation | BaseException]:
        """The commit itself (prepare, then write); the caller holds the write lease with its stage."""
        prepared = self._prepare(changes)
        self._apply(prepared)
        return prepared.outcomes

    def _prepare(self, changes: Sequence[Change]) -> _Prepared:
        """Everything of a commit before the store write; the caller holds the write lease.

        Read the counters and every guard (current versions, key owners, idempotency keys) in one
        query; a change whose guard no longer holds — or that collides with an earlier change of
        the same batch — gets Refused and is left out; the others get consecutive sequence
        numbers, strictly increasing timestamps and (new records) V-code numbers, and go to the
        store in one DELETE/INSERT that also moves the counters. A change whose `build` raises (its
        audit entry could not be written) is left out with that exception as its outcome.
        """
        underway = self._inflight  # taken before the store is read (see _guard_facts)
        facts = self._guard_facts(changes, underway)
        sequence, last_vcode, last_time = astuple(counters_of(facts.get(keys.REGISTER.value, {})))
        first = (sequence, last_vcode, last_time)
        outcomes: list[Allocation | BaseException] = []
        delete: list[Quad] = []
        insert: list[Quad | NQuads] = []
        claimed: set[str] = set()
        with ExitStack() as sealed:
            for seal in self.sealing:
                sealed.enter_context(seal())
            for change in changes:
                try:
                    _check_guard(change, facts, claimed)
                except Refused as refused:
                    outcomes.append(refused)
                    continue
                vcode_number = None if change.subject else max(last_vcode + 1, change.min_vcode_number)
                at = Allocation(sequence + 1, _next_timestamp(change.now, last_time), vcode_number)
                try:
                    gone, added = change.build(at)
                except Exception as exc:
                    outcomes.append(exc)
                    continue
                delete += gone
                insert += added
                sequence, last_time = at.sequence, at.timestamp
                last_vcode = vcode_number if vcode_number is not None else last_vcode
                outcomes.append(at)
        return _Prepared(changes, outcomes, delete, insert, first, (sequence, last_vcode, last_time), underway)

    def _apply(self, prepared: _Prepared) -> None:
        """Write a prepared group (the caller holds the store stage), then its changes' on_commit."""
        try:
            if prepared.underway is not None and prepared.underway.failed is not None:
                raise prepared.underway.failed  # prepared on counters and guards that never reached the store
            if prepared.after == prepared.before:
                return
            self._write(prepared.delete, prepared.insert, prepared.before, prepared.after)
        except BaseException as exc:
            prepared.failed = exc
            self._seen_counters = None
            raise
        self._seen_counters = prepared.after
        for change, outcome in zip(prepared.changes, prepared.outcomes, strict=True):
            if change.on_commit is not None and isinstance(outcome, Allocation):
                change.on_commit(outcome)

    def _guard_facts(self, changes: Sequence[Change], underway: _Prepared | None = None
                     ) -> dict[str, dict[str, str]]:
        """The system facts of every subject the changes' guards name (and the counters), as they will
        be once `underway` (a group being written meanwhile) is: its system quads are laid over what
        the store answers. Laying them over a store that already has them changes nothing, so it does
        not matter whether that write ends before or after the read."""
        known = self._known_counters()
        hint = self._seen_counters if known is None else None
        subjects = set() if known is not None or hint is not None else {keys.REGISTER.value}
        for change in changes:
            subjects.update(k.value for k in change.unique_keys)
            if change.subject:
                subjects.add(change.subject)
            if change.idempotency is not None:
                subjects.add(change.idempotency.value)
        facts: dict[str, dict[str, str]] = {}
        if known is not None:
            facts[keys.REGISTER.value] = dict(known)
        branches = [f"{{ VALUES ?k {{ {' '.join(f'<{s}>' for s in subjects)} }} ?k ?p ?o }}"] if subjects else []
        branches += [_probe(quad) for quad in counter_quads(hint)] if hint is not None else []
        if branches:
            for row in self._select(f"SELECT ?k ?p ?o WHERE {{ GRAPH <{GRAPH_SYSTEM}> {{ "
                                    f"{' UNION '.join(branches)} }} }}"):
                keep_fact(facts.setdefault(row[0].value, {}), row[1].value, row[2].value)
        if hint is not None and len(facts.get(keys.REGISTER.value, {})) < len(counter_quads(hint)):
            facts[keys.REGISTER.value] = self.bookkeeping(keys.REGISTER)  # another process committed since
        if underway is not None:
            _lay_over(facts, subjects | {keys.REGISTER.value}, underway)
        return facts

    def _known_counters(self) -> dict[str, str] | None:
        """The register's counters as facts, when this process knows them without asking the store
        (the embedded engine, which alone can write its store); None: they are read with the guards."""
        return None

    def _write(self, delete: list[Quad], insert: list[Quad | NQuads], before: tuple[int, int, str],
               after: tuple[int, int, str]) -> None:
        """One DELETE/INSERT with the counters moved from `before` to `after`.

        The WHERE clause repeats the guard on the sequence: a writer that bypassed the lease makes
        this update a no-op instead of a second change with the same sequence number.
        """
        guard = f"{keys.REGISTER} {keys.SEQUENCE} {keys.integer(before[0])}"
        self._update(f"DELETE {{ {data_block([*delete, *counter_quads(before)])} }}\n"
                     f"INSERT {{ {data_block([*expand_inserts(insert), *counter_quads(after)])} }}\n"
                     f"WHERE {{ GRAPH <{GRAPH_SYSTEM}> {{ {guard} }} }}")


@dataclass
class _Prepared:
    """A group commit checked and built, waiting for (or in) its store write."""

    changes: Sequence[Change]
    outcomes: list[Allocation | BaseException]
    delete: list[Quad]
    insert: list[Quad | NQuads]
    before: tuple[int, int, str]  # the counters it was allocated from
    after: tuple[int, int, str]
    underway: _Prepared | None = None  # the group that was being written while this one was prepared
    failed: BaseException | None = None  # its write failed: a group prepared on top of it must not write


def _lay_over(facts: dict[str, dict[str, str]], subjects: set[str], group: _Prepared) -> None:
    """Apply a group's system-graph deletes and inserts (counters included) to `facts`, for `subjects`."""
    def mine(quad: Quad) -> bool:
        return quad.graph_name == keys.G_SYSTEM and quad.subject.value in subjects

    for quad in [*group.delete, *counter_quads(group.before)]:
        if mine(quad):
            held = facts.get(quad.subject.value, {})
            name = quad.predicate.value.removeprefix(VRX)
            if held.get(name) == quad.object.value:
                del held[name]
    for quad in [*expand_inserts(group.insert), *counter_quads(group.after)]:
        if mine(quad):
            keep_fact(facts.setdefault(quad.subject.value, {}), quad.predicate.value, quad.object.value)
    for subject in [s for s, held in facts.items() if not held]:
        del facts[subject]  # e.g. a key whose owner the group removed: as absent as in the store


class _Ticket:
    def __init__(self, change: Change) -> None:
        self.change = change
        self.taken = False  # a leader has it in its group (set under the write lease)
        self.finished = threading.Event()  # its group is written and the `written` hooks have run
        self.outcome: Allocation | Refused | None = None
        self.error: BaseException | None = None


class QuadIndex:
    """A few fetched quads with pattern lookups (historiek walks one record's versions in memory)."""

    def __init__(self, quads: Iterable[Quad]) -> None:
        self._store = Store()
        self._store.extend(quads)

    def quads_for_pattern(self, subject=None, predicate=None, obj=None, graph=None) -> Iterator[Quad]:
        return self._store.quads_for_pattern(subject, predicate, obj, graph)

    def tree(self, root: str, graphs: Sequence[str]) -> list[Quad]:
        """Root and the nodes below it (same walk as a record read)."""
        return walk(self._store.quads_for_pattern, root, graphs)

    def __bool__(self) -> bool:
        return any(True for _ in self._store.quads_for_pattern(None, None, None, None))


def walk(find: Callable, root: str, graphs: Sequence[str]) -> list[Quad]:
    """Root IRI and every IRI below it reachable from there, by pattern scans."""
    prefix = root + "/"
    graph_nodes = [NamedNode(g) for g in graphs]
    seen, todo, out = {root}, [root], []
    while todo:
        subject = NamedNode(todo.pop())
        for graph in graph_nodes:
            for quad in find(subject, None, None, graph):
                out.append(quad)
                obj = quad.object
                if isinstance(obj, NamedNode) and obj.value.startswith(prefix) and obj.value not in seen:
                    seen.add(obj.value)
                    todo.append(obj.value)
    return out


def counter_quads(values: tuple[int, int, str]) -> list[Quad]:
    """The register-wide counters (sequence, last V-code number, last timestamp) as system quads."""
    sequence, vcode, time = values
    out = [Quad(keys.REGISTER, keys.SEQUENCE, keys.integer(sequence), keys.G_SYSTEM),
           Quad(keys.REGISTER, keys.LAST_VCODE, keys.integer(vcode), keys.G_SYSTEM)]
    if time:
        out.append(Quad(keys.REGISTER, keys.LAST_TIMESTAMP, keys.timestamp_literal(time), keys.G_SYSTEM))
    return out


_COUNTERS = {keys.SEQUENCE.value, keys.LAST_VCODE.value, keys.LAST_TIMESTAMP.value}


def keep_fact(found: dict[str, str], predicate: str, value: str) -> None:
    """Add a system fact by its local name. A counter seen twice keeps its highest value: the embedded
    engine's bulk write (oxigraph_store.py) adds the new counters before it removes the old ones, so a
    crash in between leaves both, and the highest is the one that goes with the data."""
    name = predicate.removeprefix(VRX)
    if predicate in _COUNTERS and name in found:
        old = found[name]
        if (int(value) > int(old)) if predicate != keys.LAST_TIMESTAMP.value else value > old:
            found[name] = value
        return
    found[name] = value


def _probe(quad: Quad) -> str:
    """A SPARQL group that finds this exact system quad by a point lookup, bound as ?k ?p ?o (a scan of
    the subject would step over every removed counter the store still keeps)."""
    return (f"{{ {quad.subject} {quad.predicate} {quad.object} BIND({quad.subject} AS ?k) "
            f"BIND({quad.predicate} AS ?p) BIND({quad.object} AS ?o) }}")


def counters_of(facts: dict[str, str]) -> Counters:
    def local(term: NamedNode) -> str:
        return term.value.removeprefix(VRX)

    return Counters(int(facts.get(local(keys.SEQUENCE), 0)), int(facts.get(local(keys.LAST_VCODE), 0)),
                    canonical_time(facts.get(local(keys.LAST_TIMESTAMP), "")))


def canonical_time(text: str) -> str:
    """An xsd:dateTime in UTC as a store gives it back (no trailing zeros in the fraction, none at all
    for whole seconds): the counters read the same whether they come from the store or from memory."""
    found = _UTC_TIME.fullmatch(text)
    if found is None:
        return text
    fraction = (found[2] or "").rstrip("0")
    return f"{found[1]}.{fraction}Z" if fraction else f"{found[1]}Z"


_UTC_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z")


def _check_guard(change: Change, facts: dict[str, dict[str, str]], claimed: set[str]) -> None:
    """Raise Refused when the change's guard does not hold; else claim its subject and keys."""
    if change.idempotency is not None and (change.idempotency.value in facts or change.idempotency.value in claimed):
        raise Refused("herhaling", facts.get(change.idempotency.value, {}))
    for key in change.unique_keys:
        owner = facts.get(key.value, {}).get("vereniging")
        if owner or key.value in claimed:
            raise Refused("sleutel", owner or "")
    if change.subject is not None:
        current = facts.get(change.subject, {})
        version = int(current["versienummer"]) if "versienummer" in current else None
        if version != change.expected_version or current.get("verwijderd") == "true" or change.subject in claimed:
            raise Refused("versie", version)
        claimed.add(change.subject)
    claimed.update(k.value for k in change.unique_keys)
    if change.idempotency is not None:
        claimed.add(change.idempotency.value)


def _next_timestamp(now: datetime, previous: str) -> str:
    """Now, but strictly after the previous change, so stream order equals time order."""
    now = now.astimezone(UTC)
    if previous:
        before = datetime.fromisoformat(previous.replace("Z", "+00:00"))
        if now <= before:
            now = before + timedelta(microseconds=1)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _iris(graphs: Iterable[str]) -> str:
    return " ".join(f"<{g}>" for g in graphs)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def _value(term) -> str | None:
    return term.value if term is not None else None


def data_block(quads: Iterable[Quad]) -> str:
    """Quads as the body of INSERT DATA / DELETE DATA / a ground template, grouped per graph."""
    by_graph: dict[str, list[str]] = {}
    for quad in quads:
        if isinstance(quad.graph_name, DefaultGraph):
            raise ValueError("the register never writes to the default graph")
        by_graph.setdefault(str(quad.graph_name), []).append(f"{quad.subject} {quad.predicate} {quad.object} .")
    return " ".join(f"GRAPH {graph} {{ {' '.join(lines)} }}" for graph, lines in by_graph.items())


__all__ = ["Allocation", "Audience", "BaseMismatch", "Change", "Counters", "Member", "NQuads", "QuadIndex", "Refused",
           "RegisterStore", "RDF"]
