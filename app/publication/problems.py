"""RFC 9457 problem details for every error the register returns."""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, g, render_template, request
from werkzeug.exceptions import HTTPException

from app.domain import errors as domain
from app.namespaces import PROJECT
from app.store import StoreUnavailable
from app.validation.errors import CommandRejected, FieldError

PROBLEM_TYPES = PROJECT + "problemen/"
log = logging.getLogger(__name__)

# Dutch titles for the HTTP errors the register raises through werkzeug.
HTTP_TITLES = {
    400: ("ongeldige-aanvraag", "Ongeldige aanvraag"),
    401: ("niet-geauthenticeerd", "Niet geauthenticeerd"),
    403: ("geen-toegang", "Geen toegang"),
    404: ("niet-gevonden", "Niet gevonden"),
    405: ("methode-niet-toegelaten", "Methode niet toegelaten"),
    406: ("niet-aanvaardbaar", "Formaat niet beschikbaar"),
    410: ("verwijderd", "Verwijderd"),
    412: ("voorwaarde-niet-voldaan", "Voorwaarde niet voldaan"),
    413: ("te-groot", "Aanvraag te groot"),
    415: ("mediatype-niet-ondersteund", "Mediatype niet ondersteund"),
    500: ("interne-fout", "Interne fout"),
}


# The one place where the domain's refusals get an HTTP status.
DOMAIN_STATUS: dict[type[domain.DomainError], int] = {
    domain.Invalid: 400,
    domain.NotPermitted: 403,
    domain.NotFound: 404,
    domain.PossibleDuplicates: 409,
    domain.Gone: 410,
    domain.VersionMismatch: 412,
    domain.KeyReused: 422,
    domain.Busy: 503,
}


def domain_status(exc: domain.DomainError) -> int:
    return next(status for kind, status in DOMAIN_STATUS.items() if isinstance(exc, kind))


def problem(status: int, slug: str, title: str, detail: str, errors: list[FieldError] | None = None,
            headers: dict | None = None, **extra) -> Response:
    body = {
        "type": PROBLEM_TYPES + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path if request else None,
    }
    if not errors:  # clients read `errors` on every problem: the list says at least what the detail says
        errors = [FieldError("", slug, detail)]
    body["errors"] = [e.as_dict() for e in errors]
    body.update(extra)
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a message quoting refused input (a lone surrogate): shown as '?'
        body = json.loads(json.dumps(body, ensure_ascii=False).encode("utf-8", "replace"))
    if wants_html():
        response = Response(render_template("fout.html", problem=body), status=status, mimetype="text/html")
    else:
        response = Response(json.dumps(body, ensure_ascii=False), status=status,
                            mimetype="application/problem+json")
    response.headers["Vary"] = "Accept"
    response.headers["Content-Language"] = "nl"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def wants_html() -> bool:
    """A browser (text/html preferred over JSON) gets a readable page; API clients keep problem+json."""
    if not request or g.get("problem_json"):
        return False
    from app.publication.negotiation import without_parameters

    accept = without_parameters(request.accept_mimetypes)
    best = accept.best_match(["application/problem+json", "application/json", "text/html"])
    return best == "text/html" and accept["text/html"] > accept["application/json"]


def http_problem(status: int, detail: str, headers: dict | None = None, **extra) -> Response:
    slug, title = HTTP_TITLES.get(status, ("fout", "Fout"))
    return problem(status, slug, title, detail, headers=headers, **extra)


def _at_most(limit: int | None) -> str:
    if not limit:
        return ""
    return f" (ten hoogste {limit / 2**20:g} MB)" if limit >= 2**20 else f" (ten hoogste {limit / 1024:g} kB)"


def install(app: Flask) -> None:
    @app.errorhandler(CommandRejected)
    def _rejected(exc: CommandRejected):
        return problem(exc.status, exc.slug, exc.title, exc.detail, exc.errors, headers=exc.headers, **exc.extra)

    @app.errorhandler(domain.DomainError)
    def _refused(exc: domain.DomainError):
        return problem(domain_status(exc), exc.slug, exc.title, exc.detail, exc.errors, **exc.extra)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        detail = {
            404: "Deze URL bestaat niet in het register.",
            405: f"De methode {request.method} is niet toegelaten op deze URL.",
            413: f"De aanvraag is groter dan het register toelaat{_at_most(request.max_content_length)}.",
        }.get(status, exc.description or "")
        response = http_problem(status, detail)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(StoreUnavailable)
    def _unavailable(exc: StoreUnavailable):
        log.warning("store unavailable on %s %s: %s", request.method, request.path, exc)
        detail = "Het register kan zijn opslag nu niet bereiken. Probeer het over enkele ogenblikken opnieuw."
        if request.method not in ("GET", "HEAD", "OPTIONS"):  # the store may have taken it before it stopped answering
            detail += (" Kijk eerst na of de wijziging werd doorgevoerd (met dezelfde Idempotency-Key wordt ze "
                       "nooit dubbel uitgevoerd).")
        return http_problem(503, detail, headers={"Retry-After": "5"})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if type(exc).__module__.startswith("gunicorn.http"):  # a body gunicorn cannot read (a bad chunk size)
            return http_problem(400, "De body van het verzoek kon niet gelezen worden (ongeldige chunked-codering).")
        log.exception("unexpected error on %s %s", request.method, request.path)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return http_problem(500, "Er liep iets onverwacht mis.")
        # never claim "nothing changed": the failure may come after a commit
        return http_problem(500, "Er liep iets onverwacht mis. Kijk na of de wijziging werd doorgevoerd voor u ze "
                                 "opnieuw stuurt (met dezelfde Idempotency-Key wordt ze nooit dubbel uitgevoerd).")
