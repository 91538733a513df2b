"""The SPARQL query page for people: results of a query typed in the browser as an HTML table, errors
in Dutch on the same page. Programs keep getting the SPARQL result formats from the same URL."""

from __future__ import annotations

import json

from flask import Response, g, render_template, request

from app.publication import problems

SHOWN_ROWS = 500


def wanted() -> bool:
    """A browser asked: the form's format=html, or a GET with a query that prefers text/html."""
    fmt = request.args.get("format")
    if "query" not in request.args:
        return False  # the page itself (service description for programs)
    if fmt:
        return fmt == "html"
    return request.method == "GET" and problems.wants_html()


def answer(run, examples, restricted: bool) -> Response:
    """Run the endpoint (errors as problem+json), then show its answer on the query page."""
    g.problem_json = True  # the endpoint's errors come back as data, shown below the form
    response = run()
    query = request.args.get("query", "")
    context = {"examples": examples, "restricted": restricted, "query": query, "error": None, "table": None,
               "boolean": None, "graph": None}
    body = response.get_data(as_text=True)
    if response.status_code >= 400:
        try:
            context["error"] = json.loads(body).get("detail") or body
        except ValueError:
            context["error"] = body
    elif response.mimetype.endswith("sparql-results+json"):
        results = json.loads(body)
        if "boolean" in results:
            context["boolean"] = results["boolean"]
        else:
            names = results["head"]["vars"]
            rows = [[row.get(name, {}).get("value", "") for name in names] for row in results["results"]["bindings"]]
            context["table"] = (names, rows[:SHOWN_ROWS], len(rows))
    else:
        context["graph"] = body
    page = Response(render_template("sparql.html", **context), status=response.status_code, mimetype="text/html")
    page.headers["Vary"] = "Accept"
    return page
