"""Oxigraph access: the only code that talks to pyoxigraph.Store.

Writes happen as ONE SPARQL update (DELETE DATA + INSERT DATA), which Oxigraph applies as a
single transaction: a reader sees the old record or the new one, never a mix. Reads take the
quads of one record from explicitly named graphs, so a caller states which graphs it may see.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, Store

from app.namespaces import (
    ADRES,
    CONCEPT,
    GRAPH_CODELISTS,
    GRAPH_PUBLIC,
    GRAPH_SYSTEM,
    LOCN,
    ORG,
    REGORG,
    SKOS,
    VRX,
    XSD,
)
from app.store.recovery import Recovering

G_SYSTEM = NamedNode(GRAPH_SYSTEM)


class RegisterStore:
    def __init__(self, path: str | Path | None) -> None:
        if path is not None:
            Path(path).mkdir(parents=True, exist_ok=True)
        # A failed write (full disk) reopens the database before the next one: see recovery.py.
        self._engine = Recovering(Path(path) if path is not None else None)
        # Serialises writers within this process; readers never wait for it.
        self.write_lock = threading.Lock()

    @property
    def store(self) -> Store:
        return self._engine.store

    # -- writing ------------------------------------------------------------------------------
    def insert(self, quads: Sequence[Quad]) -> None:
        """Add quads in one transaction (Store.extend is atomic): all of them or none."""
        for quad in quads:
            if isinstance(quad.graph_name, DefaultGraph):
                raise ValueError("the register never writes to the default graph")
        with self._engine.writing():
            self.store.extend(quads)

    def apply(self, delete: Iterable[Quad], insert: Iterable[Quad]) -> None:
        """Remove and add quads in one transaction (one SPARQL update): all of it or nothing."""
        parts = []
        delete_block, insert_block = _data_block(delete), _data_block(insert)
        if delete_block:
            parts.append(f"DELETE DATA {{ {delete_block} }}")
        if insert_block:
            parts.append(f"INSERT DATA {{ {insert_block} }}")
        if parts:
            with self._engine.writing():
                self.store.update(" ;\n".join(parts))

    def replace_graph(self, graph: str, quads: Sequence[Quad]) -> None:
        """Reference data (code lists) only: replace a whole graph in one transaction."""
        target = NamedNode(graph)
        with self._engine.writing():
            self.store.update(f"DROP SILENT GRAPH {target} ;\nINSERT DATA {{ {_data_block(quads)} }}")

    # -- reading ------------------------------------------------------------------------------
    def graph_quads(self, graph: str) -> list[Quad]:
        return list(self.store.quads_for_pattern(None, None, None, NamedNode(graph)))

    def record_quads(self, root: str, graphs: Sequence[str]) -> list[Quad]:
        """The quads of a record: its root IRI and every IRI below it reachable from there."""
        prefix = root + "/"
        graph_nodes = [NamedNode(g) for g in graphs]
        seen = {root}
        todo = [root]
        result: list[Quad] = []
        while todo:
            subject = NamedNode(todo.pop())
            for graph in graph_nodes:
                for quad in self.store.quads_for_pattern(subject, None, None, graph):
                    result.append(quad)
                    obj = quad.object
                    if isinstance(obj, NamedNode) and obj.value.startswith(prefix) and obj.value not in seen:
                        seen.add(obj.value)
                        todo.append(obj.value)
        return result

    def system_value(self, subject: NamedNode, predicate: str) -> str | None:
        for quad in self.store.quads_for_pattern(subject, NamedNode(VRX + predicate), None, G_SYSTEM):
            return quad.object.value
        return None

    def system_quads(self, subject: NamedNode) -> list[Quad]:
        return list(self.store.quads_for_pattern(subject, None, None, G_SYSTEM))

    def active_at_postcodes(self, postcodes: Iterable[str]) -> list[dict[str, str]]:
        """Active verenigingen with a public locatie at one of these postcodes (duplicate search in imports):
        vCode, naam and one address per locatie, in one query."""
        values = " ".join(f'"{p}"' for p in sorted(set(postcodes)) if p.isdigit())
        if not values:
            return []
        query = f"""
            SELECT ?code ?naam ?straat ?nummer ?postcode ?gemeente WHERE {{
              VALUES ?postcode {{ {values} }}
              ?adres <{LOCN}postCode> ?postcode .
              OPTIONAL {{ ?adres <{LOCN}thoroughfare> ?straat }}
              OPTIONAL {{ ?adres <{ADRES}Adresvoorstelling.huisnummer> ?nummer }}
              OPTIONAL {{ ?adres <{ADRES}gemeentenaam> ?gemeente }}
              ?site <{LOCN}address> ?adres . ?v <{ORG}hasSite> ?site ;
                 <{REGORG}orgStatus> <{CONCEPT}verenigingstatus/Actief> ;
                 <{SKOS}prefLabel> ?naam ; <http://purl.org/dc/terms/identifier> ?code .
            }}"""
        rows = self.store.query(query, default_graph=[NamedNode(GRAPH_PUBLIC)])
        return [{name: (row[name].value if row[name] is not None else "") for name in
                 ("code", "naam", "straat", "nummer", "postcode", "gemeente")} for row in rows]

    def verenigingen_met_erkenningen(self) -> list[str]:
        """V-codes of the verenigingen that have at least one erkenning (their status follows the calendar)."""
        query = """SELECT DISTINCT ?code WHERE {
            ?v <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#heeftErkenning> ?e ;
               <http://purl.org/dc/terms/identifier> ?code } ORDER BY ?code"""
        return [row["code"].value for row in self.store.query(query, default_graph=[NamedNode(GRAPH_PUBLIC)])]

    def has_codelists(self) -> bool:
        return any(True for _ in self.store.quads_for_pattern(None, None, None, NamedNode(GRAPH_CODELISTS)))

    def flush(self) -> None:
        """Write the memtable to disk. What was committed is already in the write-ahead log, so a
        failure here (full disk) is logged and repaired by the next write, never reported as a failed commit."""
        self._engine.flush()


def system_quad(subject: NamedNode, predicate: str, value: str | int, datatype: str = "integer") -> Quad:
    return Quad(subject, NamedNode(VRX + predicate), Literal(str(value), datatype=NamedNode(XSD + datatype)),
                G_SYSTEM)


def _data_block(quads: Iterable[Quad]) -> str:
    by_graph: dict[str, list[str]] = {}
    for quad in quads:
        if isinstance(quad.graph_name, DefaultGraph):
            raise ValueError("the register never writes to the default graph")
        by_graph.setdefault(str(quad.graph_name), []).append(
            f"{quad.subject} {quad.predicate} {quad.object} .")
    return " ".join(f"GRAPH {graph} {{ {' '.join(lines)} }}" for graph, lines in by_graph.items())
