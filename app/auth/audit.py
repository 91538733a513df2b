"""Append-only audit log of every read or write of restricted data.

One JSON line per event (time, client IP, initiator, endpoint, operation, vcode) appended to
<data dir>/audit.log and fsync'd before the response leaves, so what was seen is on record. The
log is a file outside the store: no SPARQL query, dump or stream can reach it. Admins read it
through GET /audit.

A write is logged just before its transaction (`before_commit`, with the sequence it will get),
so a committed change always has its entry; when the log cannot be written the change is refused
(503, nothing written) and a read of restricted data is refused too. Concurrent writes committed
as one group share one fsync (`one_fsync`, closed before the group's transaction). An entry whose `sequentie`
never appears in the register is a write whose transaction then failed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Response, current_app, request

from app.auth.access import principal
from app.auth.keys import Principal
from app.store.audience import PUBLIC, Audience, for_principal
from app.validation.errors import CommandRejected

bp = Blueprint("audit", __name__)
log = logging.getLogger(__name__)
_lock = threading.Lock()
_group = threading.local()  # .fds: path → the open descriptor one_fsync() will sync and close (a group being built)
VCODE = re.compile(r"/id/vereniging/(V\d{7})")


def _path() -> Path:
    return current_app.extensions["vr"].settings.data_dir / "audit.log"


def record(operation: str, caller: Principal | None, vcode: str | None = None, **details) -> None:
    """Log one access to restricted data by `caller` (skipped for anonymous, public reads).

    `details` adds context where one vcode does not say enough (a SPARQL query and the vcodes in
    its result). Raises a 503 CommandRejected when the log cannot be written: no unlogged reads."""
    if caller is None:
        return
    _append(_event(operation, caller, vcode, details),
            "Het auditlog kan nu niet geschreven worden; daarom worden geen beperkte gegevens getoond. "
            "Probeer later opnieuw.")


def audience(caller: Principal | None, surface: str) -> Audience:
    """The request's audience, resolved once from the caller: public for anonymous callers and for a key
    or token without the lezer role (an OAuth2 token with none of the register's scopes); for a reader
    restricted, carrying who reads and the hook with which the store's readers log what they read
    (app/store/audience.py) before handing it over. Blueprints never log reads themselves."""
    if caller is None or not caller.has("lezer"):
        return PUBLIC
    ip, endpoint = request.remote_addr, f"{request.method} {request.path}"

    def log(operation: str, iris: Sequence[str], many: bool, answer: bool, details: dict) -> None:
        vcodes = sorted({match.group(1) for iri in iris for match in VCODE.finditer(iri)})
        if many:  # a dump: how many, not a list of the whole register
            vcode, details = None, {"aantal": len(vcodes), **details}
        else:
            vcode = vcodes[0] if len(vcodes) == 1 else None
            if answer or len(vcodes) > 1:  # a query's answer lists what it named, even nothing
                details = {"vCodes": vcodes[:1000], **details}
        event = _event(operation, caller, vcode, details)
        event.update(ip=ip, endpoint=endpoint)
        _append(event, "Het auditlog kan nu niet geschreven worden; daarom worden geen beperkte gegevens getoond. "
                       "Probeer later opnieuw.")

    return for_principal(caller, surface, log)


def before_commit(operation: str, caller: Principal) -> Callable[[str, int], None]:
    """A Provenance.before_commit hook: logs the write (vcode, sequence) before its transaction."""
    ip, endpoint = request.remote_addr, f"{request.method} {request.path}"

    def hook(vcode: str, sequence: int) -> None:
        event = _event(operation, caller, vcode, {"sequentie": sequence})
        event.update(ip=ip, endpoint=endpoint)
        _append(event, "Het auditlog kan nu niet geschreven worden; er werd niets gewijzigd. Probeer later opnieuw.")

    return hook


def before_erasure(operation: str, caller: Principal | None, reason: str, data_dir: Path | None = None,
                   endpoint: str | None = None) -> Callable:
    """An erasure.Announce hook: logs what will be erased (verenigingen, counts; never the person's data)
    before the erasure's transaction. Outside a request (the CLI) pass data_dir and endpoint."""
    ip = request.remote_addr if request else None
    endpoint = endpoint or f"{request.method} {request.path}"
    path = (data_dir / "audit.log") if data_dir is not None else _path()

    def hook(erasure) -> None:
        event = {"tijdstip": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "ip": ip,
                 "initiator": caller.initiator.ovo if caller is not None else "beheerder (vr)", "endpoint": endpoint,
                 "operatie": operation, "vCode": erasure.vcodes[0] if len(erasure.vcodes) == 1 else None,
                 "vCodes": erasure.vcodes, "gewisteTriples": erasure.quads, "reden": reason}
        _append(event, "Het auditlog kan nu niet geschreven worden; er werd niets gewist. Probeer later opnieuw.",
                path)

    return hook


def _event(operation: str, caller: Principal, vcode: str | None, details: dict) -> dict:
    event = {"tijdstip": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "ip": request.remote_addr,
             "initiator": caller.initiator.ovo, "endpoint": f"{request.method} {request.path}",
             "operatie": operation, "vCode": vcode, **details}
    if caller.client:
        event["client"] = caller.client  # the OAuth2 client acting for the organisation
    return event


def append(data_dir: Path, event: dict) -> None:
    """Log an event outside a request (the meldingen delivery thread logs before it sends)."""
    _append({"tijdstip": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), **event},
            "Het auditlog kan nu niet geschreven worden.", data_dir / "audit.log")


def _append(event: dict, refusal: str, path: Path | None = None) -> None:
    line = json.dumps(event, ensure_ascii=False) + "\n"
    path = path or _path()
    deferred = getattr(_group, "fds", None)
    with _lock:
        try:
            fd = deferred.get(path) if deferred is not None else None
            if fd is None:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                if deferred is not None:  # the group's entries share it (a batch of an import: 5,000)
                    deferred[path] = fd
            try:
                os.write(fd, line.encode("utf-8"))
                if deferred is None:
                    os.fsync(fd)
            finally:
                if deferred is None:
                    os.close(fd)
        except OSError as exc:
            log.error("audit log %s cannot be written: %s", path, exc)  # one line: a full disk refuses every write
            raise CommandRejected(503, "audit-onbeschikbaar", "Auditlog niet beschikbaar", refusal,
                                  headers={"Retry-After": "30"}) from None


@contextmanager
def one_fsync() -> Iterator[None]:
    """Entries this thread appends meanwhile are written at once and fsync'd together on closing.

    The store enters it around the building of a group commit (RegisterStore.sealing) and closes it
    before the group's one transaction, so every entry is on disk before its change is, with one
    fsync for the group instead of one per change. If the fsync fails, the whole group is refused.
    """
    fds: dict[Path, int] = {}  # one descriptor per file for the whole group
    _group.fds = fds
    try:
        yield
    finally:
        _group.fds = None
        failed = None
        for fd in fds.values():
            try:
                if failed is None:
                    os.fsync(fd)
            except OSError as exc:
                failed = exc
            finally:
                os.close(fd)
    if failed is not None:
        log.error("audit log cannot be synced: %s", failed)
        raise CommandRejected(503, "audit-onbeschikbaar", "Auditlog niet beschikbaar",
                              "Het auditlog kan nu niet geschreven worden; er werd niets gewijzigd. "
                              "Probeer later opnieuw.", headers={"Retry-After": "30"})


def events() -> list[dict]:
    path = _path()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@bp.get("/audit")
def audit_log() -> Response:
    """Admins query the log: ?vCode=, ?initiator=, ?sinds=<ISO time>, ?limit= (newest first)."""
    principal("admin")
    found = events()
    for key, field in (("vCode", "vCode"), ("initiator", "initiator")):
        if request.args.get(key):
            found = [e for e in found if e.get(field) == request.args[key]]
    if request.args.get("sinds"):
        found = [e for e in found if e["tijdstip"] >= request.args["sinds"]]
    limit = min(int(request.args.get("limit", 1000)), 10000) if request.args.get("limit", "1").isdigit() else 1000
    body = json.dumps({"gebeurtenissen": list(reversed(found))[:limit]}, ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "private, no-store"
    return response
