"""The system graph's key layout, in one place.

The system graph holds the register's bookkeeping next to the data: which version has a given
register-wide sequence number, which sequences concern a gemeente, who owns a KBO number or an
own key, idempotent POST retries, per-vereniging counters, and the register-wide counters and
identity. Nothing outside app/store builds these IRIs by hand.
"""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad

from app.namespaces import GRAPH_SYSTEM, VRX, XSD

G_SYSTEM = NamedNode(GRAPH_SYSTEM)

# The register itself: its identity (base IRI, id) and the register-wide counters.
REGISTER = NamedNode("urn:vr:register")
BASE_IRI = NamedNode(VRX + "basisIri")
REGISTER_ID = NamedNode(VRX + "registerId")
SEQUENCE = NamedNode(VRX + "laatsteSequentie")  # last sequence number written
LAST_VCODE = NamedNode(VRX + "laatsteVcodeNummer")  # highest V-code number handed out
LAST_TIMESTAMP = NamedNode(VRX + "laatsteTijdstip")  # prov:generatedAtTime of the last change

# Per vereniging (subject: the vereniging's IRI).
VERSION_NUMBER = "versienummer"
REMOVED = "verwijderd"
VCODE_NUMBER = "vcodeNummer"

# Index entries.
VERSION_OF_SEQUENCE = NamedNode(VRX + "versie")  # urn:vr:sequentie:n → version IRI
SEQUENCE_OF = NamedNode(VRX + "sequentie")  # urn:vr:gemeente:code → sequence literals
OWNER = NamedNode(VRX + "vereniging")  # unique key / idempotency key → vereniging IRI
REQUEST_HASH = NamedNode(VRX + "verzoekHash")

# Erasures (urn:vr:wissing:<moment>): when, and which versions lost personal data, for restricted replicas.
ERASURE_PREFIX = "urn:vr:wissing:"
ERASURE_TIME = NamedNode(VRX + "tijdstip")
ERASED_VERSION = NamedNode(VRX + "betreft")

SEQUENCE_PREFIX = "urn:vr:sequentie:"
GEMEENTE_PREFIX = "urn:vr:gemeente:"


def sequence_key(sequence: int) -> NamedNode:
    """Which version has this register-wide sequence number."""
    return NamedNode(f"{SEQUENCE_PREFIX}{sequence}")


def gemeente_key(code: str) -> NamedNode:
    """The sequences of the changes that concern one gemeente."""
    return NamedNode(f"{GEMEENTE_PREFIX}{code}")


def kbo_key(kbo_nummer: str) -> NamedNode:
    return NamedNode(f"urn:vr:kbo:{kbo_nummer}")


def sleutel_key(segment: str) -> NamedNode:
    return NamedNode(f"urn:vr:sleutel:{segment}")


def idempotency_key(digest: str) -> NamedNode:
    return NamedNode(f"urn:vr:idempotentie:{digest}")


def next_id_predicate(segment: str) -> str:
    """Per-vereniging counter of child ids (locaties, contactgegevens, …): ids are never reused."""
    return f"volgende{segment.capitalize()}Id"


def system_quad(subject: NamedNode, predicate: str, value: str | int, datatype: str = "integer") -> Quad:
    return Quad(subject, NamedNode(VRX + predicate), Literal(str(value), datatype=NamedNode(XSD + datatype)),
                G_SYSTEM)


def integer(value: int) -> Literal:
    return Literal(str(value), datatype=NamedNode(XSD + "integer"))


def timestamp_literal(value: str) -> Literal:
    return Literal(value, datatype=NamedNode(XSD + "dateTime"))
