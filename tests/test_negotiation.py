"""One negotiation function and one format registry serve every surface."""

from __future__ import annotations

import pytest
from flask import Flask

from app.publication import negotiation
from app.publication.negotiation import NotAcceptable, negotiate

APP = Flask(__name__)
GRAPHS = ("ttl", "nt", "jsonld", "rdf")


def chosen(offered, path="/", headers=None, extension=None, **options) -> str:
    with APP.test_request_context(path, headers=headers or {}):
        from flask import request

        return negotiate(request, offered, extension, **options).key


def test_extension_then_format_then_accept():
    assert chosen(negotiation.RECORD, "/?format=nt", {"Accept": "text/turtle"}, extension="rdf") == "rdf"
    assert chosen(negotiation.RECORD, "/?format=turtle", {"Accept": "application/rdf+xml"}) == "ttl"
    assert chosen(negotiation.RECORD, "/?format=application/n-triples") == "nt"
    assert chosen(negotiation.RECORD, headers={"Accept": "application/ld+json"}) == "jsonld"
    assert chosen(negotiation.RECORD, headers={"Accept": "application/json"}) == "jsonld"
    assert chosen(negotiation.RECORD) == "html"  # a client that does not say gets the first offered


def test_unknown_extension_and_unacceptable_requests():
    with pytest.raises(KeyError):
        chosen(negotiation.RECORD, extension="exe")
    with pytest.raises(NotAcceptable):
        chosen(negotiation.RECORD, headers={"Accept": "image/png"})
    with pytest.raises(NotAcceptable):
        chosen(GRAPHS, "/?format=csv")


def test_defaults_and_lenient_surfaces():
    assert chosen(("nq", "ttl", "jsonld"), default="ttl") == "ttl"
    assert chosen(("nq", "ttl", "jsonld"), headers={"Accept": "*/*"}, default="ttl") == "nq"
    assert chosen(GRAPHS, headers={"Accept": "text/html"}, lenient=True) == "ttl"  # a browser gets Turtle
    assert chosen(("json", "xml", "csv", "tsv"), "/?format=ttl", lenient=True) == "json"  # another family's
    assert chosen(("json", "xml", "csv", "tsv"), headers={"Accept": "application/json"}) == "json"


def test_every_offered_key_is_in_the_one_registry():
    from app.exchange import export
    from app.publication import sparql, streams

    for offered in (negotiation.RECORD, streams.OFFERED, sparql.SOLUTIONS, sparql.GRAPHS, tuple(export.FORMATS)):
        assert set(offered) <= set(negotiation.FORMATS)


def test_media_type_parameters_do_not_make_a_format_unacceptable():
    """`text/turtle; charset=utf-8` or a JSON-LD profile ask for Turtle and JSON-LD (werkzeug matched nothing)."""
    asked = {"text/turtle; charset=utf-8": "ttl", "application/ld+json; profile=\"http://www.w3.org/ns/json-ld#"
             "compacted\"": "jsonld", "application/ld+json;charset=utf-8": "jsonld", "Application/N-Triples; "
             "charset=utf-8": "nt", "text/html; level=1": "html", "text/turtle;q=0.5, application/rdf+xml;q=0.9": "rdf"}
    for accept, key in asked.items():
        assert chosen(negotiation.RECORD, headers={"Accept": accept}) == key, accept
    sparql = ("json", "xml", "csv", "tsv")
    assert chosen(sparql, headers={"Accept": "application/sparql-results+json; charset=utf-8"}) == "json"
