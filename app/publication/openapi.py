"""OpenAPI 3 description of the write API, served at /openapi.json, with a docs page at /docs/api.

The request schemas are generated from the one description of a vereniging (app/domain/model.py),
so a field added there appears here; tests/test_openapi.py runs schemathesis against it.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template

from app.domain import codelists, model
from app.domain.model import MODEL
from app.meldingen import openapi as meldingen_openapi

bp = Blueprint("openapi", __name__)

TEXT = {"type": "string", "minLength": 1}
BOOL = {"type": "boolean"}
LARGE_CODELIST = 50  # longer code lists get an example instead of an enum


def field_schema(f: model.Field) -> dict:
    """The JSON schema of one field's value, from its datatype and constraints."""
    if f.datatype == model.OBJECT:
        return object_schema(f.fields)
    if f.datatype == model.CODE:
        codes = [c.code for c in codelists.get(f.codelist).concepts if c.code not in f.api_excludes]
        one = {"type": "string", "enum": codes} if len(codes) <= LARGE_CODELIST else \
            {"type": "string", "example": codes[0]}
    elif f.datatype in (model.DATE, model.DAY):
        one = {"type": "string", "format": "date", "example": "2015-09-01"}
    elif f.datatype == model.BOOLEAN:
        one = dict(BOOL)
    elif f.datatype == model.INTEGER:
        one = {"type": "integer", "minimum": 0, "maximum": 150}
    elif f.datatype == model.IRI:
        one = {"type": "string", "format": "uri"}
    elif f.datatype == model.VCODE:
        one = {"type": "string", "pattern": "^V[0-9]{7}$"}
    else:
        one = dict(TEXT, **({"maxLength": f.max_len} if f.max_len else {}))
    one.update(dict(f.api))
    if not f.many:
        return one
    array = {"type": "array", "items": one}
    if f.datatype == model.CODE:
        array["uniqueItems"] = True
    if f.required:
        array["minItems"] = 1
    if f.max_items:
        array["maxItems"] = f.max_items
    return array


def object_schema(fields: tuple[model.Field, ...]) -> dict:
    inputs = [f for f in fields if f.writable and not f.derived]
    schema: dict = {"type": "object", "additionalProperties": False,
                    "properties": {f.key: field_schema(f) for f in inputs}}
    required = [f.key for f in inputs if f.required and not (f.many and f.datatype == model.CODE)]
    if required:
        schema["required"] = required
    return schema


def schemas(description: model.Model = MODEL) -> dict:
    basis = {key: field_schema(description.field(key)) for key in description.basis_keys()}
    collections = {p.kind: {"type": "array", "items": {"$ref": f"#/components/schemas/{p.schema}"}}
                   for p in description.parts}
    kbo_types = sorted(model.KBO_TYPES)
    return {
        **{p.schema: object_schema(p.fields) for p in description.parts},
        "Registratie": {"type": "object", "additionalProperties": False, "required": ["naam"],
                        "properties": {"@context": {
                            "description": "De context van het register (URL), of een inline context; ook de "
                                           "uitgebreide vorm (expand, een lijst of '@graph') en Turtle worden gelezen.",
                            "oneOf": [{"type": "string", "format": "uri"}, {"type": "object"}, {"type": "array"}]},
                                       "verenigingstype": {"type": "string", "enum": list(model.REGISTERABLE_TYPES)},
                                       **basis, **{p.kind: collections[p.kind] for p in description.parts
                                                   if p.registration}}},
        "KboRegistratie": {"type": "object", "additionalProperties": False,
                           "required": ["kboNummer", "verenigingstype", "naam"],
                           "properties": {"kboNummer": {"type": "string", "example": "0202.239.951"},
                                          "verenigingstype": {"type": "string", "enum": kbo_types},
                                          **basis, **{p.kind: collections[p.kind] for p in description.parts
                                                      if p.kbo_registration}}},
        "Basisgegevens": {"type": "object", "minProperties": 1, "additionalProperties": False,
                          "description": "JSON merge patch (RFC 7386): null verwijdert een optioneel veld.",
                          "properties": {key: {**value, "nullable": True} for key, value in basis.items()}},
        "Stopzetting": {"type": "object", "additionalProperties": False, "required": ["einddatum"],
                        "properties": {"einddatum": {"type": "string", "format": "date", "example": "2024-01-01"}}},
        "Verwijdering": {"type": "object", "additionalProperties": False, "properties": {"reden": TEXT}},
        **TOEZICHT_SCHEMAS,
        **ADMIN_SCHEMAS,
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


def _problems(*codes: int, said: dict[int, str] | None = None) -> dict:
    """Problem responses; `said` gives an endpoint's own meaning of a code."""
    texts = {400: "Ongeldige gegevens", 401: "Geen of ongeldige API-sleutel", 403: "Rol of organisatie niet gemachtigd",
             404: "Onbekende vereniging of onderdeel", 409: "Mogelijke dubbele verenigingen", 410: "Verwijderd",
             412: "If-Match komt niet overeen met de huidige versie", 413: "Body te groot",
             415: "Mediatype niet ondersteund", 422: "Idempotency-Key hergebruikt voor een andere aanvraag",
             **(said or {})}
    return {str(code): {"description": texts[code],
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for code in codes}


def _ok(status: int = 200, description: str = "Uitgevoerd (gewijzigd: false als er niets veranderde)") -> dict:
    return {str(status): {"description": description, "headers": {"ETag": {"schema": {"type": "string"}}},
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Resultaat"}}}}}


def _body(schema: str, media_types: tuple[str, ...] = ("application/json", "application/ld+json")) -> dict:
    return {"required": True, "content": {m: {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                                          for m in media_types}}


def _with_turtle(body: dict) -> dict:
    """A registration may also come as Turtle describing one fv:FeitelijkeVereniging."""
    body["content"]["text/turtle"] = {"schema": {"type": "string", "description": "Turtle met precies één "
                                                 "fv:FeitelijkeVereniging, in de termen van het OSLO-profiel."}}
    return body


VCODE = {"name": "vCode", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^V[0-9]{7}$"}}
ITEM_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string", "example": 'W/"1"'}}
REDEN = {"name": "VR-Reden", "in": "header", "required": False, "schema": {"type": "string"},
         "description": "Waarom deze wijziging; komt in de provenance van de versie. De reden is publiek (historiek, "
                        "wijzigingsstroom, SPARQL) en wordt nooit gewist: zet er geen persoonsgegevens in."}
MERGE = ("application/merge-patch+json",)
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,200}$"},
               "description": "Een herhaalde POST met dezelfde sleutel (per organisatie) geeft het eerste resultaat "
                              "terug in plaats van opnieuw uit te voeren; dezelfde sleutel voor een andere aanvraag "
                              "geeft 422."}


SECURITY_SCHEMES = {
    "apiKey": {"type": "http", "scheme": "bearer", "description": "API-sleutel van de organisatie"},
    "basic": {"type": "http", "scheme": "basic", "description": "HTTP Basic met de API-sleutel als wachtwoord"},
    "oauth2": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "OAuth2-toegangstoken (client credentials, ACM/IDM), zie README"},
}


def document() -> dict:
    paths: dict = {
        "/verenigingen": {"post": {
            "summary": "Registreer een feitelijke vereniging / VZER", "operationId": "registreer",
            "parameters": [REDEN, IDEMPOTENCY,
                           {"name": "VR-BevestigingsToken", "in": "header", "required": False,
                            "schema": {"type": "string"}, "description": "Token uit een 409-antwoord"}],
            "requestBody": _with_turtle(_body("Registratie")),
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
    for part in MODEL.parts:
        kind, schema = part.kind, part.schema
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
    paths.update(_toezicht_paths())
    paths.update(_admin_paths())
    paths["/verenigingen/{vCode}/erkenningen/{id}"]["patch"]["requestBody"] = _body("ErkenningWijziging", MERGE)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Verenigingsregister – beheer-API", "version": "1.0.0",
                 "description": "Schrijf-API voor gegevensinitiatoren. Elke fout is application/problem+json "
                                "(RFC 9457) met een lijst veldfouten; een geweigerde aanvraag wijzigt niets."},
        "servers": [{"url": current_app.extensions["vr"].settings.base}],
        "security": [{"apiKey": []}, {"basic": []}, {"oauth2": []}],
        "paths": {**paths, **meldingen_openapi.paths(lambda code: _problems(code)[str(code)], IDEMPOTENCY)},
        "components": {"securitySchemes": SECURITY_SCHEMES,
                       "schemas": {**_with_change_reason(schemas()), **meldingen_openapi.schemas()}},
    }


REASON = {"type": "string", "minLength": 1, "maxLength": 500}
TOEZICHT_SCHEMAS = {
    "Schorsing": {"type": "object", "additionalProperties": False, "required": ["redenSchorsing"],
                  "properties": {"redenSchorsing": REASON,
                                 "van": {"type": "string", "format": "date", "description": "standaard vandaag"},
                                 "tot": {"type": "string", "format": "date", "description": "open einde als leeg"}}},
    "SchorsingCorrectie": {"type": "object", "additionalProperties": False, "minProperties": 1,
                           "properties": {"redenSchorsing": REASON, "tot": {"type": "string", "format": "date",
                                                                           "nullable": True}}},
    "InStopzetting": {"type": "object", "additionalProperties": False, "required": ["inStopzetting"],
                      "properties": {"inStopzetting": BOOL, "reden": REASON,
                                     "datum": {"type": "string", "format": "date",
                                               "description": "sinds wanneer; standaard vandaag, niet later"}}},
    "Validatie": {"type": "object", "additionalProperties": False, "required": ["document"],
                  "properties": {"document": {**REASON, "description": "het document waarop de validatie steunt"}}},
}


ADMIN_SCHEMAS = {
    "Wissing": {"type": "object", "additionalProperties": False, "required": ["insz", "reden"],
                "properties": {"insz": {"type": "string", "description": "INSZ van de persoon (met of zonder "
                                                                         "scheidingstekens)"},
                               "reden": {**REASON, "description": "waarom, bv. het kenmerk van het verzoek"}}},
    "Retentie": {"type": "object", "additionalProperties": False, "required": ["reden"],
                 "properties": {"reden": REASON}},
    "ImportOpdracht": {"type": "object", "required": ["bestand"], "properties": {
        "bestand": {"type": "string", "format": "binary", "description": ".xlsx of .csv (sjabloon: data/templates/)"},
        "soort": {"type": "string", "enum": ["verenigingen", "kbo"], "default": "verenigingen"},
        "proef": {"type": "string", "enum": ["ja", "nee"], "default": "ja",
                  "description": "ja: proefimport (ronde 1, schrijft niets); nee: de rijen zonder fouten registreren"},
        "reden": {**REASON, "description": "komt in de provenance van elke versie"}}},
}


def _admin_paths() -> dict:
    """The import endpoint (initiators) and the erasure of personal data (admins)."""
    erased = {"200": {"description": "Gewist: aantallen per soort en de betrokken verenigingen",
                      "content": {"application/json": {"schema": {"type": "object"}}}},
              **_problems(400, 401, 403, 413, 415)}
    return {
        "/imports": {"post": {
            "summary": "Importeer een lijst verenigingen (.xlsx/.csv); proefimport of echte import, met rapporten",
            "operationId": "importeer",
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": {"$ref": "#/components/schemas/ImportOpdracht"}}}},
            "responses": {"202": {"description": "Gestart; Location wijst naar de voortgang (GET /imports/{id})",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          **_problems(400, 401, 403, 413, 415, 422, said={
                              422: "Bestand geweigerd: onleesbaar, een verplichte kolom ontbreekt of geen ingevulde "
                                   "rij; er start geen import"})}},
            "get": {"summary": "De imports van de eigen organisatie, nieuwste eerst (ten hoogste 100)",
                    "operationId": "imports",
                    "responses": {"200": {"description": "Per import: id, bestand, proef, status, rijen, gestart",
                                          "content": {"application/json": {"schema": {"type": "object"}}}},
                                  **_problems(401, 403)}}},
        "/imports/{id}": {"get": {
            "summary": "Voortgang en uitkomst van een import, met links naar de rapporten", "operationId": "import",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "Status (bezig, klaar, geweigerd, gestopt, mislukt, afgebroken), "
                                                 "samenvatting",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          **_problems(401, 403, 404)}},
            "delete": {
                "summary": "Stop een lopende import na de batch die geschreven wordt (status 'gestopt')",
                "operationId": "stopImport",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"202": {"description": "Stop gevraagd; de voortgang toont wanneer hij gestopt is",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              **_problems(401, 403, 404, 409, said={409: "De import loopt niet (meer)"})}}},
        "/beheer/wissing/persoon": {"post": {
            "summary": "Wis de persoonsgegevens van een persoon uit de afgeschermde historiek (AVG art. 17; admin)",
            "operationId": "wisPersoon", "requestBody": _body("Wissing", ("application/json",)),
            "responses": erased}},
        "/beheer/wissing/retentie": {"post": {
            "summary": "Pas de bewaartermijn nu toe (VR_RETENTION_DAYS; gebeurt ook dagelijks; admin)",
            "operationId": "pasRetentieToe", "requestBody": _body("Retentie", ("application/json",)),
            "responses": erased}},
    }


def _with_change_reason(found: dict) -> dict:
    """An erkenning's merge patch: its fields plus the required `redenVanWijziging` (the official rule)."""
    erkenning = found["Erkenning"]
    found["ErkenningWijziging"] = {
        **erkenning, "required": ["redenVanWijziging"],
        "description": "Merge patch op een erkenning; 'redenVanWijziging' is verplicht (zoals in het officiële "
                       "register) en komt in de provenance van de versie.",
        "properties": {**erkenning["properties"], "redenVanWijziging": REASON}}
    return found


def _toezicht_paths() -> dict:
    """Schorsing of an erkenning, in stopzetting, validation of a bankrekeningnummer (toezicht_api.py)."""
    common = [VCODE, IF_MATCH, REDEN]
    item = [VCODE, ITEM_ID, IF_MATCH, REDEN]
    refused = _problems(400, 401, 403, 404, 410, 412, 413, 415)
    return {
        "/verenigingen/{vCode}/erkenningen/{id}/schorsingen": {
            "post": {"summary": "Schors een erkenning (enkel de organisatie die ze toekende)",
                     "operationId": "schorsErkenning", "parameters": [*item, IDEMPOTENCY],
                     "requestBody": _body("Schorsing"), "responses": {**_ok(201, "Geschorst"), **refused}},
            "patch": {"summary": "Corrigeer de reden of het einde van een schorsing",
                      "operationId": "corrigeerSchorsing",
                      "parameters": item, "requestBody": _body("SchorsingCorrectie", MERGE),
                      "responses": {**_ok(), **refused}},
            "delete": {"summary": "Hef de schorsing van een erkenning op", "operationId": "hefSchorsingOp",
                       "parameters": item, "responses": {**_ok(), **_problems(400, 401, 403, 404, 410, 412)}}},
        "/verenigingen/{vCode}/in-stopzetting": {"post": {
            "summary": "Plaats een vereniging in stopzetting of haal ze eruit (enkel de gemachtigde organisatie, "
                       "VR_STOPZETTING_OVO)", "operationId": "inStopzetting", "parameters": [*common, IDEMPOTENCY],
            "requestBody": _body("InStopzetting"), "responses": {**_ok(), **refused}}},
        "/verenigingen/{vCode}/bankrekeningnummers/{id}/validaties": {
            "post": {"summary": "Bevestig een bankrekeningnummer op basis van een document (afgeschermd)",
                     "operationId": "valideerBankrekeningnummer", "parameters": [*item, IDEMPOTENCY],
                     "requestBody": _body("Validatie"), "responses": {**_ok(201, "Gevalideerd"), **refused}},
            "delete": {"summary": "Maak de eigen validatie van een bankrekeningnummer ongedaan",
                       "operationId": "maakValidatieOngedaan", "parameters": item,
                       "responses": {**_ok(), **_problems(400, 401, 403, 404, 410, 412)}}},
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    response = jsonify(document())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/docs/api")
def docs() -> str:
    return render_template("api_docs.html", spec=document())
