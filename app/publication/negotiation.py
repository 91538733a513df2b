"""Content negotiation for RDF resources: extension > ?format= > Accept."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Request
from pyoxigraph import RdfFormat


@dataclass(frozen=True)
class Representation:
    key: str
    media_type: str
    rdf_format: RdfFormat | None  # None: rendered by us (HTML, compact JSON-LD)


REPRESENTATIONS = {
    "html": Representation("html", "text/html", None),
    "ttl": Representation("ttl", "text/turtle", RdfFormat.TURTLE),
    "jsonld": Representation("jsonld", "application/ld+json", None),
    "nt": Representation("nt", "application/n-triples", RdfFormat.N_TRIPLES),
    "rdf": Representation("rdf", "application/rdf+xml", RdfFormat.RDF_XML),
}
ALIASES = {"turtle": "ttl", "json": "jsonld", "json-ld": "jsonld", "ntriples": "nt", "xml": "rdf",
           "rdfxml": "rdf", "htm": "html"}
# Media types we answer, in order of preference when the client does not care.
OFFERED = [
    ("text/html", "html"), ("text/turtle", "ttl"), ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"), ("application/rdf+xml", "rdf"), ("application/json", "jsonld"),
    ("application/xhtml+xml", "html"), ("application/x-turtle", "ttl"), ("text/plain", "nt"),
]


class NotAcceptable(Exception):
    pass


def by_key(key: str) -> Representation | None:
    key = ALIASES.get(key.lower(), key.lower())
    return REPRESENTATIONS.get(key)


def choose(request: Request, extension: str | None) -> Representation:
    """Pick a representation; raise NotAcceptable (→ 406) or KeyError (unknown extension → 404)."""
    if extension:
        found = by_key(extension)
        if found is None:
            raise KeyError(extension)
        return found
    wanted = request.args.get("format")
    if wanted:
        found = by_key(wanted) or next((REPRESENTATIONS[k] for m, k in OFFERED if m == wanted), None)
        if found is None:
            raise NotAcceptable(wanted)
        return found
    if not request.accept_mimetypes:
        return REPRESENTATIONS["html"]
    best = request.accept_mimetypes.best_match([media for media, _ in OFFERED])
    if best is None:
        raise NotAcceptable(request.headers.get("Accept", ""))
    return REPRESENTATIONS[dict(OFFERED)[best]]
