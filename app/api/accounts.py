from flask import current_app, g
from flask_babel import get_locale
from flask_babel import gettext as _

from app import eds_signin, phone_codes, registration
from app.api import bp
from app.api.common import ApiError, json_body, token_required
from app.api.openapi import _error_responses, _json, register_paths
from app.domain import accounts, assurance, phone, second_factor
from app.extensions import db
from app.models import SignIn
from app.security import throttled_login, throttled_second_factor


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
    totp = _text(body, "totp")
    user = throttled_login(_text(body, "iin") or "", _text(body, "password") or "")
    if user is None:
        raise ApiError(401, "invalid_credentials", _("The IIN or password is incorrect."))
    db.session.commit()  # a rehashed password is saved
    if not second_factor.needed(user, current_app.config["STAFF_SECOND_FACTOR_REQUIRED"]):
        return _token_response(user, SignIn.PASSWORD.value)
    if not second_factor.is_enrolled(user):
        raise ApiError(403, "second_factor_not_enrolled", _(
            "Staff accounts need an authenticator app: log in on the website once to set it up."))
    if not totp:
        raise ApiError(401, "second_factor_required", _(
            "Staff accounts also give the code from their authenticator app (the totp field)."))
    if not throttled_second_factor(user, totp):
        db.session.commit()
        raise ApiError(401, "second_factor_invalid", _(
            "The code is incorrect. Enter the six digits your authenticator app shows now."))
    return _token_response(user, SignIn.PASSWORD_TOTP.value)


def _token_response(user, signed_in_with):
    token, expires_at = accounts.issue_token(user, current_app.config["API_TOKEN_HOURS"], signed_in_with)
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
    return _token_response(user, SignIn.EDS.value)


def _me(user):
    return {"id": user.id, "full_name": user.full_name, "role": user.role,
            "territory": user.territory.code if user.territory else None,
            # The level this token counts for (how it was obtained, capped by the account).
            "assurance": assurance.session_level(user), "account_assurance": user.assurance,
            "signed_in_with": user.signed_in_with, "residence": user.residence,
            "phone": user.phone, "phone_confirmed": phone.is_confirmed(user), "email": user.email,
            "locale": user.locale, "notify_proposals": user.notify_proposals,
            "notify_results": user.notify_results}


@bp.get("/me")
@token_required
def me():
    return _me(g.api_user)


@bp.patch("/me")
@token_required
def update_me():
    """Email, preferred language and email choices (the phone changes by SMS confirmation)."""
    body = json_body()
    accounts.update_profile(g.api_user, email=_text(body, "email") if "email" in body else None,
                            locale=body.get("locale"), notify_proposals=body.get("notify_proposals"),
                            notify_results=body.get("notify_results"))
    db.session.commit()
    return _me(g.api_user)


@bp.put("/me/territory")
@token_required
def choose_territory():
    """Where the resident lives: a declaration, as on the web page (accounts.choose_home)."""
    body = json_body(required=("territory",))
    accounts.choose_home(g.api_user, _text(body, "territory"))
    db.session.commit()
    return _me(g.api_user)


@bp.post("/me/phone")
@token_required
def send_phone_code():
    body = json_body(required=("phone",))
    number = phone_codes.send_code(g.api_user, _text(body, "phone"))
    return {"phone": number, "expires_in": int(phone.CODE_TTL.total_seconds())}, 202


@bp.post("/me/phone/confirm")
@token_required
def confirm_phone():
    body = json_body(required=("code",))
    phone_codes.confirm_code(g.api_user, _text(body, "code"))
    return _me(g.api_user)


@bp.post("/auth/sign-out-everywhere")
@token_required
def sign_out_everywhere():
    accounts.sign_out_everywhere(g.api_user)
    db.session.commit()
    return "", 204


_TOKEN = _json({"type": "object", "properties": {
    "token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}})
_LEVEL = {"type": "string", "enum": ["password", "phone", "eds"]}
_ME = _json({"type": "object", "properties": {
    "id": {"type": "integer"}, "full_name": {"type": "string"}, "role": {"type": "string"},
    "territory": {"type": "string", "nullable": True},
    "assurance": {**_LEVEL, "description": "the level this token counts for: how it was obtained "
                  "(a password, with a confirmed phone `phone`; EDS `eds`), capped by the account's"},
    "account_assurance": {**_LEVEL, "description": "the strongest level the account has proven"},
    "signed_in_with": {"type": "string", "enum": ["password", "password+totp", "eds"]},
    "residence": {"type": "string", "enum": ["declared", "verified"]},
    "phone": {"type": "string", "nullable": True}, "phone_confirmed": {"type": "boolean"},
    "email": {"type": "string", "nullable": True}, "locale": {"type": "string", "enum": ["kk", "ru", "en"]},
    "notify_proposals": {"type": "boolean"}, "notify_results": {"type": "boolean"}}})

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
        "responses": {"200": {"description": "The account", **_ME}, **_error_responses(401)}},
        "patch": {
        "summary": "Change the caller's email, preferred language (emails; the site after sign-in) "
                   "and email choices; omitted fields stay, an empty email removes it",
        "security": [{"bearer": []}],
        "requestBody": {"required": True, **_json({"type": "object", "properties": {
            "email": {"type": "string", "nullable": True}, "locale": {"type": "string", "enum": ["kk", "ru", "en"]},
            "notify_proposals": {"type": "boolean"}, "notify_results": {"type": "boolean"}}})},
        "responses": {"200": {"description": "The account", **_ME}, **_error_responses(401, 422)}}},
    "/me/territory": {"put": {
        "summary": "Declare where the caller lives (KATO code). Moving is a new declaration: a "
                   "verified residence becomes declared again; a ballot already cast stays, one per cycle",
        "security": [{"bearer": []}],
        "requestBody": {"required": True, **_json({"type": "object", "required": ["territory"],
                        "properties": {"territory": {"type": "string", "pattern": "^[0-9]{9}$"}}})},
        "responses": {"200": {"description": "The account", **_ME}, **_error_responses(401, 403, 422)}}},
    "/me/phone": {"post": {
        "summary": "Text a six-digit code to this number to confirm it (10 minutes, 5 tries); "
                   "sends are limited per account, per number and overall",
        "security": [{"bearer": []}],
        "requestBody": {"required": True, **_json({"type": "object", "required": ["phone"],
                        "properties": {"phone": {"type": "string", "example": "+77011234567"}}})},
        "responses": {"202": {"description": "The code is sent", **_json({"type": "object", "properties": {
            "phone": {"type": "string"}, "expires_in": {"type": "integer"}}})},
            **_error_responses(401, 422, 429, 503)}}},
    "/me/phone/confirm": {"post": {
        "summary": "Confirm the number with the code: the account's identity level becomes at least "
                   "`phone` (one number confirms one account: 409 `phone_taken`); 422 "
                   "`phone_code_wrong` or `phone_code_expired`",
        "security": [{"bearer": []}],
        "requestBody": {"required": True, **_json({"type": "object", "required": ["code"],
                        "properties": {"code": {"type": "string", "pattern": "^[0-9]{6}$"}}})},
        "responses": {"200": {"description": "The account", **_ME}, **_error_responses(401, 409, 422)}}},
    "/auth/sign-out-everywhere": {"post": {
        "summary": "End every session of the caller's account and revoke all its API tokens",
        "security": [{"bearer": []}],
        "responses": {"204": {"description": "Signed out"}, **_error_responses(401)}}},
})
