"""Append-only audit log of every read or write of restricted data.

One JSON line per event (time, client IP, initiator, endpoint, operation, vcode) appended to
<data dir>/audit.log and fsync'd before the response leaves, so what was seen is on record. The
log is a file outside the store: no SPARQL query, dump or stream can reach it. Admins read it
through GET /audit.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Response, current_app, request

from app.auth.access import principal
from app.auth.keys import Principal

bp = Blueprint("audit", __name__)
_lock = threading.Lock()


def _path() -> Path:
    return current_app.extensions["vr"].settings.data_dir / "audit.log"


def record(operation: str, caller: Principal | None, vcode: str | None = None, **details) -> None:
    """Log one access to restricted data by `caller` (skipped for anonymous, public reads).

    `details` adds context where one vcode does not say enough (a SPARQL query and the vcodes in
    its result)."""
    if caller is None:
        return
    event = {"tijdstip": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "ip": request.remote_addr,
             "initiator": caller.initiator.ovo, "endpoint": f"{request.method} {request.path}",
             "operatie": operation, "vCode": vcode, **details}
    if caller.client:
        event["client"] = caller.client  # the OAuth2 client acting for the organisation
    line = json.dumps(event, ensure_ascii=False) + "\n"
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


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
