from flask import current_app, g
from flask_babel import get_locale
from flask_babel import gettext as _

from app import eds_signin, registration
from app.api import bp
from app.api.common import ApiError, json_body, token_required
from app.api.openapi import _error_responses, _json, register_paths
from app.domain import accounts
from app.extensions import db
from app.security import throttled_login


def _text(body, name):
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(422, "validation_failed", _("Please correct the highlighted fields."),
                       {name: [_("This field has the wrong type.")]})
    return value


@bp.post("/residents")
def create_resident():
    # The contract (api.md) still answers 409 `iin_taken` here; the throttle at least stops
    # anyone from sweeping IINs through it (the registration page answers uniformly).
    registration.throttle()
    body = json_body()
    user = accounts.register_resident(
        iin=_text(body, "iin"), full_name=_text(body, "full_name"),
        territory_code=_text(body, "territory"), password=_text(body, "password"),
        phone=_text(body, "phone"), email=_text(body, "email"), locale=str(get_locale()),
        iin_key=current_app.config["IIN_HMAC_KEY"])
    db.session.commit()
    return {"id": user.id}, 201


@bp.post("/auth/token")
def create_token():
    body = json_body()
    user = throttled_login(_text(body, "iin") or "", _text(body, "password") or "")
    if user is None:
        raise ApiError(401, "invalid_credentials", _("The IIN or password is incorrect."))
    return _token_response(user)


def _token_response(user):
    token, expires_at = accounts.issue_token(user, current_app.config["API_TOKEN_HOURS"])
    db.session.commit()
    return {"token": token, "expires_at": expires_at.isoformat()}


@bp.post("/auth/eds/challenge")
def create_eds_challenge():
    issued = eds_signin.issue_challenge()
    db.session.commit()
    return {"challenge": issued.value, "expires_at": issued.expires_at.isoformat()}


@bp.post("/auth/eds")
def sign_in_with_eds():
    body = json_body(required=("challenge", "cms"))
    user, _created = eds_signin.sign_in(_text(body, "challenge"), _text(body, "cms"))
    return _token_response(user)


@bp.get("/me")
@token_required
def me():
    user = g.api_user
    return {"id": user.id, "full_name": user.full_name, "role": user.role,
            "territory": user.territory.code if user.territory else None,
            "assurance": user.assurance, "residence": user.residence}


@bp.post("/auth/sign-out-everywhere")
@token_required
def sign_out_everywhere():
    accounts.sign_out_everywhere(g.api_user)
    db.session.commit()
    return "", 204


_TOKEN = _json({"type": "object", "properties": {
    "token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}})

register_paths({
    "/auth/eds/challenge": {"post": {
        "summary": "A one-time challenge to sign with an EDS authentication key (rate-limited)",
        "responses": {"200": {"description": "The challenge", **_json({"type": "object", "properties": {
            "challenge": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}})},
            **_error_responses(429, 503)}}},
    "/auth/eds": {"post": {
        "summary": "Exchange a signed challenge (base64 CMS) for a bearer token; the first sign-in "
                   "creates the account from the certificate's IIN and name",
        "requestBody": {"required": True, **_json({"type": "object", "required": ["challenge", "cms"],
                        "properties": {"challenge": {"type": "string"}, "cms": {"type": "string"}}})},
        "responses": {"200": {"description": "A token", **_TOKEN},
                      **_error_responses(400, 401, 403, 422, 503)}}},
    "/me": {"get": {
        "summary": "The caller's account", "security": [{"bearer": []}],
        "responses": {"200": {"description": "The account", **_json({"type": "object", "properties": {
            "id": {"type": "integer"}, "full_name": {"type": "string"}, "role": {"type": "string"},
            "territory": {"type": "string", "nullable": True},
            "assurance": {"type": "string", "enum": ["password", "phone", "eds"]},
            "residence": {"type": "string", "enum": ["declared", "verified"]}}})},
            **_error_responses(401)}}},
    "/auth/sign-out-everywhere": {"post": {
        "summary": "End every session of the caller's account and revoke all its API tokens",
        "security": [{"bearer": []}],
        "responses": {"204": {"description": "Signed out"}, **_error_responses(401)}}},
})
