"""Content negotiation for every surface: one format registry and one function that chooses.

Records, history and vocabulary pages, LDES pages, SPARQL results, small RDF descriptions
(VoID) and dumps all pick their representation here: extension > ?format= > Accept, among the
formats that surface offers, in its order of preference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Request, Response
from pyoxigraph import RdfFormat
from werkzeug.datastructures import MIMEAccept


@dataclass(frozen=True)
class Representation:
    key: str
    media_type: str
    rdf_format: RdfFormat | None  # None: rendered by us (HTML, compact JSON-LD, SPARQL results, CSV)
    aliases: tuple[str, ...] = ()  # other names for ?format= and extensions
    other_media: tuple[str, ...] = field(default=())  # other media types a client may ask this by


# The one format registry.
FORMATS: dict[str, Representation] = {r.key: r for r in (
    Representation("html", "text/html", None, ("htm",), ("application/xhtml+xml",)),
    Representation("ttl", "text/turtle", RdfFormat.TURTLE, ("turtle",), ("application/x-turtle",)),
    Representation("jsonld", "application/ld+json", None, ("json", "json-ld"), ("application/json",)),
    Representation("nt", "application/n-triples", RdfFormat.N_TRIPLES, ("ntriples",), ("text/plain",)),
    Representation("rdf", "application/rdf+xml", RdfFormat.RDF_XML, ("xml", "rdfxml")),
    Representation("nq", "application/n-quads", RdfFormat.N_QUADS, ("nquads",)),
    Representation("trig", "application/trig", RdfFormat.TRIG),
    Representation("csv", "text/csv", None),
    Representation("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", None),
    Representation("tsv", "text/tab-separated-values", None),
    # SPARQL results (keys as the query workers name them; only offered by /sparql)
    Representation("json", "application/sparql-results+json", None, (), ("application/json",)),
    Representation("xml", "application/sparql-results+xml", None),
)}
RECORD = ("html", "ttl", "jsonld", "nt", "rdf")  # records, history, vocabulary pages
REPRESENTATIONS = {key: FORMATS[key] for key in RECORD}


class NotAcceptable(Exception):
    pass


def by_key(key: str, offered: tuple[str, ...] = RECORD) -> Representation | None:
    key = key.lower()
    return next((FORMATS[k] for k in offered if k == key or key in FORMATS[k].aliases), None)


def negotiate(request: Request, offered: tuple[str, ...], extension: str | None = None, *,
              default: str | None = None, lenient: bool = False) -> Representation:
    """The representation of `offered` (keys of FORMATS, most preferred first) this request asks for.

    Raises KeyError for an unknown extension (→ 404) and NotAcceptable when nothing offered fits
    (→ 406). Without an Accept header the `default` (else the first offered) is served; `lenient`
    also serves it to a browser or a client that takes anything (`*/*`, `?format=html`).
    """
    fallback = FORMATS[default or offered[0]]
    if extension:
        found = by_key(extension, offered)
        if found is None:
            raise KeyError(extension)
        return found
    wanted = request.args.get("format")
    if wanted:
        if lenient and wanted == "html" and "html" not in offered:
            return fallback
        found = by_key(wanted, offered) or dict(_media_types(offered)).get(wanted)
        if found is not None:
            return found
        if not lenient:  # a lenient surface offers several families: another family's format is not ours
            raise NotAcceptable(wanted)
    accept = without_parameters(request.accept_mimetypes)
    if not accept or (lenient and accept.best in ("*/*", "text/html") and accept[accept.best] > 0):
        return fallback  # (q=0 rules a type out: 'Accept: */*;q=0' takes nothing)
    best = accept.best_match([media for media, _ in _media_types(offered)])
    if best is None:
        raise NotAcceptable(request.headers.get("Accept", ""))
    return dict(_media_types(offered))[best]


def without_parameters(accept: MIMEAccept) -> MIMEAccept:
    """The Accept header without media type parameters (charset, JSON-LD profile, level): we serve one variant
    of each type, so `text/turtle; charset=utf-8` asks for text/turtle (werkzeug would match no type)."""
    return MIMEAccept([(value.split(";", 1)[0].strip().lower(), quality) for value, quality in accept])


def _media_types(offered: tuple[str, ...]) -> list[tuple[str, Representation]]:
    """(media type, representation), main types first in offered order, then the other names."""
    found = [(FORMATS[key].media_type, FORMATS[key]) for key in offered]
    return found + [(media, FORMATS[key]) for key in offered for media in FORMATS[key].other_media
                    if media not in dict(found)]


def choose(request: Request, extension: str | None) -> Representation:
    """A record-like resource: HTML for browsers and clients that do not say, RDF otherwise."""
    return negotiate(request, RECORD, extension)


def choose_or_problem(request: Request, extension: str | None) -> Representation | Response:
    """`choose`, with its refusals already answered: 404 for an unknown extension, 406 for no fit."""
    from app.publication.problems import http_problem  # problems negotiates its own error pages

    try:
        return choose(request, extension)
    except KeyError:
        return http_problem(404, f"Onbekende extensie '.{extension}'. Gebruik "
                                 + ", ".join("." + key for key in RECORD[1:]) + " of .html.")
    except NotAcceptable:
        return http_problem(406, not_acceptable_detail(RECORD))


def not_acceptable_detail(offered: tuple[str, ...]) -> str:
    return "Beschikbare formaten: " + ", ".join(FORMATS[key].media_type for key in offered) + "."


def representation_tag(version: int, key: str, restricted: bool = False) -> str:
    """The opaque part of a representation's ETag: its version and its format.

    Each format of one version gets its own tag (as RFC 9110 asks of different representations):
    a cache that revalidates with a tag then never answers a Turtle request with its stored JSON-LD.
    The version comes first, so If-Match on a write accepts it (see beheer_api.expected_version).
    """
    return f"{version}-{key}" + ("-beheer" if restricted else "")  # with the restricted data: another body

