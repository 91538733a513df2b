"""What the HTTP servers (waitress for one process, gunicorn for several) answer themselves, before the app
sees a request (an unreadable request line or chunk, headers or a body over their limits): Dutch
problem+json like every answer of the app, not the servers' own English text or HTML."""

from __future__ import annotations

import json

from app.publication.problems import PROBLEM_TYPES

SAID = {
    400: ("ongeldig-verzoek", "Ongeldig verzoek", "Het HTTP-verzoek kon niet gelezen worden (een ongeldige kopregel, "
          "Content-Length of chunked-codering)."),
    413: ("te-groot", "Aanvraag te groot", "De aanvraag is groter dan het register toelaat."),
    414: ("verzoek-te-lang", "Verzoek te lang", "Het adres van het verzoek (met de query) is langer dan 8190 tekens. "
          "Stuur een lange SPARQL-query met POST."),
    431: ("kopregels-te-groot", "Kopregels te groot", "De kopregels van het verzoek zijn te groot of te talrijk "
          "(hoogstens 32 KB per kopregel en 100 kopregels). Een toegangstoken van die grootte wordt niet aanvaard."),
    501: ("niet-ondersteund", "Niet ondersteund", "Deze Transfer-Encoding wordt niet ondersteund: stuur de body met "
          "Content-Length of chunked."),
}
HEADERS = [("Content-Type", "application/problem+json"), ("Content-Language", "nl"),
           ("Access-Control-Allow-Origin", "*")]


def problem_body(status: int, reason: str) -> bytes:
    slug, title, detail = SAID.get(status, ("fout", reason, "Het verzoek kon niet verwerkt worden."))
    return json.dumps({"type": PROBLEM_TYPES + slug, "title": title, "status": status, "detail": detail,
                       "errors": [{"path": "", "code": slug, "message": detail}]}, ensure_ascii=False).encode()
