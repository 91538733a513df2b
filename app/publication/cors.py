"""CORS for the read surfaces, decided in one place for every answer: errors and preflights included.

Linked data is read by browser applications on other sites (viewers, harvesters in a page). They must
be able to read the body, tell a 404 from a 410 (an error answer without CORS is an opaque "failed to
fetch"), revalidate with If-None-Match (a preflight), send a key for the restricted stream, and read the
validators (ETag). Writes are not opened: they are made by servers, not by pages on other sites.
"""

from __future__ import annotations

from flask import Flask, Response, request

READ_SURFACES = ("/id/", "/doc/", "/ldes", "/conceptscheme", "/concept/", "/ns", "/void", "/.well-known/void",
                 "/dumps/", "/api/zoeken", "/contexten/", "/sparql", "/openapi", "/sjablonen/")
EXPOSED = "ETag, Last-Modified, Link, Location, Content-Location, Content-Type, Content-Length, Vary, Retry-After"
ASKED_WITH = "Accept, Accept-Language, Authorization, Content-Type, If-None-Match, If-Modified-Since"


def init_app(app: Flask) -> None:
    app.after_request(_open_reads)


def _open_reads(response: Response) -> Response:
    if not request.path.startswith(READ_SURFACES):
        return response
    sparql = request.path.startswith("/sparql")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not (sparql and request.method == "POST"):
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):  # a preflight
        methods = "GET, HEAD, POST, OPTIONS" if sparql else "GET, HEAD, OPTIONS"
        response.headers.setdefault("Access-Control-Allow-Methods", methods)
        response.headers.setdefault("Access-Control-Allow-Headers", ASKED_WITH)
        response.headers.setdefault("Access-Control-Max-Age", "86400")
    return response
