"""The meldingen endpoints in the register's OpenAPI document (merged in by publication/openapi.py)."""

from __future__ import annotations

from app.meldingen.events import EVENT_TYPES, RESTRICTED_TYPES
from app.meldingen.subscriptions import CHANNELS, STATUSES

ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"}}
NA = {"name": "na", "in": "query", "required": False, "schema": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"},
      "description": "Positie: geeft de meldingen daarna (0 = vanaf het begin; zie 'positie' van een melding)."}
GEMEENTE = {"type": "string", "pattern": "^BE[0-9]{8}$", "example": "BE23444021"}  # as the register answers
GEMEENTE_GEVRAAGD = {"type": "string", "minLength": 1, "example": "Gent",
                     "description": "De naam (Gent), de NIS-code (44021) of de werkingsgebiedcode (BE23444021)."}


def schemas() -> dict:
    types = {"type": "string", "enum": list(EVENT_TYPES)}
    return {
        "NieuwAbonnement": {
            "type": "object", "additionalProperties": False, "required": ["gemeenten"],
            "properties": {
                "gemeenten": {"type": "array", "minItems": 1, "maxItems": 400, "items": GEMEENTE_GEVRAAGD},
                "meldingtypes": {"type": "array", "minItems": 1, "items": types,
                                 "description": "Standaard alle types die u mag lezen; "
                                                f"{', '.join(sorted(RESTRICTED_TYPES))} vereisen rol 'lezer'."},
                "kanaal": {"type": "string", "enum": list(CHANNELS), "default": "pull"},
                "inbox": {"type": "string", "format": "uri", "pattern": "^https?://",
                          "description": "LDN-inbox of webhook-URL (kanaal ldn of webhook)."}}},
        "Abonnement": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "url": {"type": "string"}, "feed": {"type": "string"},
                           "organisatie": {"type": "string"}, "gemeenten": {"type": "array", "items": GEMEENTE},
                           "meldingtypes": {"type": "array", "items": types},
                           "kanaal": {"type": "string", "enum": list(CHANNELS)},
                           "status": {"type": "string", "enum": list(STATUSES)}, "positie": {"type": "string"},
                           "fout": {"type": "string"}, "foutSinds": {"type": "string"},
                           "geheim": {"type": "string", "description": "Enkel bij aanmaken: ondertekent elke "
                                      "bezorging (Standard Webhooks, HMAC-SHA256)."}}},
        "Abonnementstatus": {"type": "object", "additionalProperties": False, "required": ["status"],
                             "properties": {"status": {"type": "string", "enum": ["actief", "gepauzeerd"]}}},
    }


def _problems(codes, problem) -> dict:
    return {str(code): problem(code) for code in codes}


def paths(problem, idempotency: dict) -> dict:
    """`problem(status)` is the document's response object for an error status; `idempotency` its
    Idempotency-Key header parameter."""
    sub = {"application/json": {"schema": {"$ref": "#/components/schemas/Abonnement"}}}
    activity = {'application/ld+json; profile="https://www.w3.org/ns/activitystreams"': {"schema": {"type": "object"}}}
    return {
        "/meldingen/abonnementen": {
            "post": {"summary": "Abonneer op meldingen van gemeenten", "operationId": "maakAbonnement",
                     "tags": ["meldingen"], "parameters": [idempotency],
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/NieuwAbonnement"}}}},
                     "responses": {"201": {"description": "Aangemaakt; het geheim wordt enkel nu getoond",
                                           "content": sub}, **_problems((400, 401, 415, 422), problem)}},
            "get": {"summary": "Abonnementen van uw organisatie (met de rol admin: van alle organisaties)",
                    "operationId": "lijstAbonnementen",
                    "tags": ["meldingen"],
                    "responses": {"200": {"description": "Lijst", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"abonnementen": {
                            "type": "array", "items": {"$ref": "#/components/schemas/Abonnement"}}}}}}},
                        **_problems((401,), problem)}}},
        "/meldingen/abonnementen/{id}": {
            "get": {"summary": "Eén abonnement (met status en laatste fout)", "operationId": "toonAbonnement",
                    "tags": ["meldingen"], "parameters": [ID],
                    "responses": {"200": {"description": "Abonnement", "content": sub},
                                  **_problems((401, 404), problem)}},
            "patch": {"summary": "Pauzeer of hervat (ook na 'mislukt')", "operationId": "pauzeerAbonnement",
                      "tags": ["meldingen"], "parameters": [ID],
                      "requestBody": {"required": True, "content": {"application/json": {
                          "schema": {"$ref": "#/components/schemas/Abonnementstatus"}}}},
                      "responses": {"200": {"description": "Gewijzigd", "content": sub},
                                    **_problems((400, 401, 404), problem)}},
            "delete": {"summary": "Schrap een abonnement", "operationId": "schrapAbonnement", "tags": ["meldingen"],
                       "parameters": [ID], "responses": {"204": {"description": "Geschrapt"},
                                                         **_problems((401, 404), problem)}}},
        "/meldingen/abonnementen/{id}/feed": {
            "get": {"summary": "Pull: de meldingen van een abonnement (ActivityStreams 2.0 OrderedCollection)",
                    "operationId": "feedAbonnement", "tags": ["meldingen"], "parameters": [ID, NA],
                    "responses": {"200": {"description": "Collectie of pagina (volgende pagina via 'next')",
                                          "content": activity}, **_problems((400, 401, 404), problem)}}},
    }
