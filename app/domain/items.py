"""The parts of a vereniging that are lists of items with an id (locaties, erkenningen, …).

Every command on one item starts the same way: find it (404 naming the part), check that the actor may
touch it (issuer-only parts: only the organisation that added it), and end by replacing it in a new state.
"""

from __future__ import annotations

from app.domain.errors import not_found, not_permitted
from app.domain.model import MODEL
from app.domain.versions import Initiator


def find(state: dict, kind: str, item_id: int) -> dict:
    """The item with `item_id` in the part `kind`, or a Dutch 404 naming the part."""
    for item in state[kind]:
        if item["id"] == item_id:
            return item
    raise not_found(f"{MODEL.part(kind).label} met id '{item_id}' is niet gekend.")


def guard_issuer(kind: str, item: dict, actor: Initiator) -> None:
    """Issuer-only items (erkenningen) may be touched only by the organisation that registered them."""
    if MODEL.part(kind).issuer_only and item.get("geregistreerdDoor") != actor.ovo:
        raise not_permitted("Deze OVOCode heeft geen machtiging om deze actie uit te voeren: "
                            "enkel de organisatie die de erkenning registreerde.")


def own(state: dict, kind: str, item_id: int, actor: Initiator) -> dict:
    """The item, once the actor is known to be allowed to touch it (another organisation learns no more)."""
    item = find(state, kind, item_id)
    guard_issuer(kind, item, actor)
    return item


def replace(state: dict, kind: str, updated: dict) -> dict:
    """A new state in which the item with `updated`'s id is `updated`."""
    return dict(state, **{kind: [updated if i["id"] == updated["id"] else i for i in state[kind]]})
