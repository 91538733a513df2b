"""The write path's contribution: each commit records its events in its own transaction."""

from __future__ import annotations

import json

from pyoxigraph import Quad

from app.domain import versions
from app.domain.commands import Committed
from app.meldingen.events import Event, classify
from app.meldingen.handoff import Handoff
from app.store.meldingen import outbox_quads


def events_of(change: Committed, base: str) -> list[Event]:
    """The meldingen of one committed change, classified from the states before and after."""
    iri = f"{base}/id/vereniging/{change.vcode}"
    state = change.new or change.old or {}
    gemeenten = set(change.gemeenten)
    for side in (change.old, change.new):
        gemeenten |= set((side or {}).get("werkingsgebieden") or [])
    return [Event(type=kind, sequence=change.sequence, index=index, time=change.timestamp, vcode=change.vcode,
                  vereniging=iri, version=versions.version_iri(iri, change.version), naam=state.get("naam"),
                  initiator=change.prov.initiator.ovo, initiator_iri=change.prov.initiator.iri,
                  initiator_naam=change.prov.initiator.naam, activity=change.prov.activity,
                  reason=change.prov.reason, gemeenten=tuple(sorted(g for g in gemeenten if g.isalnum())),
                  fields=fields)
            for index, (kind, fields) in enumerate(classify(change.old, change.new, change.prov.activity))]


def contributor(base: str, handoff: Handoff | None = None):
    """A commit contributor (CommandHandler.contributors): the events as quads of the same commit, and
    in memory for this process's delivery (`handoff`, usable once the commit is confirmed)."""
    def contribute(change: Committed) -> list[Quad]:
        events = events_of(change, base)
        if handoff is not None:
            handoff.built(change.sequence, events)
        if not events:
            return []
        payload = json.dumps([event.as_dict() for event in events], ensure_ascii=False, separators=(",", ":"))
        return outbox_quads(change.sequence, payload, events[0].gemeenten)

    return contribute
