"""SHACL shapes: they catch a broken record even when the domain rules are bypassed, and the
compiled-shapes fast path gives the same verdicts as a plain pyshacl.validate call."""

from __future__ import annotations

import copy
import signal
import subprocess
import sys
import time

import pyshacl
import pytest
from pyoxigraph import Literal, NamedNode, Quad
from rdflib.namespace import RDF, SH

from app import paths
from app.domain import mapping
from app.domain.parse import parse_registration
from app.namespaces import GRAPH_PUBLIC, REGORG, SCHEMA, SKOS, XSD
from app.validation import shacl
from tests.conftest import BASE, VALID_BODY
from tests.test_import import alive, children

ROOT = f"{BASE}/id/vereniging/V0001001"


def record() -> list[Quad]:
    state = parse_registration(copy.deepcopy(VALID_BODY))
    for key in ("locaties", "contactgegevens", "vertegenwoordigers"):
        for index, item in enumerate(state[key], start=1):
            item["id"] = index
    public, restricted = mapping.state_to_quads(state, BASE, "V0001001")
    return public + restricted


def without(quads, predicate):
    return [q for q in quads if q.predicate.value != predicate]


def plus(quads, subject, predicate, obj):
    return quads + [Quad(NamedNode(subject), NamedNode(predicate), obj, NamedNode(GRAPH_PUBLIC))]


XSD_DATE = NamedNode(XSD + "date")
XSD_INTEGER = NamedNode(XSD + "integer")


def replace(quads, predicate, obj):
    return [Quad(q.subject, q.predicate, obj, q.graph_name) if q.predicate.value == predicate else q for q in quads]


BROKEN = {
    "no name": lambda q: without(q, SKOS + "prefLabel"),
    "two names": lambda q: plus(q, ROOT, SKOS + "prefLabel", Literal("Andere naam", language="nl")),
    "four activities": lambda q: plus(plus(q, ROOT, REGORG + "orgActivity",
                                           NamedNode("https://w3id.org/verenigingsregister/concept/hoofdactiviteit/TOER")),
                                      ROOT, REGORG + "orgActivity",
                                      NamedNode("https://w3id.org/verenigingsregister/concept/hoofdactiviteit/HOSP")),
    "activity from another scheme": lambda q: plus(q, ROOT, REGORG + "orgActivity",
                                                   NamedNode("https://w3id.org/verenigingsregister/concept/locatietype/Activiteiten")),
    "bad founding date": lambda q: replace(q, SCHEMA + "foundingDate", Literal("2015-13-01", datatype=XSD_DATE)),
    "age out of range": lambda q: replace(q, SCHEMA + "suggestedMaxAge", Literal("200", datatype=XSD_INTEGER)),
    "unknown werkingsgebied": lambda q: plus(q, ROOT, "http://purl.org/dc/terms/spatial",
                                             NamedNode("https://w3id.org/verenigingsregister/concept/werkingsgebied/BE99")),
    "site without address": lambda q: without(q, "http://www.w3.org/ns/locn#address"),
    "representative without INSZ": lambda q: without(q, "https://w3id.org/verenigingsregister/ns#insz"),
}


def test_valid_record_conforms():
    quads = record()
    assert shacl.check(quads, ROOT, mapping.referenced_facts(quads)) == []


@pytest.mark.parametrize("case", BROKEN)
def test_shapes_catch_broken_records(case):
    quads = BROKEN[case](record())
    errors = shacl.check(quads, ROOT, mapping.referenced_facts(quads))
    assert errors, case
    assert all(e.code == "shacl" and e.message for e in errors)


@pytest.mark.parametrize("case", [None, *BROKEN])
def test_compiled_shapes_give_the_same_verdict_as_plain_pyshacl(case):
    quads = record() if case is None else BROKEN[case](record())
    graph = shacl.data_graph(quads + mapping.referenced_facts(quads))
    fast, fast_report = shacl.run_pyshacl(graph)
    plain, plain_report, _ = pyshacl.validate(graph, shacl_graph=shacl.shapes_graph(), inference="none")
    assert fast == plain
    assert _results(fast_report) == _results(plain_report)


def _results(report) -> set[tuple[str, str]]:
    return {(str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)))
            for r in report.subjects(RDF.type, SH.ValidationResult)}


def test_generated_codelist_shapes_are_up_to_date():
    from app.validation import codelist_shapes

    assert codelist_shapes.TARGET.read_text(encoding="utf-8") == codelist_shapes.build(), \
        "run: python -m app.validation.codelist_shapes"


def test_worker_processes_give_the_same_verdicts():
    pool = shacl.ShaclPool(2)
    try:
        pool.warm()  # what `vr serve` does before it listens: every worker has compiled the shapes
        for case in [None, *BROKEN]:
            quads = record() if case is None else BROKEN[case](record())
            facts = mapping.referenced_facts(quads)
            assert pool.check(quads, ROOT, facts) == shacl.check(quads, ROOT, facts), case
    finally:
        pool.close()


def test_a_warmed_in_process_pool_has_the_shapes_compiled_before_the_first_check():
    shacl._turbo_shapes.cache_clear()
    shacl.ShaclPool(0).warm()
    assert shacl._turbo_shapes.cache_info().currsize == 1


def test_validation_workers_end_with_their_process():
    """kill -9 of a register started with VR_SHACL_WORKERS leaves no worker behind."""
    code = ("import time; from app.validation.shacl import ShaclPool; pool = ShaclPool(2); pool.warm(); "
            "print('klaar', flush=True); time.sleep(600)")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=paths.ROOT, stdout=subprocess.PIPE)
    try:
        assert process.stdout.readline().strip() == b"klaar"
        workers = children(process.pid)
        assert len(workers) >= 2 and all(alive(pid) for pid in workers)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
