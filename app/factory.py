"""Flask application factory."""

from __future__ import annotations

from flask import Flask

from app.config import Settings
from app.publication.bounded_request import BoundedRequest
from app.register import Register


def create_app(settings: Settings | None = None, register: Register | None = None) -> Flask:
    settings = settings or (register.settings if register else Settings())
    app = Flask(__name__, static_folder="publication/static", template_folder="publication/templates")
    app.request_class = BoundedRequest
    # Werkzeug answers bodies over this size with 413 before our code reads them.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False
    app.extensions["vr"] = register or Register.open(settings)

    from app.auth import access, audit
    from app.meldingen import api as meldingen
    from app.publication import (
        beheer_api,
        catalog,
        cors,
        dumps,
        erasure_api,
        health,
        historiek,
        import_api,
        openapi,
        portal,
        problems,
        resources,
        security_txt,
        sparql,
        streams,
        toezicht_api,
        vocab,
        write_api,
        zoeken,
    )

    problems.install(app)
    cors.init_app(app)
    access.init_app(app)
    health.init_app(app)
    app.register_blueprint(write_api.bp)
    app.register_blueprint(beheer_api.bp)
    app.register_blueprint(toezicht_api.bp)
    app.register_blueprint(erasure_api.bp)
    app.register_blueprint(security_txt.bp)
    app.register_blueprint(import_api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(dumps.bp)
    app.register_blueprint(historiek.bp)
    app.register_blueprint(streams.bp)
    app.register_blueprint(catalog.bp)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(meldingen.bp)
    app.register_blueprint(resources.bp)
    app.register_blueprint(vocab.bp)
    app.register_blueprint(zoeken.bp)
    app.register_blueprint(portal.bp)
    return app
