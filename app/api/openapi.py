"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json.

Kept beside the code it describes; tests/test_api.py checks that every API route in the URL
map is described here and that nothing described is missing from the URL map.
"""
from app.api import bp
from app.languages import LANGUAGES

ERROR = {"$ref": "#/components/schemas/Error"}


def _error_responses(*codes):
    return {str(code): {"description": "Error", "content": {"application/json": {"schema": ERROR}}}
            for code in codes}


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


I18N = {"type": "object", "properties": {lang: {"type": "string", "nullable": True}
                                         for lang in LANGUAGES}}
# How a request gives a staff text (review reason, implementation note) by language.
I18N_FIELD_NOTE = ("older form: one text, taken as written in the request's language "
                   "(Accept-Language); `%s_i18n` {kk, ru, en} gives each language and wins for a "
                   "language it has")

COMPONENTS = {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {
                    "type": "array", "items": {"type": "string"}}}}}}},
        "I18nText": I18N,
        "Territory": {"type": "object", "properties": {
            "code": {"type": "string", "pattern": "^[0-9]{9}$"}, "name": {"type": "string"},
            "name_i18n": I18N, "level": {"type": "string", "enum": [
                "region", "city", "district", "rural_district", "settlement"]},
            "parent": {"type": "string", "nullable": True},
            "bbox": {"type": "array", "nullable": True, "minItems": 4, "maxItems": 4,
                     "items": {"type": "number"},
                     "description": "The unit's bounding box where the import gave one, in GeoJSON "
                                    "(RFC 7946) order: [west, south, east, north] (longitude, latitude)"}}},
    },
}

PATHS = {
    "/residents": {"post": {
        "summary": "Register a resident",
        "requestBody": {"required": True, **_json({"type": "object",
                        "required": ["iin", "full_name", "territory", "password"], "properties": {
                            "iin": {"type": "string", "pattern": "^[0-9]{12}$"},
                            "full_name": {"type": "string"}, "territory": {"type": "string"},
                            "password": {"type": "string", "minLength": 10},
                            "phone": {"type": "string"}, "email": {"type": "string"}}})},
        "responses": {"201": {"description": "Created", **_json({"type": "object", "properties": {
            "id": {"type": "integer"}}})}, **_error_responses(400, 409, 422, 429, 503)}}},
    "/auth/token": {"post": {
        "summary": "Exchange an IIN and password for a bearer token. Staff and admins give the code "
                   "of their authenticator app (or a recovery code) as `totp` where the site requires "
                   "it (production) or once they have set one up: 401 `second_factor_required` "
                   "without it, `second_factor_invalid` when wrong; 403 `second_factor_not_enrolled` "
                   "until it is set up on the website. A token obtained with a password counts as "
                   "`password` (or `phone`, with a confirmed phone) whatever the account once proved",
        "requestBody": {"required": True, **_json({"type": "object", "required": ["iin", "password"],
                        "properties": {"iin": {"type": "string"}, "password": {"type": "string"},
                                       "totp": {"type": "string", "description": "staff: six digits "
                                                "from the authenticator app, or a recovery code"}}})},
        "responses": {"200": {"description": "A token", **_json({"type": "object", "properties": {
            "token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}})},
            **_error_responses(400, 401, 403, 422, 429, 503)}}},
    "/territories": {"get": {
        "summary": "Administrative-territorial units (KATO)",
        "parameters": [
            {"name": "within", "in": "query", "schema": {"type": "string"},
             "description": "KATO code: only this unit and the units inside it"},
            {"name": "level", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "Units", **_json({
            "type": "array", "items": {"$ref": "#/components/schemas/Territory"}})},
            **_error_responses(404)}}},
    "/openapi.json": {"get": {"summary": "This description",
                              "responses": {"200": {"description": "OpenAPI 3 document"}}}},
}


def register_paths(paths, schemas=None):
    """Areas add their own endpoints' descriptions here at import time."""
    PATHS.update(paths)
    COMPONENTS["schemas"].update(schemas or {})


# Any operation may answer these: 400 for a request refused before it reaches the operation
# (a NUL character anywhere, app.security), 503 while the database or Redis is down.
EVERY_OPERATION = (400, 503)


def _with_common_responses(paths):
    return {path: {method: dict(operation, responses={
        **operation["responses"],
        **{str(code): response for code, response in _error_responses(*EVERY_OPERATION).items()
           if str(code) not in operation["responses"] and path != "/openapi.json"}})
        for method, operation in operations.items()} for path, operations in paths.items()}


@bp.get("/openapi.json")
def openapi_document():
    return {
        "openapi": "3.0.3",
        "info": {"title": "Qatysu public API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "paths": _with_common_responses(PATHS),
        "components": COMPONENTS,
    }
