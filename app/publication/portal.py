"""The portal's information pages (open data, privacy, accessibility, contact) and its Jinja filters."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from app.publication import leesbaar

bp = Blueprint("portal", __name__)

LICENCE = ("Modellicentie Gratis Hergebruik", "https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0")
PAGES = {"open-data": "open_data.html", "privacy": "privacy.html", "toegankelijkheid": "toegankelijkheid.html",
         "aanmelden": "aanmelden.html",
         "contact": "contact.html"}

bp.add_app_template_filter(leesbaar.datum, "datum")
bp.add_app_template_filter(leesbaar.datum_tijd, "datum_tijd")
bp.add_app_template_filter(leesbaar.maand, "maand")
bp.add_app_template_filter(leesbaar.doelgroep, "doelgroep")
bp.add_app_template_filter(leesbaar.wijziging, "wijziging")
bp.add_app_template_filter(leesbaar.organisation, "organisatie")
bp.add_app_template_filter(leesbaar.vereniging, "vereniging")
bp.add_app_template_filter(leesbaar.ondernemingsnummer, "ondernemingsnummer")


@bp.app_context_processor
def _globals() -> dict:
    return {"licence": LICENCE, "type_uitleg": leesbaar.TYPE_EXPLANATIONS}


def removed_facts(register, vcode: str) -> dict:
    """What the public history still tells about a removed vereniging: its last name and when it went."""
    from app.publication import historiek

    facts: dict = {"vCode": vcode}
    for item in historiek.entries(register.store, register.settings.base, vcode):
        for change in item["wijzigingen"]:
            if change["veld"] == "naam" and change["na"] not in ("—", None):
                facts["naam"] = change["na"]
        if item["activiteit"]["type"].endswith("Verwijderd"):
            facts["verwijderdOp"] = item["tijdstip"]
    return facts


def _page(name: str) -> str:
    settings = current_app.extensions["vr"].settings
    base = settings.base or request.host_url.rstrip("/")
    contact = settings.contact if settings.contact.startswith(("mailto:", "https://", "http://")) else ""
    return render_template(PAGES[name], base=base, contact=contact)


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


@bp.get("/aanmelden")
def sign_in() -> str:
    """How a bestuur's staff sign in with a browser (HTTP Basic: OVO code and API key) and what they can do."""
    return _page("aanmelden")


@bp.get("/favicon.ico")
def favicon():
    """Browsers and feed readers ask for it whatever the page says; a 404 there is noise in every log."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


# -- readable code lists, concepts and vocabulary ---------------------------------------------------------
LABELS = ("http://www.w3.org/2004/02/skos/core#prefLabel", "http://www.w3.org/2000/01/rdf-schema#label",
          "http://purl.org/dc/terms/title")
NOTES = ("http://www.w3.org/2004/02/skos/core#definition", "http://www.w3.org/2000/01/rdf-schema#comment",
         "http://purl.org/dc/terms/description", "http://www.w3.org/2004/02/skos/core#scopeNote")
PROPERTY_NAMES = {
    "http://www.w3.org/2004/02/skos/core#notation": "Code", "http://www.w3.org/2004/02/skos/core#inScheme": "Lijst",
    "http://www.w3.org/2004/02/skos/core#broader": "Valt onder", "http://www.w3.org/2004/02/skos/core#narrower":
    "Omvat", "http://www.w3.org/2004/02/skos/core#exactMatch": "Zelfde begrip elders",
    "http://www.w3.org/2004/02/skos/core#altLabel": "Ook gekend als",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": "Soort", "http://www.w3.org/2000/01/rdf-schema#range":
    "Waarde", "http://www.w3.org/2000/01/rdf-schema#domain": "Hoort bij",
    "http://www.w3.org/2000/01/rdf-schema#subPropertyOf": "Verfijning van",
    "http://www.w3.org/2000/01/rdf-schema#subClassOf": "Verfijning van",
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": "Zie ook",
    "http://www.w3.org/2004/02/skos/core#hasTopConcept": None, "http://www.w3.org/2004/02/skos/core#topConceptOf": None,
}
CLASS_NAMES = {"http://www.w3.org/2004/02/skos/core#Concept": "Begrip",
               "http://www.w3.org/2004/02/skos/core#ConceptScheme": "Begrippenlijst",
               "http://www.w3.org/2002/07/owl#Class": "Klasse", "http://www.w3.org/2002/07/owl#ObjectProperty":
               "Eigenschap (verwijst naar iets)", "http://www.w3.org/2002/07/owl#DatatypeProperty":
               "Eigenschap (waarde)", "http://www.w3.org/2002/07/owl#Ontology": "Vocabularium"}
SEARCH_FILTERS = {"hoofdactiviteit": "hoofdactiviteit", "werkingsgebied": "gemeente", "verenigingstype": "type"}


def _text_of(values: list) -> str:
    nl = [v for v in values if getattr(v, "language", None) in ("nl", None)]
    return (nl or values)[0].value if values else ""


def readable_terms(triples, subject: str, title: str) -> str:
    """A code list, concept or vocabulary as a page for people: the subject's name and description, its
    properties in words, and a table of the terms it holds (code, name, description, search link)."""
    from app.domain import codelists

    by_subject: dict[str, dict[str, list]] = {}
    for t in triples:
        by_subject.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(t.object)

    def name_of(iri: str) -> str:
        from app.namespaces import PROJECT
        if iri in CLASS_NAMES:
            return CLASS_NAMES[iri]
        if not iri.startswith(PROJECT):
            return iri  # another publisher's IRI: shown as it is
        props = by_subject.get(iri, {})
        found = next((_text_of(props[p]) for p in LABELS if p in props), "")
        concept = codelists.concept_by_iri(iri)
        local = iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or iri
        return found or (concept.label if concept else local[:1].upper() + local[1:])

    def link_of(iri: str) -> str | None:
        from app.namespaces import PROJECT
        return "/" + iri[len(PROJECT):].split("#")[0] if iri.startswith(PROJECT) else None

    def search_of(iri: str) -> str | None:
        from app.namespaces import PROJECT
        parts = iri[len(PROJECT):].split("/") if iri.startswith(PROJECT + "concept/") else []
        if len(parts) == 3 and parts[1] in SEARCH_FILTERS and parts[2] != "NVT":
            kind = "provincie" if parts[1] == "werkingsgebied" and len(parts[2]) == 4 else SEARCH_FILTERS[parts[1]]
            return f"/zoeken?{kind}={parts[2]}"
        return None

    own = by_subject.get(subject, {})
    facts = []
    for predicate, values in own.items():
        label = PROPERTY_NAMES.get(predicate, predicate.rsplit("/", 1)[-1].rsplit("#", 1)[-1])
        if predicate in LABELS or predicate in NOTES or label is None:
            continue
        facts.append((label, [(name_of(v.value), link_of(v.value) or (v.value if v.value.startswith("http") else
                      None)) if hasattr(v, "value") and type(v).__name__ == "NamedNode" else (v.value, None)
                      for v in values]))
    rows = []
    for iri, props in by_subject.items():
        if iri == subject or not iri.startswith("http"):
            continue
        code = _text_of(props.get("http://www.w3.org/2004/02/skos/core#notation", [])) or \
            iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        note = next((_text_of(props[p]) for p in NOTES if p in props), "")
        rows.append((code, name_of(iri), note, link_of(iri), search_of(iri)))
    rows.sort(key=lambda row: row[0].casefold())
    return render_template("begrippen.html", title=name_of(subject) if subject in by_subject else title,
                           subject=subject, description=next((_text_of(own[p]) for p in NOTES if p in own), ""),
                           facts=facts, rows=rows, search=search_of(subject), kind=subject.split("/")[-2])
