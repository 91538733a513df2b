"""Push delivery: a background thread reads the outbox and hands each melding for a subscriber to the
sender, a child process that POSTs it (sender.py), so the POSTs do not take the writes' interpreter lock.

Apart from the request path: a write only records its events (in its own transaction) and wakes
this thread, so a slow or dead inbox never slows a write. Per subscription, meldingen go out one
by one in outbox order (so in order per vereniging); the position of the last one received is
stored at most POSITIONS_EVERY after the receiver answered 2xx (the positions of all
subscriptions that moved on in one write, not one write per melding), so a restart (even kill -9)
resumes where delivery stood: nothing lost, nothing sent twice except an event whose answer was in
flight or received in that last fraction of a second before the crash, which carries the same
`webhook-id` so the receiver recognises it.

The sender signs every body as Standard Webhooks prescribe (HMAC-SHA256 over id, timestamp and body,
with the subscription's secret; the timestamp lets receivers refuse replays). A failing inbox is
retried with exponential backoff; after VR_MELDINGEN_OPGEVEN seconds of failure the subscription
is marked 'mislukt' (it can be resumed with PATCH status=actief). Only one process of a register
delivers: the one holding the lock file in the data directory.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.auth import audit
from app.auth.keys import KeyRing
from app.config import env_number
from app.meldingen.events import Event
from app.meldingen.handoff import Handoff
from app.meldingen.sender import Sender
from app.meldingen.subscriptions import AFTER_ALL, Subscription, Subscriptions
from app.store import StoreUnavailable
from app.store.meldingen import MeldingenStore
from app.validation.errors import CommandRejected

log = logging.getLogger(__name__)

CHUNK = 1000  # sequences read from the outbox per query
POSITIONS_EVERY = 0.1  # seconds between writes of delivery positions (per write, every subscription that moved)
_generation = [0]  # bumped when this process changes a subscription, so delivery reloads at once


def subscriptions_changed() -> None:
    """Called by the API after create/pause/resume/delete (other processes are seen within VR_MELDINGEN_POLL)."""
    _generation[0] += 1


@dataclass
class Lane:
    """What this process knows about one subscription's deliveries (rebuilt from the store on start)."""

    sub: Subscription
    upto: int  # the outbox has been scanned for this subscription up to max(this, Delivery._scanned)
    queue: list[Event] = field(default_factory=list)
    attempts: int = 0
    retry_at: float = 0.0
    failing_since: float | None = None
    busy: bool = False  # a melding of this lane is in flight (or being decided)


class Delivery:
    def __init__(self, store: MeldingenStore, base: str, data_dir: Path, keys: KeyRing | None = None,
                 handoff: Handoff | None = None) -> None:
        self.store = store
        self.handoff = handoff or Handoff()
        self.keys = keys
        self.subscriptions = Subscriptions(store)
        self.base = base
        self.data_dir = data_dir
        self.retry_base, self.retry_max, self.give_up, self.timeout, self.poll, threads = timing()
        self.lanes: dict[str, Lane] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        # POSTs go out from a child process (every connection checked there: no private address, even
        # after DNS), so they do not take this process's interpreter lock from the writes.
        self._sender = Sender(base, self.timeout, threads, self._answered)
        self._thread: threading.Thread | None = None
        self._lock_file = None
        self._active: dict[str, Subscription] = {}
        self._loaded: tuple[float, int] | None = None  # (monotonic time, generation) of the last load
        # The outbox's end: this process's commits say theirs when they wake delivery; the store is asked at
        # most every `poll` seconds (for commits of other processes), not after every commit.
        self._committed = 0
        self._latest: tuple[float, int] | None = None  # (monotonic time, sequence) of the last store read
        self._index: tuple[object, int, dict[str, list[Lane]]] | None = None  # lanes by gemeente
        self._scanned: int | None = None  # every lane has had the outbox up to max(lane.upto, this)
        self._synced: dict[str, Subscription] | None = None  # the load the lanes were last brought in line with
        self._ready: set[str] = set()  # lanes to look at in the next dispatch
        self._moved: dict[str, Event] = {}  # subscription id → last event received, position not stored yet
        self._moved_since: float | None = None  # monotonic time of the oldest unstored position

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> Delivery:
        self._thread = threading.Thread(target=self._run, name="meldingen", daemon=True)
        self._thread.start()
        return self

    def wake(self, _vcode: str | None = None, sequence: int | None = None) -> None:
        """A commit happened (CommandHandler listener: vcode, sequence): look at the outbox now."""
        if isinstance(sequence, int):
            self._committed = max(self._committed, sequence)
            self.handoff.confirm(sequence)
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sender.close()
        self._store_positions(now=True)
        if self._lock_file is not None:
            self._lock_file.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            more = False
            if self._holds_lock():
                try:
                    self._sender.ready()  # from the start: a subscription's first meldingen do not wait for it
                    more = self.round()
                except StoreUnavailable as exc:  # the store server is briefly away: try again next round
                    log.warning("meldingen: bezorgronde uitgesteld: %s", exc)
                except Exception:
                    log.exception("meldingen: bezorgronde mislukt")
                self._store_positions()
            if not more:
                self._wake.wait(self._pause())

    def _pause(self) -> float:
        """Until the next round: the poll interval, or less when positions wait to be stored."""
        with self._lock:
            if self._moved_since is None:
                return self.poll
            return min(self.poll, max(0.0, self._moved_since + POSITIONS_EVERY - time.monotonic()))

    def _store_positions(self, now: bool = False) -> None:
        """Write the positions of every subscription that moved on, in one update, POSITIONS_EVERY after the
        oldest of them (or `now`); kept for the next try when the store refuses."""
        with self._lock:
            if not self._moved or not now and time.monotonic() - self._moved_since < POSITIONS_EVERY:
                return
            moved, self._moved, self._moved_since = self._moved, {}, None
        try:
            self.subscriptions.advanced(moved)
        except Exception:
            log.exception("meldingen: bezorgposities niet opgeslagen; de volgende ronde probeert opnieuw")
            with self._lock:
                for sub_id, event in moved.items():
                    self._moved.setdefault(sub_id, event)  # a later position that came in meanwhile wins
                self._moved_since = self._moved_since or time.monotonic()

    def _holds_lock(self) -> bool:
        """One delivering process per register (several `vr serve` workers share the data dir)."""
        if self._lock_file is not None:
            return True
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.data_dir / "meldingen.lock", "w")  # noqa: SIM115 (held for the process lifetime)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        self.handoff.taking = True
        return True

    # -- one round: read the outbox once, hand each subscription its events --------------------------------
    def round(self) -> bool:
        """Scan new commits and start deliveries; True when there is more outbox to read at once.

        A round costs what the new commits bring, not what the subscriptions number: the lanes are
        brought in line with the subscriptions only when those were (re)loaded, every lane stands at
        least at `_scanned`, and only lanes that got events (or wait for a retry) are looked at.
        """
        active = self._active_subscriptions()
        if not active and not self.lanes:
            return False  # nobody to push to: no store read after every commit (a round trip on the remote engine)
        latest = self._outbox_end()
        if active is not self._synced:
            self._sync_lanes(active, latest)
        low = self._scanned
        high = min(latest, low + CHUNK)
        if high > low:
            self._distribute(self._events(range(low + 1, high + 1)), low, high)
        self._dispatch()
        return high < latest

    def _sync_lanes(self, active: dict[str, Subscription], latest: int) -> None:
        """After a (re)load: a lane per active subscription, starting where its stored position says."""
        with self._lock:
            for gone in set(self.lanes) - set(active):
                del self.lanes[gone]
            floor = latest if self._scanned is None else self._scanned
            for sub in active.values():
                lane = self.lanes.get(sub.id)
                if lane is None:
                    self.lanes[sub.id] = Lane(sub, sub.position[0] - 1 if sub.position[1] < AFTER_ALL
                                              else sub.position[0], failing_since=_since(sub.error_since))
                else:
                    lane.sub, lane.upto = sub, max(lane.upto, floor)
            self._scanned = min((lane.upto for lane in self.lanes.values()), default=latest)
            self._ready.update(self.lanes)  # a safety net: every lane is looked at once per load
            self._synced = active

    def _outbox_end(self) -> int:
        now = time.monotonic()
        if self._latest is None or now - self._latest[0] >= self.poll:
            self._latest = (now, self.store.latest_sequence())
        return max(self._latest[1], self._committed)

    def _active_subscriptions(self) -> dict[str, Subscription]:
        """Push subscriptions, re-read at most every VR_MELDINGEN_POLL seconds (not on every commit)."""
        now = time.monotonic()
        if self._loaded is None or now - self._loaded[0] >= self.poll or self._loaded[1] != _generation[0]:
            generation = _generation[0]
            self._active = {s.id: s for s in self.subscriptions.all() if s.status == "actief" and s.channel != "pull"}
            self._loaded = (now, generation)
        return self._active

    def _events(self, sequences: range) -> list[Event]:
        """The events of these commits in outbox order: this process's own from the hand-off, the rest
        (other processes, a subscription starting back in the outbox) read from the store."""
        found, missing = self.handoff.take(sequences)
        if missing:
            for sequence, payload in self.store.events(missing).items():
                found[sequence] = [Event.from_dict(item) for item in json.loads(payload)]
        return [event for _, events in sorted(found.items()) for event in events]

    def _distribute(self, events: list[Event], low: int, high: int) -> None:
        """Each event to the lanes of its gemeenten only (not every lane for every event), in outbox order.
        A lane stands at max(lane.upto, low): lanes are not touched one by one when the scan moves on."""
        with self._lock:
            index = self._lanes_by_gemeente()
            for event in events:
                lanes = {id(lane): lane for code in event.gemeenten for lane in index.get(code, ())}
                for lane in lanes.values():
                    if (event.sequence > max(lane.upto, low) and event.position > lane.sub.position
                            and lane.sub.wants(event) and self.lanes.get(lane.sub.id) is lane):
                        lane.queue.append(event)
                        self._ready.add(lane.sub.id)
            self._scanned = high

    def _lanes_by_gemeente(self) -> dict[str, list[Lane]]:
        """Rebuilt when the subscriptions were reloaded or a lane was dropped (under self._lock)."""
        if self._index is None or self._index[0] is not self._active or self._index[1] != len(self.lanes):
            index: dict[str, list[Lane]] = {}
            for lane in self.lanes.values():
                for code in lane.sub.gemeenten:
                    index.setdefault(code, []).append(lane)
            self._index = (self._active, len(self.lanes), index)
        return self._index[2]

    def _dispatch(self) -> None:
        """Send the first melding of each ready lane with events, none in flight and no retry pending."""
        now = time.monotonic()
        starting = []
        with self._lock:
            for sub_id in list(self._ready):
                lane = self.lanes.get(sub_id)
                startable = lane is not None and lane.queue and not lane.busy
                if startable and lane.retry_at > now:
                    continue  # stays ready: its retry timer wakes a round
                self._ready.discard(sub_id)
                if startable:
                    lane.busy = True
                    starting.append(lane)
        for lane in starting:
            self._send_next(lane)

    # -- delivering one subscription's queue, one melding in flight at a time ------------------------------
    def _send_next(self, lane: Lane, went: Event | None = None) -> None:
        """Hand the lane's first melding to the sender (its answer comes to `_answered`), or withhold it and
        go on; `went` is the melding the inbox just took, which the lane moves past first. The caller holds
        `lane.busy`; it is cleared under the lock that adds events, so no event waits unseen and no second
        melding of a lane is in flight (order per subscription)."""
        try:
            while True:
                if went is not None:
                    self._went(lane, went)
                    went = None
                with self._lock:
                    if self._stop.is_set() or not lane.queue or self.lanes.get(lane.sub.id) is not lane:
                        lane.busy = False
                        return
                    event = lane.queue[0]
                if event.restricted and not lane.sub.entitled(self.keys):
                    log.info("meldingen: %s niet bezorgd aan abonnement %s: de sleutel mag geen afgeschermde "
                             "gegevens (meer) lezen", event.key, lane.sub.id)
                    went = event  # withheld: the lane moves past it as if it went
                    continue
                error = self._audit(lane.sub, event)
                if error is not None:
                    break
                self._sender.send(lane.sub.inbox, lane.sub.channel, lane.sub.secret, event, (lane, event))
                return
        except Exception:  # the store may be briefly unavailable: the lane waits for the next round
            log.exception("meldingen: bezorging aan abonnement %s mislukt", lane.sub.id)
            error = None
        self._halt(lane, error)

    def _answered(self, sent: object, error: str | None) -> None:
        """The sender's answer for one melding (its reader thread): on to the next, or retry later."""
        lane, event = sent
        if error is None:
            self._send_next(lane, went=event)
        else:
            self._halt(lane, error)

    def _halt(self, lane: Lane, error: str | None) -> None:
        """The lane stops until its retry (after a failed delivery) or the next round."""
        try:
            if error is not None:
                self._failed(lane, error)
        finally:
            with self._lock:
                lane.busy = False
                self._ready.add(lane.sub.id)

    def _went(self, lane: Lane, event: Event) -> None:
        """Delivered (or withheld): the lane moves on; the position is stored with the next batch."""
        if lane.failing_since is not None:
            self.subscriptions.recovered(lane.sub)
            lane.sub.error = None
        lane.sub.position = event.position
        with self._lock:
            if lane.queue and lane.queue[0] is event:
                lane.queue.pop(0)
            lane.attempts, lane.failing_since = 0, None
            self._moved[lane.sub.id] = event
            self._moved_since = self._moved_since or time.monotonic()

    def _audit(self, sub: Subscription, event: Event) -> str | None:
        """Restricted meldingen are logged before they leave; no log entry, no delivery (retried)."""
        if not event.restricted:
            return None
        try:
            audit.append(self.data_dir, {"operatie": "melding-bezorgd", "initiator": sub.ovo, "vCode": event.vcode,
                                         "abonnement": sub.id, "meldingtype": event.type, "melding": event.key,
                                         "endpoint": f"POST {sub.inbox}"})
        except CommandRejected as refused:
            return refused.detail
        return None

    def _failed(self, lane: Lane, error: str) -> None:
        now = time.time()
        lane.attempts += 1
        if lane.failing_since is None or error != lane.sub.error:  # 'fout' says what went wrong last
            lane.failing_since = lane.failing_since or now
            self.subscriptions.failing(lane.sub, error, _iso(lane.failing_since))
            lane.sub.error = error
        if now - lane.failing_since >= self.give_up:
            log.warning("meldingen: abonnement %s opgegeven na %s pogingen: %s", lane.sub.id, lane.attempts, error)
            self.subscriptions.set_status(lane.sub, "mislukt", f"Opgegeven na {lane.attempts} pogingen: {error}",
                                          _iso(lane.failing_since))
            with self._lock:
                self.lanes.pop(lane.sub.id, None)
            subscriptions_changed()
            return
        delay = min(self.retry_base * 2 ** (lane.attempts - 1), self.retry_max)
        lane.retry_at = time.monotonic() + delay
        threading.Timer(delay, self.wake).start()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _since(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def timing() -> tuple[float, float, float, float, float, int]:
    """The delivery's settings from the environment (seconds): first retry, longest wait between retries,
    give up after, one POST's timeout, poll interval, and sending threads. SettingInvalid for a bad value:
    `vr serve` reads them before it starts, so a typo is one Dutch line, not a worker that fails to boot."""
    retry = env_number("VR_MELDINGEN_RETRY", 2.0, 0.01)
    return (retry, env_number("VR_MELDINGEN_RETRY_MAX", 600.0, retry),
            env_number("VR_MELDINGEN_OPGEVEN", 24 * 3600.0, 1),
            env_number("VR_MELDINGEN_TIMEOUT", 10.0, 0.1), env_number("VR_MELDINGEN_POLL", 1.0, 0.01),
            env_number("VR_MELDINGEN_THREADS", 8, 1, int))


def start_delivery(register) -> Delivery | None:
    """Start push delivery for a serving register (off with VR_MELDINGEN_BEZORGEN=0)."""
    if os.environ.get("VR_MELDINGEN_BEZORGEN", "1") == "0":
        return None
    delivery = Delivery(MeldingenStore(register.store), register.settings.base, register.settings.data_dir,
                        register.keys, register.meldingen)
    register.handler.listeners.append(delivery.wake)
    return delivery.start()
