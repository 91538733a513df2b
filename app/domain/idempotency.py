"""Idempotent retries: an Idempotency-Key is stored with the commit it made, so a retry replays its outcome."""

from __future__ import annotations

import hashlib

from pyoxigraph import Literal, NamedNode, Quad

from app.domain import versions
from app.domain.errors import KeyReused
from app.domain.outcome import Outcome
from app.domain.records import Records
from app.namespaces import GRAPH_SYSTEM, VRX
from app.store import keys

Idem = tuple[NamedNode, str]  # the key's node in the system graph, the hash of the request
_G_SYSTEM = NamedNode(GRAPH_SYSTEM)


def request_key(prov: versions.Provenance, key: str | None, payload: object) -> Idem | None:
    """The stored form of an Idempotency-Key (scoped to the initiator) and the request it came with."""
    if not key:
        return None
    digest = hashlib.sha256(f"{prov.initiator.ovo}\n{key}".encode()).hexdigest()
    body = hashlib.sha256(repr(payload).encode()).hexdigest()
    return keys.idempotency_key(digest), body


def replay(records: Records, idem: Idem | None) -> Outcome | None:
    """The first outcome of a request retried with the same Idempotency-Key, or None."""
    if idem is None:
        return None
    node, body = idem
    found = records.store.bookkeeping(node)
    if not found:
        return None
    if found.get(keys.REQUEST_HASH.value.removeprefix(VRX)) != body:
        raise KeyReused("idempotentie-sleutel", "Idempotency-Key hergebruikt",
                        "Deze Idempotency-Key werd al gebruikt voor een andere aanvraag.")
    vcode = found["vereniging"].rsplit("/", 1)[-1]
    version = int(found.get("versienummer") or records.version_of(vcode) or 1)
    item_id = int(found["itemId"]) if "itemId" in found else None
    return Outcome(vcode, version, None, created="versienummer" not in found, item_id=item_id,
                   replayed=True, repeats_a_write=True)


def quads(idem: Idem, vc: NamedNode, version: int | None = None,
                      item_id: int | None = None) -> list[Quad]:
    """The system-graph quads that remember a key with the commit it made (written in that commit)."""
    node, body = idem
    quads = [Quad(node, keys.OWNER, vc, _G_SYSTEM),
             Quad(node, keys.REQUEST_HASH, Literal(body), _G_SYSTEM)]
    for predicate, value in (("versienummer", version), ("itemId", item_id)):
        if value is not None:
            quads.append(Quad(node, NamedNode(VRX + predicate), Literal(str(value)), _G_SYSTEM))
    return quads
