"""Whole-register downloads: /dumps/verenigingen.{nq,ttl,jsonld,csv} (public) and
/dumps/beheer/verenigingen.{…} (restricted: any valid key).

A public dump is written once per state of the register (its last sequence number) into a file
under the data directory and then served as a file (length, ranges, Last-Modified), so the
DCAT catalog can state its exact size (once written). Restricted dumps are streamed and never kept on disk.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
from collections import defaultdict
from pathlib import Path

from flask import Blueprint, Response, current_app, send_file, stream_with_context

from app.auth import audit
from app.auth.access import principal
from app.exchange import export
from app.publication import jsonld
from app.publication.problems import http_problem
from app.store.audience import PUBLIC

bp = Blueprint("dumps", __name__)
_writing: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)


ATTEMPTS = 3


def public_file(fmt: str) -> Path:
    """The public dump of the register's current state, written now if it is not there yet.

    A dump reads record after record; a write in between made it a mix of two states under one sequence in its
    name (a harvester took the file, its ETag and the catalog's date for one state). A dump during which the
    register's sequence moved is written again, up to ATTEMPTS times; one that still saw writes is kept under the
    sequence it started from: every record in it is at that state or newer, so replaying the change stream from
    that sequence (newest version per vereniging wins) gives the current state (README, "Downloads")."""
    register = current_app.extensions["vr"]
    folder = register.settings.data_dir / "downloads"
    sequence = register.handler.latest_sequence
    target = folder / f"verenigingen-{sequence}.{fmt}"
    if target.exists():
        return target
    with _writing[str(target)]:
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            for _ in range(ATTEMPTS):
                written = _write(register, folder, fmt)
                now = register.handler.latest_sequence
                if now == sequence:
                    break
                written.unlink(missing_ok=True)
                sequence, target = now, folder / f"verenigingen-{now}.{fmt}"
                if target.exists():
                    return target
            else:
                target = folder / f"verenigingen-{sequence}.{fmt}"
                written = _write(register, folder, fmt)  # under the sequence it started from (docstring)
            os.replace(written, target)
            for old in folder.glob(f"verenigingen-*.{fmt}"):
                if old != target:
                    old.unlink(missing_ok=True)
    return target


def _write(register, folder: Path, fmt: str) -> Path:
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as handle:
        for chunk in export.stream(register.store, fmt, PUBLIC, register.settings.base + jsonld.CONTEXT_PATH):
            handle.write(chunk)
    return Path(handle.name)


def public_size(fmt: str) -> int | None:
    """The size of the current public dump, or None while it is not written yet; then it is written
    in the background, so a large register's catalog never waits for a whole dump."""
    register = current_app.extensions["vr"]
    target = register.settings.data_dir / "downloads" / f"verenigingen-{register.handler.latest_sequence}.{fmt}"
    if target.exists():
        return target.stat().st_size
    app = current_app._get_current_object()

    def write() -> None:
        with app.app_context():
            public_file(fmt)

    threading.Thread(target=write, name=f"dump-{fmt}", daemon=True).start()
    return None


def _dump(fmt: str, caller=None) -> Response:
    restricted = caller is not None
    if fmt not in export.FORMATS:
        return http_problem(404, f"Onbekend formaat '.{fmt}': kies uit {', '.join(export.FORMATS)}.")
    name = f"verenigingen{'-beheer' if restricted else ''}.{fmt}"
    if restricted:
        register = current_app.extensions["vr"]
        body = export.stream(register.store, fmt, audit.audience(caller, "dump"),
                             register.settings.base + jsonld.CONTEXT_PATH)
        first = next(body, b"")  # the read and its audit entry happen here, before the status line
        response = Response(stream_with_context(itertools.chain([first], body)), mimetype=export.FORMATS[fmt])
        response.headers["Cache-Control"] = "private, no-store"
    else:
        response = send_file(public_file(fmt), mimetype=export.FORMATS[fmt], conditional=True, etag=True)
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/dumps/verenigingen.<fmt>")
def public_dump(fmt: str) -> Response:
    return _dump(fmt)


@bp.get("/dumps/beheer/verenigingen.<fmt>")
def restricted_dump(fmt: str) -> Response:
    return _dump(fmt, principal("lezer"))
