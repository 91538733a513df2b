"""The portal's information pages (open data, privacy, accessibility, contact) and its Jinja filters."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from app.publication import leesbaar

bp = Blueprint("portal", __name__)

LICENCE = ("Modellicentie Gratis Hergebruik", "https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0")
PAGES = {"open-data": "open_data.html", "privacy": "privacy.html", "toegankelijkheid": "toegankelijkheid.html",
         "contact": "contact.html"}

bp.add_app_template_filter(leesbaar.datum, "datum")
bp.add_app_template_filter(leesbaar.datum_tijd, "datum_tijd")
bp.add_app_template_filter(leesbaar.doelgroep, "doelgroep")
bp.add_app_template_filter(leesbaar.wijziging, "wijziging")


@bp.app_context_processor
def _globals() -> dict:
    return {"licence": LICENCE, "type_uitleg": leesbaar.TYPE_EXPLANATIONS}


def _page(name: str) -> str:
    base = current_app.extensions["vr"].settings.base or request.host_url.rstrip("/")
    return render_template(PAGES[name], base=base)


@bp.get("/open-data")
def open_data() -> str:
    return _page("open-data")


@bp.get("/privacy")
def privacy() -> str:
    return _page("privacy")


@bp.get("/toegankelijkheid")
def accessibility() -> str:
    return _page("toegankelijkheid")


@bp.get("/contact")
def contact() -> str:
    return _page("contact")
