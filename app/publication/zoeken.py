"""Public portal: search with facets (HTML and JSON) and statistics with server-side SVG bar charts.

Everything here reads the derived search index (public data only); only active verenigingen are
listed unless the status facet says otherwise.
"""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request

from app.domain import codelists, places
from app.domain.duplicates import fold
from app.exchange.cells import safe_cell
from app.index.search_index import FACETS, PROVINCES, SORTS, Query
from app.publication.problems import http_problem

bp = Blueprint("zoeken", __name__)

SORT_LABELS = {"naam": "Naam (A–Z)", "-naam": "Naam (Z–A)", "vCode": "Eerst ingeschreven in het register",
               "-vCode": "Laatst ingeschreven in het register", "startdatum": "Opgericht (oudste eerst)",
               "-startdatum": "Opgericht (recentste eerst)"}
FACET_TITLES = {"hoofdactiviteit": "Hoofdactiviteit", "gemeente": "Gemeente", "provincie": "Provincie",
                "type": "Soort vereniging"}
MAX_WINDOW = 1000  # offset + limit, as in the official register


def _index():
    return current_app.extensions["vr"].index


def label(kind: str, value: str) -> str:
    if kind == "hoofdactiviteit":
        found = codelists.get("hoofdactiviteiten").find(value)
    elif kind == "gemeente":
        found = codelists.get("werkingsgebieden").find(value)
    elif kind == "provincie":
        return PROVINCES.get(value, value)
    elif kind == "type":
        found = codelists.get("verenigingstypes").find(value)
    else:
        return value
    return found.label if found else value


def _query(api: bool = True) -> Query | Response:
    """The search asked for; `api` explains a bad page in the API's parameters, the portal in words (its
    error page adds how to go on)."""
    try:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", 20))
    except ValueError:
        return http_problem(400, "'offset' en 'limit' zijn gehele getallen." if api else
                            "Deze pagina van de zoekresultaten bestaat niet.")
    if offset < 0 or limit < 1 or offset + limit > MAX_WINDOW:
        if not api:
            return http_problem(400, f"U kunt enkel de eerste {MAX_WINDOW} resultaten van een zoekopdracht "
                                     "doorbladeren.")
        return http_problem(400, f"U kunt enkel de eerste {MAX_WINDOW} resultaten van een zoekopdracht doorbladeren "
                                 f"('offset' + 'limit' ten hoogste {MAX_WINDOW}, 'offset' niet negatief, 'limit' "
                                 "minstens 1). Verfijn de zoekopdracht met een zoekterm of filter.")
    sort = request.args.get("sort", "naam")
    if sort not in SORTS:
        return http_problem(400, f"Onbekend sorteerveld '{sort}'. Kies uit: {', '.join(SORTS)}.")
    filters: dict[str, list[str]] = {}
    for kind in FACETS:
        for value in (v.strip() for text in request.args.getlist(kind) for v in text.split(",") if v.strip()):
            code = filter_code(kind, value)
            if code is None:
                return http_problem(400, f"Onbekende {FACET_WORDS[kind]} '{value[:60]}' in '{kind}'. "
                                         f"{FACET_HINTS[kind]}")
            filters.setdefault(kind, []).append(code)
    return Query(request.args.get("q", ""), filters, sort, offset, limit)


FACET_LISTS = {"hoofdactiviteit": "hoofdactiviteiten", "type": "verenigingstypes", "status": "verenigingstatus"}
FACET_WORDS = {"hoofdactiviteit": "hoofdactiviteit", "type": "soort vereniging", "status": "status",
               "gemeente": "gemeente", "provincie": "provincie", "postcode": "postcode"}
FACET_HINTS = {
    "hoofdactiviteit": "Geef een code of naam uit /conceptscheme/hoofdactiviteiten (bv. SPRT of Sport).",
    "type": "Geef een code of naam uit /conceptscheme/verenigingstypes (bv. FV).",
    "status": "Geef Actief of Gestopt.",
    "gemeente": "Geef de naam (Gent), de NIS-code (44021) of de code (BE23444021) van een gemeente.",
    "provincie": "Geef de naam (Antwerpen) of de code (BE21) van een provincie.",
    "postcode": "Een postcode heeft 4 cijfers.",
}


def filter_code(kind: str, value: str) -> str | None:
    """The code a filter value names: the code itself or its name (case and accents ignored), a gemeente also
    by NIS code; None when it names nothing (it used to find 0 verenigingen without saying why)."""
    if kind == "gemeente":
        return places.gemeente_code(value)
    if kind == "postcode":
        return value if value.isdigit() and len(value) == 4 else None
    return _filter_keys(kind).get(fold(value))


@cache
def _filter_keys(kind: str) -> dict[str, str]:
    pairs = PROVINCES.items() if kind == "provincie" else \
        ((c.code, c.label) for c in codelists.get(FACET_LISTS[kind]).concepts)
    return {fold(key): code for code, label in pairs for key in (code, label)}


@bp.get("/api/zoeken")
def search_api() -> Response:
    query = _query()
    if isinstance(query, Response):
        return query
    result = _index().search(query)
    for kind, counts in result["facetten"].items():
        for item in counts:
            item["label"] = label(kind, item["waarde"])
    response = Response(json.dumps(result, ensure_ascii=False), mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/")
@bp.get("/zoeken")
def search_page():
    query = _query(api=False)
    if isinstance(query, Response):
        return query
    if query.filters:
        query.filters.pop("status", None)  # the portal lists active verenigingen only
    unsearchable = query.text.strip() if not any(ch.isalnum() for ch in query.text) else ""
    query.text = "" if unsearchable or not query.text.strip() else query.text  # '😀', '%' or spaces name nothing
    result = _index().search(query)
    args = request.args.to_dict(flat=False)

    def link(**changes) -> str:
        merged = {k: list(v) for k, v in args.items()}
        for key, value in changes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = [value]
        merged.pop("offset", None) if "offset" not in changes else None
        return "/zoeken?" + urlencode(merged, doseq=True)

    return render_template("zoeken.html", result=result, query=query, label=label, link=link,
                           active=query.filters or {}, sorts=SORT_LABELS, facet_titles=FACET_TITLES,
                           max_window=MAX_WINDOW, unsearchable=unsearchable)


# -- statistics -----------------------------------------------------------------------------------------
CHARTS = {
    "provincie": ("Verenigingen per provincie", "provincie"),
    "gemeente": ("Verenigingen per gemeente (top 25)", "gemeente"),
    "type": ("Verenigingen per type", "type"),
    "hoofdactiviteit": ("Verenigingen per hoofdactiviteit", "hoofdactiviteit"),
    "status": ("Actief en gestopt", "status"),
    "nieuw": ("Inschrijvingen in het register per maand (elke status; niet de oprichtingsdatum)", None),
}


def chart_data(name: str) -> list[tuple[str, int]]:
    index = _index()
    if name == "nieuw":
        return [(month, count) for month, count in index.new_per_month()]
    kind = CHARTS[name][1]
    rows = index.facet_counts(kind, None if kind == "status" else "Actief")
    rows = rows[:25] if name == "gemeente" else rows
    return [(label(kind, value), count) for value, count in rows]


def bars(data: list[tuple[str, int]]) -> list[tuple[str, int, float]]:
    """(label, count, bar length in % of the largest): the page draws each bar as a scalable SVG next to its
    label as HTML text, so labels wrap on a phone instead of being cut off."""
    top = max((count for _, count in data), default=1) or 1
    return [(name, count, round(100 * count / top, 1)) for name, count in data]


@bp.get("/statistiek")
def statistics() -> str:
    data = {name: chart_data(name) for name in CHARTS}
    charts = [(name, title, bars(data[name]), data[name]) for name, (title, _) in CHARTS.items()]
    return render_template("statistiek.html", charts=charts)


@bp.get("/statistiek/<name>.<fmt>")
def statistics_data(name: str, fmt: str) -> Response:
    if name not in CHARTS or fmt not in ("csv", "json"):
        return http_problem(404, f"Onbekende grafiek of formaat: {name}.{fmt} (csv of json).")
    data = chart_data(name)
    if fmt == "json":
        body = json.dumps([{"label": k, "aantal": v} for k, v in data], ensure_ascii=False)
        return Response(body, mimetype="application/json")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["label", "aantal"])
    writer.writerows([safe_cell(label), count] for label, count in data)
    return Response(buffer.getvalue(), mimetype="text/csv")
