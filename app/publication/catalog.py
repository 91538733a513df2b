"""DCAT-AP catalog of the register's open data: the change streams and the full downloads.

Conforms to DCAT-AP 3 (validated in the tests against the official SEMIC SHACL shapes, see
shapes/external/README.md): catalog and datasets with title, description and publisher; every
distribution with an access URL, an IANA media-type IRI and the licence; `dct:modified` is the
time of the last accepted change, and the byte sizes are those of the dump files served (given once
the dump of the current state is written).
Every dataset IRI resolves: the streams to their event stream, the dumps to this description.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from app.namespaces import DCTERMS, LICENTIE, RDF, RDFS, XSD
from app.publication import dumps, streams

bp = Blueprint("catalog", __name__)

DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
IANA = "https://www.iana.org/assignments/media-types/"
ACCESS = "http://publications.europa.eu/resource/authority/access-right/"
LANGUAGE_NL = "http://publications.europa.eu/resource/authority/language/NLD"
PUBLISHER = "https://data.vlaanderen.be/id/organisatie/OVO002949"  # Digitaal Vlaanderen
LDES_SPEC = "https://w3id.org/ldes/specification"
STREAM_TITLES = {False: ("Wijzigingen van verenigingen", "Elke aanvaarde wijziging van een vereniging als versie, met "
                         "wie, wanneer en waarom (Linked Data Event Stream, OSLO Feitelijke Verenigingen)."),
                 True: ("Wijzigingen van verenigingen met persoonsgegevens", "Dezelfde stroom met de "
                        "afgeschermde gegevens (vertegenwoordigers, bankrekeningnummers); enkel met een API-sleutel.")}


def _t(s, p: str, o) -> Triple:
    return Triple(s, NamedNode(p), o)


def _nl(text: str) -> Literal:
    return Literal(text, language="nl")


class Catalog:
    """The catalog's triples, built for the register of the current request."""

    def __init__(self) -> None:
        self.register = current_app.extensions["vr"]
        self.base = self.register.settings.base
        self.triples: list[Triple] = []
        self.modified = self._last_change()

    def _last_change(self) -> Literal | None:
        stamp = self.register.store.counters().timestamp
        return Literal(stamp, datatype=NamedNode(XSD + "dateTime")) if stamp else None

    def add(self, s, p: str, o) -> None:
        self.triples.append(_t(s, p, o))

    def typed(self, iri: str, cls: str, label: str | None = None) -> NamedNode:
        node = NamedNode(iri)
        self.add(node, RDF + "type", NamedNode(cls))
        if label:
            self.add(node, RDFS + "label", _nl(label))
        return node

    def build(self) -> list[Triple]:
        cat = NamedNode(f"{self.base}/ldes")
        self.add(cat, RDF + "type", NamedNode(DCAT + "Catalog"))
        self.add(cat, DCTERMS + "title", _nl("Verenigingsregister – open data"))
        self.add(cat, DCTERMS + "description", _nl(
            "De verenigingen van Vlaanderen als linked open data (OSLO): wijzigingsstromen (LDES) en volledige "
            "downloads, onder de Modellicentie Gratis Hergebruik."))
        self.add(cat, DCTERMS + "publisher", self.publisher())
        self.add(cat, DCTERMS + "license", self.licence())
        self.add(cat, DCTERMS + "language", self.typed(LANGUAGE_NL, DCTERMS + "LinguisticSystem"))
        self.add(cat, FOAF + "homepage", self.typed(f"{self.base}/", FOAF + "Document"))
        if self.modified:
            self.add(cat, DCTERMS + "modified", self.modified)
        for restricted in (False, True):
            self.add(cat, DCAT + "dataset", self.stream_dataset(restricted))
        self.add(cat, DCAT + "dataset", self.dump_dataset())
        return self.triples

    def publisher(self) -> NamedNode:
        node = self.typed(PUBLISHER, FOAF + "Agent")
        self.add(node, FOAF + "name", _nl("Digitaal Vlaanderen"))
        return node

    def licence(self) -> NamedNode:
        return self.typed(LICENTIE, DCTERMS + "LicenseDocument", "Modellicentie Gratis Hergebruik v1.0")

    def dataset(self, iri: str, title: str, description: str, restricted: bool) -> NamedNode:
        node = NamedNode(iri)
        self.add(node, RDF + "type", NamedNode(DCAT + "Dataset"))
        self.add(node, DCTERMS + "title", _nl(title))
        self.add(node, DCTERMS + "description", _nl(description))
        self.add(node, DCTERMS + "publisher", self.publisher())
        self.add(node, DCTERMS + "accessRights", self.typed(
            ACCESS + ("RESTRICTED" if restricted else "PUBLIC"), DCTERMS + "RightsStatement"))
        self.add(node, DCAT + "keyword", _nl("verenigingen"))
        self.add(node, DCAT + "landingPage", self.typed(f"{self.base}/", FOAF + "Document"))
        contact = BlankNode(f"contact{abs(hash(iri))}")
        self.add(node, DCAT + "contactPoint", contact)
        self.add(contact, RDF + "type", NamedNode(VCARD + "Organization"))
        self.add(contact, RDF + "type", NamedNode(VCARD + "Kind"))
        self.add(contact, VCARD + "fn", _nl("Verenigingsregister"))
        self.add(contact, VCARD + "hasURL", NamedNode(f"{self.base}/"))
        if self.modified:
            self.add(node, DCTERMS + "modified", self.modified)
        return node

    def distribution(self, dataset: NamedNode, iri: str, media: str, title: str, download: bool) -> NamedNode:
        node = NamedNode(iri)
        self.add(dataset, DCAT + "distribution", node)
        self.add(node, RDF + "type", NamedNode(DCAT + "Distribution"))
        self.add(node, DCTERMS + "title", _nl(title))
        self.add(node, DCAT + "accessURL", self.typed(iri, RDFS + "Resource"))
        if download:
            self.add(node, DCAT + "downloadURL", node)
        self.add(node, DCAT + "mediaType", self.typed(IANA + media, DCTERMS + "MediaType"))
        self.add(node, DCTERMS + "license", self.licence())
        if self.modified:
            self.add(node, DCTERMS + "modified", self.modified)
        return node

    def stream_dataset(self, restricted: bool) -> NamedNode:
        path = "beheer/verenigingen" if restricted else "verenigingen"
        title, description = STREAM_TITLES[restricted]
        node = self.dataset(f"{self.base}/ldes/{path}", title, description, restricted)
        self.add(node, RDF + "type", NamedNode(streams.LDES + "EventStream"))
        self.add(node, DCTERMS + "conformsTo", self.typed(LDES_SPEC, DCTERMS + "Standard"))
        for suffix, view in (("tijd", "chronologisch"), ("gemeenten", "per gemeente")):
            dist = self.distribution(node, f"{self.base}/ldes/{path}/{suffix}", "text/turtle",
                                     f"{title} ({view}); ook N-Quads, N-Triples, TriG en JSON-LD", download=False)
            self.add(dist, DCTERMS + "conformsTo", NamedNode(LDES_SPEC))
        return node

    def dump_dataset(self) -> NamedNode:
        node = self.dataset(f"{self.base}/dumps/verenigingen", "Alle verenigingen (volledige download)",
                            "De huidige publieke gegevens van alle verenigingen in één bestand, per formaat.",
                            restricted=False)
        for fmt, media in dumps.export.FORMATS.items():
            dist = self.distribution(node, f"{self.base}/dumps/verenigingen.{fmt}", media,
                                     f"Alle verenigingen ({fmt})", download=True)
            size = dumps.public_size(fmt)
            if size is not None:  # unknown until the dump of the current state is written: never a wrong size
                self.add(dist, DCAT + "byteSize", Literal(str(size), datatype=NamedNode(XSD + "nonNegativeInteger")))
        return node


@bp.get("/ldes")
def catalog() -> Response:
    return streams._respond(Catalog().build(), "public, max-age=60")


@bp.get("/dumps/verenigingen")
def dump_dataset() -> Response:
    """The dump dataset's IRI: its own description (with its distributions)."""
    built = Catalog()
    built.dump_dataset()
    return streams._respond(built.triples, "public, max-age=60")
