"""Meldingen as ActivityStreams 2.0 (JSON-LD): one activity per event, feeds as ordered collections.

The same activity document is the body of a push delivery (LDN inbox or webhook), an item of a
subscription's pull feed and what GET /meldingen/{id} answers, so a consumer parses one shape.
"""

from __future__ import annotations

import re

from app.domain import codelists
from app.meldingen.events import Event
from app.namespaces import CONCEPT, VRX

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
CONTEXT = [AS_CONTEXT, {
    "vr": VRX,
    "meldingtype": "vr:meldingtype",
    "positie": "vr:positie",
    "vCode": "http://purl.org/dc/terms/identifier",
    "velden": {"@id": "vr:betreftVeld", "@container": "@set"},
    "afgeschermd": {"@id": "vr:afgeschermd", "@type": "http://www.w3.org/2001/XMLSchema#boolean"},
    "activiteit": "vr:activiteit",
}]
# ActivityStreams activity type per melding.
AS_TYPES = {"nieuwe-vereniging": "Create", "verwijderd": "Delete"}
SUMMARIES = {
    "nieuwe-vereniging": "Nieuwe vereniging",
    "naam-gewijzigd": "Naam gewijzigd",
    "adres-gewijzigd": "Adres gewijzigd",
    "contactgegevens-gewijzigd": "Contactgegevens gewijzigd",
    "erkenning-toegekend": "Erkenning toegekend",
    "erkenning-gewijzigd": "Erkenning gewijzigd",
    "lidmaatschap-gewijzigd": "Lidmaatschap gewijzigd",
    "gegevens-gewijzigd": "Gegevens gewijzigd",
    "gestopt": "Vereniging gestopt",
    "heractiveerd": "Vereniging opnieuw actief",
    "status-gewijzigd": "Status gewijzigd",
    "in-stopzetting": "Vereniging in stopzetting",
    "verwijderd": "Vereniging verwijderd",
    "nieuwe-vertegenwoordiger": "Nieuwe vertegenwoordiger",
    "vertegenwoordiger-gewijzigd": "Vertegenwoordiger gewijzigd",
    "vertegenwoordiger-vertrokken": "Vertegenwoordiger vertrokken",
    "bankrekening-gewijzigd": "Bankrekeningnummer gewijzigd",
}


def event_iri(base: str, event: Event) -> str:
    return f"{base}/meldingen/{event.key}"


def position(event: Event) -> str:
    """Where a reader continues after this event (`?na=` of the feed)."""
    return f"{event.sequence}.{event.index}"


_POSITION = re.compile(r"^[0-9]{1,18}(?:\.[0-9]{1,9})?$")


def parse_position(text: str | None) -> tuple[int, int] | None:
    """`12.1` → (12, 1); `12` → after every event of commit 12; None when it is no position."""
    if text is None or text == "":
        return (0, -1)
    if not _POSITION.match(text):  # ASCII digits only: str.isdigit also takes '٣' and '１２'
        return None
    head, _, tail = text.partition(".")
    return int(head), int(tail) if tail else 1_000_000  # "12": after every event of commit 12


def activity(base: str, event: Event, context: bool = True) -> dict:
    doc = {
        "id": event_iri(base, event),
        "type": AS_TYPES.get(event.type, "Update"),
        "meldingtype": event.type,
        "summary": f"{SUMMARIES.get(event.type, event.type)}: {event.naam or event.vcode} ({event.vcode})",
        "published": event.time,
        "actor": {"id": event.initiator_iri, "type": "Organization", "name": event.initiator_naam},
        "object": {"id": event.vereniging, "type": "Organization", "name": event.naam, "vCode": event.vcode},
        "result": {"id": event.version, "type": "Object"},
        "location": [{"id": f"{CONCEPT}werkingsgebied/{code}", "type": "Place", "name": gemeente_label(code)}
                     for code in event.gemeenten],
        "activiteit": event.activity,
        "velden": list(event.fields),
        "afgeschermd": event.restricted,
        "positie": position(event),
    }
    if event.reason:
        doc["content"] = event.reason
    return {"@context": CONTEXT, **doc} if context else doc


def gemeente_label(code: str) -> str:
    found = codelists.get("werkingsgebieden").find(code)
    return found.label if found else code


def feed_page(base: str, feed: str, events: list[Event], after: str, next_after: str | None) -> dict:
    """One page of a feed: the events after position `after`, with a link to the next page."""
    page = {
        "@context": CONTEXT,
        "id": f"{feed}?na={after}",
        "type": "OrderedCollectionPage",
        "partOf": feed,
        "orderedItems": [activity(base, e, context=False) for e in events],
    }
    if next_after is not None:
        page["next"] = f"{feed}?na={next_after}"
    return page


def feed_root(feed: str, summary: str) -> dict:
    return {"@context": CONTEXT, "id": feed, "type": "OrderedCollection", "summary": summary,
            "first": f"{feed}?na=0"}
