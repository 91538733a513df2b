"""Gunicorn's own refusals (a request line or headers over its limits, an unreadable request) as Dutch
problem+json, like every answer of the app: gunicorn answers them before the app sees the request, with
an English HTML page of its own."""

from __future__ import annotations

from gunicorn import util

from app.cli.server_errors import HEADERS, problem_body


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """util.write_error's signature and behaviour (one answer, then the connection closes), as problem+json."""
    body = problem_body(status_int, reason)
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in HEADERS) + f"Content-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin1") + body)


def install() -> None:
    """Gunicorn's workers write their refusals through gunicorn.util.write_error: ours instead."""
    util.write_error = write_problem
