"""Gunicorn's own refusals (a request line or headers over its limits, an unreadable request) as Dutch
problem+json, like every answer of the app: gunicorn answers them before the app sees the request, with
an English HTML page of its own."""

from __future__ import annotations

import json

from gunicorn import util

from app.publication.problems import PROBLEM_TYPES

SAID = {
    400: ("ongeldig-verzoek", "Ongeldig verzoek", "Het HTTP-verzoek kon niet gelezen worden."),
    414: ("verzoek-te-lang", "Verzoek te lang", "Het adres van het verzoek (met de query) is langer dan 8190 tekens. "
          "Stuur een lange SPARQL-query met POST."),
    431: ("kopregels-te-groot", "Kopregels te groot", "De kopregels van het verzoek zijn te groot of te talrijk "
          "(hoogstens 32 KB per kopregel en 100 kopregels). Een toegangstoken van die grootte wordt niet aanvaard."),
}


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """util.write_error's signature and behaviour (one answer, then the connection closes), as problem+json."""
    slug, title, detail = SAID.get(status_int, ("fout", reason, "Het verzoek kon niet verwerkt worden."))
    body = json.dumps({"type": PROBLEM_TYPES + slug, "title": title, "status": status_int, "detail": detail,
                       "errors": [{"path": "", "code": slug, "message": detail}]}, ensure_ascii=False).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
            f"Content-Language: nl\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin1") + body)


def install() -> None:
    """Gunicorn's workers write their refusals through gunicorn.util.write_error: ours instead."""
    util.write_error = write_problem
