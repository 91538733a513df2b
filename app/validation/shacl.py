"""SHACL validation of one record (every write) or a batch (imports).

The shapes are parsed and compiled once per process. Each write validates only the record it
would store plus the few facts it references, never the whole store, so the cost stays flat as
the register grows. Writes and imports use pyshacl-turbo (Rust, ~6x faster per record than
pyshacl); pyshacl stays as the reference engine that tests/test_shacl_engines.py compares with.
ShaclPool can run validations in worker processes.
"""

from __future__ import annotations

import multiprocessing
import re
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from typing import NamedTuple

import pyoxigraph
import pyshacl.shape
import rdflib
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad
from pyshacl import Validator
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
from pyshacl.graph_abstraction import DataGraph
from pyshacl.shapes_graph import ShapesGraph
from rdflib.namespace import SH, XSD, NamespaceManager

from app import paths
from app.parent_watch import end_with_parent
from app.validation import shacl_paths
from app.validation.errors import FieldError

_XSD_STRING = str(XSD.string)


@cache
def shapes_graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted(paths.SHAPES.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


# pyshacl looks every shape parameter up in a list of constraint parameters; a set gives the
# same answers ~20% faster. Same verdicts are asserted in tests/test_shacl.py.
pyshacl.shape.CONSTRAINT_PARAMS = (frozenset(ALL_CONSTRAINT_PARAMETERS), CONSTRAINT_PARAMETERS_MAP)


@cache
def _compiled_shapes() -> ShapesGraph:
    """pyshacl's compiled form of the shapes, built once instead of on every validation.

    pyshacl has no public API for this; a Validator is built per call and handed this object.
    tests/test_shacl.py checks that verdicts equal those of a plain pyshacl.validate() call.
    """
    compiled = ShapesGraph(shapes_graph())
    _ = compiled.shapes  # harvest the shapes now
    return compiled


# The compiled shapes are shared and pyshacl fills caches in them lazily while validating; two
# threads doing that at once have raised KeyError from rdflib's memory store under load. pyshacl is
# pure Python (GIL-bound), so serialising it in a process costs no parallelism: processes
# (ShaclPool workers, gunicorn workers) are what validate in parallel.
_pyshacl_lock = threading.Lock()


def run_pyshacl(graph: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
    with _pyshacl_lock:
        return _run_pyshacl(graph)


def _run_pyshacl(graph: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
    validator = Validator(DataGraph.from_rdflib(graph), shacl_graph=shapes_graph(),
                          options={"inference": "none", "allow_infos": True, "allow_warnings": True})
    validator.shacl_graph = _compiled_shapes()
    conforms, report, _ = validator.run()
    return conforms, report


def _term(term):
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return rdflib.Literal(term.value, datatype=None if datatype == _XSD_STRING else rdflib.URIRef(datatype))
    raise TypeError(f"unsupported term {term!r}")


def data_graph(quads: Iterable[Quad]) -> rdflib.Graph:
    graph = rdflib.Graph(bind_namespaces="none")
    add = graph.add
    for quad in quads:
        add((_term(quad.subject), _term(quad.predicate), _term(quad.object)))
    return graph


def check(quads: Sequence[Quad], root: str, context: Iterable[Quad] = (), engine: str = "turbo"
          ) -> list[FieldError]:
    """Validate a record plus the facts it references; return violations as field errors.

    Code-list membership needs no facts from the store: shapes/codelijsten.ttl lists the
    allowed concepts (sh:in). `context` carries other referenced facts a command needs.
    Every write uses pyshacl-turbo (Rust, ~6x faster); `pyshacl` is the reference engine,
    and tests/test_shacl_engines.py requires identical verdicts from both.
    """
    if engine != "pyshacl":
        return check_batch([(quads, root)], context, engine)[0]
    graph = data_graph([*quads, *context])
    conforms, report = run_pyshacl(graph)
    if conforms:
        return []
    return _field_errors(results(report), root, (str(s) for s in graph.subjects()))


class Result(NamedTuple):
    focus: str
    path: str | None
    component: str
    message: str
    top: str  # focus node of the top-level result this one is a detail of (itself when top-level)
    value: str = ""  # sh:value: the node that failed a sh:node/sh:class check, for instance


def results(report: rdflib.Graph) -> list[Result]:
    """Every validation result, nested details (sh:detail) included."""
    found = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        path = report.value(result, SH.resultPath)
        top = result
        while (parent := report.value(None, SH.detail, top)) is not None:
            top = parent
        found.append(Result(str(report.value(result, SH.focusNode)),
                            str(path) if isinstance(path, rdflib.URIRef) else None,
                            str(report.value(result, SH.sourceConstraintComponent)),
                            str(report.value(result, SH.resultMessage) or ""),
                            str(report.value(top, SH.focusNode)), str(report.value(result, SH.value) or "")))
    return found


def _field_errors(found: list[Result], root: str, subjects: Iterable[str]) -> list[FieldError]:
    """Results as the client's field paths (`contactgegevens[4].waarde`) with a Dutch message each."""
    positions = shacl_paths.item_positions(subjects, root)
    errors = set()
    for focus, path, component, message, *_ in found:
        where = shacl_paths.api_path(focus, path, root, positions)
        errors.add(FieldError(where, "shacl", shacl_paths.message(message or None, component, where)))
    return sorted(errors, key=lambda e: (e.path, e.message))


# -- batches: many records in one data graph ------------------------------------------------------
ENGINES = ("turbo", "pyshacl")


@cache
def _turbo_shapes():
    import pyshacl_turbo

    compiled = pyshacl_turbo.compile_shapes(shapes_graph().serialize(format="turtle"), shacl_graph_format="turtle")
    # pyshacl-turbo binds every prefix of the shapes graph into each report it returns, ~40 rdflib
    # bind() calls per validation, as costly as the validation itself; our reports are read by IRI.
    compiled.graph.namespace_manager = NamespaceManager(rdflib.Graph(), bind_namespaces="none")
    return compiled


def validate_batch(quads: Iterable[Quad], engine: str = "turbo") -> tuple[bool, rdflib.Graph]:
    """One validation over the union of many records (each record is its own set of subjects).

    `turbo` is pyshacl-turbo (Rust), handed the data as N-Quads text; `pyshacl` is the reference.
    tests/test_shacl_engines.py requires identical verdicts per focus node and path from both.
    """
    if engine == "pyshacl":
        return run_pyshacl(data_graph(quads))
    if engine != "turbo":
        raise ValueError(f"unknown SHACL engine {engine!r}")
    # the quads as text made in Rust, the register's graph names cut off (a Python Quad per quad moved
    # to the default graph cost more than the validation itself)
    return _turbo_validate(_GRAPH_NAME.sub(b" .\n", pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS)))


def _turbo_validate(nquads: bytes) -> tuple[bool, rdflib.Graph]:
    """pyshacl-turbo parses the text itself: no in-memory Store to fill and dump again (what it does
    with a Store it is handed)."""
    from pyshacl_turbo import Input

    data = Input(nquads.decode("utf-8"), "oxigraph-nquads", None, {}, preserve_ids=True)
    conforms, report, _ = _turbo_shapes().validate(data, allow_infos=True, allow_warnings=True)
    return conforms, report


# The register's graph name that ends an N-Quads line (a newline inside a literal is escaped, so `\n`
# ends the line): cut off, the quad is a triple of the default graph, which is what the shapes validate.
_GRAPH_NAME = re.compile(rb" <urn:vr:graph:[^<>\s]*> \.\n")


def check_batch(records: Sequence[tuple[Sequence[Quad], str]], context: Iterable[Quad] = (),
                engine: str = "turbo") -> list[list[FieldError]]:
    """Validate many records at once; the errors of each record, in the order given.

    Records must not share subjects (every record lives under its own root IRI); results are
    assigned to the record whose root their focus node is or is under.
    """
    if not records:
        return []
    context = list(context)  # read again for records that share a referenced node (_settle_shared)
    conforms, report = validate_batch([*(q for quads, _ in records for q in quads), *context], engine)
    if conforms:
        return [[] for _ in records]
    roots = {root: index for index, (_, root) in enumerate(records)}
    per_record: list[list[Result]] = [[] for _ in records]
    unowned: list[Result] = []
    failed_values: dict[str, set[int]] = {}  # node → records whose sh:class/sh:node check it failed
    for found in results(report):
        owner = _owner(found.top, roots)
        if owner is None:
            unowned.append(found)
            continue
        per_record[owner].append(found)
        if found.component.endswith(("#ClassConstraintComponent", "#NodeConstraintComponent")):
            failed_values.setdefault(found.value, set()).add(owner)
    shared: dict[str, list[int]] = {}
    for found in unowned:  # a detail about a referenced node (engines differ in linking it to its parent)
        candidates = sorted(failed_values.get(found.top, ())) or _referring(found.top, records)
        if len(candidates) > 1:  # several records point to it: which of them the result is about, is not known
            shared.setdefault(found.top, candidates)
            continue
        for index in candidates:
            per_record[index].append(found)
    if shared:
        _settle_shared(shared, [f for f in unowned if f.top in shared], records, context, engine, per_record)
    return [_field_errors(found, records[i][1], (q.subject.value for q in records[i][0])) if found else []
            for i, found in enumerate(per_record)]


def _settle_shared(shared: dict[str, list[int]], found: list[Result], records: Sequence[tuple[Sequence[Quad], str]],
                   context: list[Quad], engine: str, per_record: list[list[Result]]) -> None:
    """Results on a node outside every record that several records point to, given to exactly the records
    that get them alone: each of those is validated again on its own (only broken batches get here)."""
    for index in sorted({i for candidates in shared.values() for i in candidates}):
        conforms, report = validate_batch([*records[index][0], *context], engine)
        alone = set() if conforms else {(r.focus, r.path, r.component, r.message) for r in results(report)}
        per_record[index] += [f for f in found if index in shared[f.top]
                              and (f.focus, f.path, f.component, f.message) in alone]


def _referring(focus: str, records: Sequence[tuple[Sequence[Quad], str]]) -> list[int]:
    """A focus node outside every record (a referenced concept): the records that point to it."""
    return [index for index, (quads, _) in enumerate(records)
            if any(isinstance(q.object, NamedNode) and q.object.value == focus for q in quads)]


def _owner(focus: str, roots: dict[str, int]) -> int | None:
    if focus in roots:
        return roots[focus]
    head = focus
    while "/" in head:
        head = head.rsplit("/", 1)[0]
        if head in roots:
            return roots[head]
    return None


def _check_serialised(nquads: bytes, root: str) -> list[tuple[str, str, str]]:
    """Worker side: validate the text as it came; only a failing record is parsed, to name its fields."""
    if _turbo_validate(nquads)[0]:
        return []
    quads = list(pyoxigraph.parse(nquads, pyoxigraph.RdfFormat.N_QUADS))
    return [(e.path, e.code, e.message) for e in check(quads, root)]


def _warm_up() -> None:
    """Compile the shapes every write uses before the first write arrives (~0.15 s, once per process)."""
    _turbo_shapes()


def _start_worker() -> None:
    end_with_parent()
    _warm_up()


def compile_shapes(engine: str = "turbo") -> None:
    """Compile the shapes for `engine` now (a worker process, before its first batch)."""
    if engine == "turbo":
        _turbo_shapes()
    else:
        _compiled_shapes()


class ShaclPool:
    """Validates records in `workers` processes; with 0 workers (what `vr serve` uses), in the calling thread.

    Since writes validate with pyshacl-turbo (~0.5 ms a record), handing a record to a worker costs more
    than validating it: serialising it, the pipe both ways and waking the worker cost the server ~2 ms of
    CPU per write over all its processes (bench_writes: 10.6 ms CPU per write with 2 workers, 8.8 in-process).
    Workers remain for a pyshacl-heavy deployment (VR_SHACL_WORKERS).
    """

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        if workers > 0:
            # spawn: the parent runs threads (web server), which fork does not mix well with.
            self._executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_worker)

    def warm(self) -> None:
        """Compile the shapes now (a server calls this before it listens), not in the first request."""
        if self._executor is None:
            _warm_up()
        else:
            for done in [self._executor.submit(_warm_up) for _ in range(self.workers)]:
                done.result()

    def check(self, quads: Sequence[Quad], root: str, context: Iterable[Quad] = ()) -> list[FieldError]:
        if self._executor is None:
            return check(quads, root, context)
        data = [Quad(q.subject, q.predicate, q.object, DefaultGraph()) for q in (*quads, *context)]
        payload = pyoxigraph.serialize(data, format=pyoxigraph.RdfFormat.N_QUADS)
        return [FieldError(*item) for item in self._executor.submit(_check_serialised, payload, root).result()]

    def check_batch(self, records: Sequence[tuple[Sequence[Quad], str]], context: Iterable[Quad] = (),
                    engine: str = "turbo") -> list[list[FieldError]]:
        """Many records in one validation (imports); runs in the calling thread."""
        return check_batch(records, context, engine)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
