"""Landing page: what the register holds and where to find it."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from pyoxigraph import NamedNode

from app.namespaces import DCTERMS, FV, GRAPH_PUBLIC, SKOS

bp = Blueprint("home", __name__)

LIST_QUERY = f"""
SELECT ?code ?naam WHERE {{
  ?v a <{FV}Vereniging> ; <{DCTERMS}identifier> ?code ; <{SKOS}prefLabel> ?naam .
}} ORDER BY DESC(?code) LIMIT 200
"""


@bp.get("/")
def index():
    store = current_app.extensions["vr"].store.store
    rows = [(r["code"].value, r["naam"].value)
            for r in store.query(LIST_QUERY, default_graph=[NamedNode(GRAPH_PUBLIC)], named_graphs=[])]
    return render_template("index.html", rows=rows)
