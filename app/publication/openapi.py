"""OpenAPI 3 description of the write API, served at /openapi.json, with a docs page at /docs/api.

Built from the same tables the parser uses (parse.KINDS and its field sets), so a field added to
the API cannot be forgotten here; tests/test_openapi.py runs schemathesis against it.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template

from app.domain import codelists
from app.domain.parse import KINDS

bp = Blueprint("openapi", __name__)

TEXT = {"type": "string", "minLength": 1}
DATE = {"type": "string", "format": "date", "example": "2015-09-01"}
BOOL = {"type": "boolean"}


def _codes(name: str) -> dict:
    return {"type": "string", "enum": [c.code for c in codelists.get(name).concepts]}


def schemas() -> dict:
    adres = {"type": "object", "additionalProperties": False,
             "required": ["straatnaam", "huisnummer", "postcode", "gemeente", "land"],
             "properties": {key: TEXT for key in ("straatnaam", "huisnummer", "busnummer", "postcode", "gemeente",
                                                  "land")}}
    items = {
        "Locatie": {"type": "object", "additionalProperties": False, "required": ["locatietype"],
                    "properties": {"locatietype": {"type": "string", "enum": ["Activiteiten", "Correspondentie"]},
                                   "isPrimair": BOOL, "naam": {"type": "string", "maxLength": 128},
                                   "adres": {"$ref": "#/components/schemas/Adres"},
                                   "adresId": {"type": "string", "pattern": "^https://data\\.vlaanderen\\.be/id/adres/[0-9]+$"}}},
        "Contactgegeven": {"type": "object", "additionalProperties": False,
                           "required": ["contactgegeventype", "waarde"],
                           "properties": {"contactgegeventype": _codes("contactgegeventypes"), "waarde": TEXT,
                                          "beschrijving": {"type": "string", "maxLength": 128}, "isPrimair": BOOL}},
        "Vertegenwoordiger": {"type": "object", "additionalProperties": False,
                              "required": ["insz", "voornaam", "achternaam"],
                              "properties": {"insz": {"type": "string", "pattern": "^[0-9. -]{11,15}$"},
                                             "voornaam": TEXT, "achternaam": TEXT, "roepnaam": TEXT, "rol": TEXT,
                                             "isPrimair": BOOL, "email": {"type": "string", "format": "email"},
                                             "telefoon": TEXT, "mobiel": TEXT, "socialMedia": {"type": "string",
                                                                                               "format": "uri"}}},
        "Lidmaatschap": {"type": "object", "additionalProperties": False, "required": ["andereVereniging"],
                         "properties": {"andereVereniging": {"type": "string", "pattern": "^V[0-9]{7}$"},
                                        "van": DATE, "tot": DATE, "identificatie": TEXT, "beschrijving": TEXT}},
        "Erkenning": {"type": "object", "additionalProperties": False, "required": ["ipdcProductNummer"],
                      "properties": {"ipdcProductNummer": {"type": "string", "pattern": "^[0-9]+$"},
                                     "ipdcProductNaam": TEXT, "startdatum": DATE, "einddatum": DATE,
                                     "hernieuwingsdatum": DATE,
                                     "hernieuwingsUrl": {"type": "string", "format": "uri"}}},
        "Bankrekeningnummer": {"type": "object", "additionalProperties": False, "required": ["iban", "titularissen"],
                               "properties": {"iban": {"type": "string", "example": "BE71 0961 2345 6769"},
                                              "doel": {"type": "string", "maxLength": 128},
                                              "titularissen": {"type": "array", "minItems": 1, "items": TEXT}}},
    }
    basis = {
        "naam": TEXT, "korteNaam": TEXT, "korteBeschrijving": TEXT, "startdatum": DATE,
        "doelgroep": {"type": "object", "additionalProperties": False,
                      "properties": {"minimumleeftijd": {"type": "integer", "minimum": 0, "maximum": 150},
                                     "maximumleeftijd": {"type": "integer", "minimum": 0, "maximum": 150}}},
        "hoofdactiviteiten": {"type": "array", "maxItems": 3, "uniqueItems": True,
                              "items": _codes("hoofdactiviteiten")},
        "werkingsgebieden": {"type": "array", "uniqueItems": True,
                             "items": {"type": "string", "example": "BE23444021"}},
    }
    collections = {kind: {"type": "array", "items": {"$ref": f"#/components/schemas/{_schema_name(kind)}"}}
                   for kind in ("locaties", "contactgegevens", "vertegenwoordigers", "lidmaatschappen",
                                "bankrekeningnummers")}
    return {
        "Adres": adres,
        **items,
        "Registratie": {"type": "object", "additionalProperties": False, "required": ["naam"],
                        "properties": {"@context": {"type": "string"},
                                       "verenigingstype": {"type": "string", "enum": ["FV", "VZER"]},
                                       **basis, **collections}},
        "KboRegistratie": {"type": "object", "additionalProperties": False,
                           "required": ["kboNummer", "verenigingstype", "naam"],
                           "properties": {"kboNummer": {"type": "string", "example": "0202.239.951"},
                                          "verenigingstype": {"type": "string", "enum": ["VZW", "IVZW", "PS", "SVON"]},
                                          **basis, "locaties": collections["locaties"],
                                          "contactgegevens": collections["contactgegevens"]}},
        "Basisgegevens": {"type": "object", "minProperties": 1, "additionalProperties": False,
                          "description": "JSON merge patch (RFC 7386): null verwijdert een optioneel veld.",
                          "properties": {key: {**value, "nullable": True} for key, value in basis.items()}},
        "Stopzetting": {"type": "object", "additionalProperties": False, "required": ["einddatum"],
                        "properties": {"einddatum": DATE}},
        "Verwijdering": {"type": "object", "additionalProperties": False, "properties": {"reden": TEXT}},
        "Resultaat": {"type": "object", "properties": {"vCode": {"type": "string"}, "versie": {"type": "integer"},
                                                       "gewijzigd": BOOL, "id": {"type": "integer"}}},
        "Problem": {"type": "object", "description": "RFC 9457 problem details",
                    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                   "status": {"type": "integer"}, "detail": {"type": "string"},
                                   "instance": {"type": "string"},
                                   "errors": {"type": "array", "items": {"type": "object", "properties": {
                                       "path": {"type": "string"}, "code": {"type": "string"},
                                       "message": {"type": "string"}}}}}},
    }


def _schema_name(kind: str) -> str:
    return KINDS[kind].parser.capitalize() if kind != "bankrekeningnummers" else "Bankrekeningnummer"


def _problems(*codes: int) -> dict:
    texts = {400: "Ongeldige gegevens", 401: "Geen of ongeldige API-sleutel", 403: "Rol of organisatie niet gemachtigd",
             404: "Onbekende vereniging of onderdeel", 409: "Mogelijke dubbele verenigingen", 410: "Verwijderd",
             412: "If-Match komt niet overeen met de huidige versie", 413: "Body te groot",
             415: "Mediatype niet ondersteund", 422: "Idempotency-Key hergebruikt voor een andere aanvraag"}
    return {str(code): {"description": texts[code],
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for code in codes}


def _ok(status: int = 200, description: str = "Uitgevoerd (gewijzigd: false als er niets veranderde)") -> dict:
    return {str(status): {"description": description, "headers": {"ETag": {"schema": {"type": "string"}}},
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Resultaat"}}}}}


def _body(schema: str, media_types: tuple[str, ...] = ("application/json", "application/ld+json")) -> dict:
    return {"required": True, "content": {m: {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                                          for m in media_types}}


VCODE = {"name": "vCode", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^V[0-9]{7}$"}}
ITEM_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string", "example": 'W/"1"'}}
REDEN = {"name": "VR-Reden", "in": "header", "required": False, "schema": {"type": "string"},
         "description": "Waarom deze wijziging; komt in de provenance van de versie."}
MERGE = ("application/merge-patch+json",)
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,200}$"},
               "description": "Een herhaalde POST met dezelfde sleutel (per organisatie) geeft het eerste resultaat "
                              "terug in plaats van opnieuw uit te voeren; dezelfde sleutel voor een andere aanvraag "
                              "geeft 422."}


def document() -> dict:
    paths: dict = {
        "/verenigingen": {"post": {
            "summary": "Registreer een feitelijke vereniging / VZER", "operationId": "registreer",
            "parameters": [REDEN, IDEMPOTENCY,
                           {"name": "VR-BevestigingsToken", "in": "header", "required": False,
                            "schema": {"type": "string"}, "description": "Token uit een 409-antwoord"}],
            "requestBody": _body("Registratie"),
            "responses": {**_ok(201, "Geregistreerd; Location wijst naar de vereniging"),
                          **_problems(400, 401, 403, 409, 413, 415, 422)}}},
        "/verenigingen/kbo": {"post": {
            "summary": "Registreer een vereniging met rechtspersoonlijkheid (KBO)", "operationId": "registreerKbo",
            "parameters": [REDEN, IDEMPOTENCY], "requestBody": _body("KboRegistratie"),
            "responses": {**_ok(201, "Geregistreerd"), **_ok(200, "KBO-nummer was al geregistreerd"),
                          **_problems(400, 401, 403, 413, 415)}}},
        "/verenigingen/{vCode}": {
            "patch": {"summary": "Wijzig basisgegevens (JSON merge patch)", "operationId": "wijzigBasisgegevens",
                      "parameters": [VCODE, IF_MATCH, REDEN], "requestBody": _body("Basisgegevens", MERGE),
                      "responses": {**_ok(), **_problems(400, 401, 403, 404, 410, 412, 413, 415)}},
            "delete": {"summary": "Verwijder een vereniging (rol admin)", "operationId": "verwijder",
                       "parameters": [VCODE, IF_MATCH, REDEN],
                       "requestBody": {"required": False, "content": {"application/json": {
                           "schema": {"$ref": "#/components/schemas/Verwijdering"}}}},
                       "responses": {**_ok(), **_problems(400, 401, 403, 404, 410, 412)}}},
        "/verenigingen/{vCode}/stop": {"post": {
            "summary": "Stop een vereniging", "operationId": "stop",
            "parameters": [VCODE, IF_MATCH, REDEN, IDEMPOTENCY],
            "requestBody": _body("Stopzetting"), "responses": {**_ok(), **_problems(400, 401, 403, 404, 410, 412)}}},
        "/verenigingen/{vCode}/heractivering": {"post": {
            "summary": "Corrigeer een verkeerde stopzetting", "operationId": "heractiveer",
            "parameters": [VCODE, IF_MATCH, REDEN, IDEMPOTENCY],
            "responses": {**_ok(), **_problems(400, 401, 403, 404, 410, 412)}}},
    }
    for kind in KINDS:
        schema = _schema_name(kind)
        paths[f"/verenigingen/{{vCode}}/{kind}"] = {"post": {
            "summary": f"Voeg toe: {kind}", "operationId": f"voegToe_{kind}",
            "parameters": [VCODE, IF_MATCH, REDEN, IDEMPOTENCY],
            "requestBody": _body(schema),
            "responses": {**_ok(201, "Toegevoegd; Location wijst naar het nieuwe item"),
                          **_problems(400, 401, 403, 404, 410, 412, 413, 415)}}}
        paths[f"/verenigingen/{{vCode}}/{kind}/{{id}}"] = {
            "patch": {"summary": f"Wijzig (merge patch): {kind}", "operationId": f"wijzig_{kind}",
                      "parameters": [VCODE, ITEM_ID, IF_MATCH, REDEN], "requestBody": _body(schema, MERGE),
                      "responses": {**_ok(), **_problems(400, 401, 403, 404, 410, 412, 413, 415)}},
            "delete": {"summary": f"Verwijder: {kind}", "operationId": f"verwijder_{kind}",
                       "parameters": [VCODE, ITEM_ID, IF_MATCH, REDEN],
                       "responses": {**_ok(), **_problems(400, 401, 403, 404, 410, 412)}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Verenigingsregister – beheer-API", "version": "1.0.0",
                 "description": "Schrijf-API voor gegevensinitiatoren. Elke fout is application/problem+json "
                                "(RFC 9457) met een lijst veldfouten; een geweigerde aanvraag wijzigt niets."},
        "servers": [{"url": current_app.extensions["vr"].settings.base}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {"securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}}, "schemas": schemas()},
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    response = jsonify(document())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/docs/api")
def docs() -> str:
    return render_template("api_docs.html", spec=document())
