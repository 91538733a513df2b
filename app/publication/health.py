"""Health and the request log: what an operator's monitoring and logs need.

`GET /gezondheid` (also `/health`) answers 200 with the register's sequence when the store answers,
else the store's 503 problem with Retry-After, so a load balancer or a service manager can tell a
register that serves from one that waits for its store. One log line per request (logger
`vr.toegang`, on for `vr serve`, `VR_ACCESS_LOG=0` switches it off): time, process, client, method,
path without query string (a search text can be a name), status and duration.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, Response, current_app, g, json, request

bp = Blueprint("health", __name__)
log = logging.getLogger("vr.toegang")


@bp.get("/gezondheid")
@bp.get("/health")
def health() -> Response:
    register = current_app.extensions["vr"]
    sequence = register.store.latest_sequence()  # the store answers (StoreUnavailable: a 503 problem)
    body = {"status": "ok", "opslag": "bereikbaar", "sequentie": sequence}
    response = Response(json.dumps(body), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _started() -> None:
        g.vr_started = time.perf_counter()

    @app.after_request
    def _logged(response: Response) -> Response:
        if log.isEnabledFor(logging.INFO):
            took = (time.perf_counter() - g.get("vr_started", time.perf_counter())) * 1000
            log.info("%s %s %s %d %.1f ms", request.remote_addr, request.method, request.path, response.status_code,
                     took)
        return response
