"""Meldingen leave the register from a process of their own.

A POST costs little CPU, but in the register's process every one of them took the interpreter
lock that the writes need: building and signing the body, the socket calls and parsing the answer,
and each pool thread waking up for it (measured ≈ 0.5 ms of lock time a melding, and the writes'
rate fell by about a tenth with 100 busy subscriptions). Here the register hands each melding to a
child process over a pipe and reads back one small answer per melding; the child builds the
ActivityStreams body, signs it (Standard Webhooks) and POSTs it with its own pool of kept-alive,
address-checked connections (PublicClient).

The child keeps no state that matters: what was sent is decided in the register (lanes, positions,
retries, the audit entry before a restricted melding leaves). If the child dies, the register starts
another and hands it every melding that had no answer yet (same `webhook-id`: a receiver that did get
one recognises it). The child ends with the register, also after kill -9 (pipe closed, parent gone).
"""

from __future__ import annotations

import http.client
import json
import logging
import multiprocessing
import os
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection

from standardwebhooks.webhooks import Webhook

from app.meldingen import activity
from app.meldingen.events import Event
from app.meldingen.public_session import PrivateAddress, PublicClient
from app.meldingen.subscriptions import PRIVATE
from app.parent_watch import end_with_parent

log = logging.getLogger(__name__)

CONTENT_TYPES = {"ldn": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                 "webhook": "application/json"}
RESTART_PAUSE = 0.5  # seconds between starts of a child that keeps dying


@dataclass(frozen=True)
class Parcel:
    """One melding for one inbox: all the child needs to send it."""

    ticket: int
    inbox: str
    channel: str
    secret: str
    event: Event


def post(client: PublicClient, base: str, parcel: Parcel, timeout: float) -> str | None:
    """POST one melding; None when the receiver took it (2xx), else why not, in Dutch for the subscriber.
    A private inbox is refused by the client on the address it connected to, not by resolving the name first."""
    event = parcel.event
    body = json.dumps(activity.activity(base, event), ensure_ascii=False)
    sent_at = datetime.now(UTC)
    headers = {"Content-Type": CONTENT_TYPES[parcel.channel], "webhook-id": event.key,
               "webhook-timestamp": str(int(sent_at.timestamp())),
               "webhook-signature": Webhook(parcel.secret).sign(event.key, sent_at, body),
               "User-Agent": "verenigingsregister-meldingen"}
    try:
        status = client.post(parcel.inbox, body.encode("utf-8"), headers, timeout)
    except PrivateAddress:
        return PRIVATE
    except (http.client.HTTPException, OSError, ValueError) as exc:
        log.info("melding %s naar %s niet afgeleverd: %r", event.key, parcel.inbox, exc)
        return _why(exc, timeout)
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return (f"De inbox antwoordde met een doorverwijzing (HTTP-status {status}); het register volgt geen "
                "doorverwijzingen: geef het adres waarnaar verwezen wordt op als inbox.")
    return f"De inbox antwoordde met HTTP-status {status}."


def _why(exc: Exception, timeout: float) -> str:
    """What the subscriber reads in 'fout': about their inbox, without library or network internals."""
    if isinstance(exc, TimeoutError):
        return f"De inbox antwoordde niet binnen {timeout:g} s."
    if isinstance(exc, ssl.SSLError):
        return "De TLS-verbinding met de inbox mislukte (certificaat of protocol)."
    if isinstance(exc, OSError):
        return "Er kon geen verbinding gemaakt worden met de inbox."
    return "De melding kon niet naar de inbox gestuurd worden."


def _child(pipe: Connection, base: str, timeout: float, threads: int) -> None:
    """The child's main: parcels in, (ticket, error) out, until the register closes the pipe or is gone."""
    end_with_parent()
    activity.gemeente_label("")  # loads the code lists now (≈ 0.2 s), not while the first meldingen wait
    client, lock = PublicClient(), threading.Lock()

    def one(parcel: Parcel) -> None:
        try:
            error = post(client, base, parcel, timeout)
        except Exception:  # a bug must not leave the lane waiting for an answer forever
            log.exception("meldingen: melding %s niet verstuurd", parcel.ticket)
            error = "De melding kon niet naar de inbox gestuurd worden."
        with lock:
            pipe.send((parcel.ticket, error))

    pool = ThreadPoolExecutor(threads, thread_name_prefix="melding")
    while True:
        try:
            parcel = pipe.recv()
        except (EOFError, OSError):
            break
        if parcel is None:
            break
        pool.submit(one, parcel)
    os._exit(0)  # meldingen in flight are not waited for: without an answer, the register sends them again


class Sender:
    """The register's side: `send` hands a parcel to the child; `answered(context, error)` is called from
    the reader thread for every answer. Safe to call from several threads."""

    def __init__(self, base: str, timeout: float, threads: int,
                 answered: Callable[[object, str | None], None]) -> None:
        self.base, self.timeout, self.threads = base, timeout, threads
        self.answered = answered
        self._lock = threading.Lock()  # the pipe's writing end, the child and the waiting parcels
        self._waiting: dict[int, tuple[Parcel, object]] = {}
        self._tickets = 0
        self._pipe: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._closed = False

    def send(self, sub_inbox: str, channel: str, secret: str, event: Event, context: object) -> None:
        with self._lock:
            if self._closed:
                return
            self._tickets += 1
            parcel = Parcel(self._tickets, sub_inbox, channel, secret, event)
            self._waiting[parcel.ticket] = (parcel, context)
            try:
                if self._pipe is None:
                    self._start()  # sends everything that waits, this parcel included
                else:
                    self._pipe.send(parcel)
            except BaseException:
                del self._waiting[parcel.ticket]  # the caller retries it; no answer will come for this ticket
                raise

    def ready(self) -> None:
        """Start the child now (it takes ≈ 0.5 s), not when the first melding is waiting for it."""
        with self._lock:
            if self._pipe is None and not self._closed:
                self._start()

    @property
    def pid(self) -> int | None:
        """The child's process id (None while none runs): for operators and tests."""
        with self._lock:
            return self._process.pid if self._process is not None and self._pipe is not None else None

    def _start(self) -> None:
        """A new child, handed every parcel without an answer (under self._lock)."""
        context = multiprocessing.get_context("spawn")
        mine, theirs = context.Pipe()
        process = context.Process(target=_child, args=(theirs, self.base, self.timeout, self.threads),
                                  name="meldingen-bezorger", daemon=True)
        process.start()
        theirs.close()
        self._pipe, self._process = mine, process
        for parcel, _ in self._waiting.values():
            mine.send(parcel)
        threading.Thread(target=self._read, args=(mine, process), name="meldingen-antwoorden", daemon=True).start()

    def _read(self, pipe: Connection, process: multiprocessing.process.BaseProcess) -> None:
        """Answers of one child, until it ends; then a new child gets what had no answer yet."""
        while True:
            try:
                ticket, error = pipe.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                waiting = self._waiting.pop(ticket, None)
            if waiting is not None:
                try:
                    self.answered(waiting[1], error)
                except Exception:
                    log.exception("meldingen: antwoord op melding %s niet verwerkt", ticket)
        process.join(timeout=5)
        with self._lock:
            if self._closed or self._pipe is not pipe:
                return
            self._pipe = None  # a send meanwhile starts the new child itself
            log.warning("meldingen: het bezorgproces stopte (code %s); %d meldingen wachten op een nieuw",
                        process.exitcode, len(self._waiting))
        time.sleep(RESTART_PAUSE)  # a child that dies at once is not restarted in a tight loop
        with self._lock:
            if not self._closed and self._pipe is None and self._waiting:
                self._start()

    def close(self) -> None:
        """Stop the child; meldingen without an answer are sent again after a restart (same webhook-id)."""
        with self._lock:
            self._closed = True
            pipe, process = self._pipe, self._process
            self._pipe = None
        if pipe is not None:
            try:
                pipe.send(None)
            except OSError:
                pass
            pipe.close()
        if process is not None:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
