from flask import current_app, request
from flask_babel import get_locale, gettext as _

from app.api import bp
from app.api.common import ApiError, json_body
from app.domain import accounts
from app.domain.iin import iin_digest, normalise
from app.extensions import db
from app.security import login_attempts_by_address, login_failures_by_iin


def _text(body, name):
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(422, "validation_failed", _("Please correct the highlighted fields."),
                       {name: [_("This field has the wrong type.")]})
    return value


@bp.post("/residents")
def create_resident():
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
    iin, password = _text(body, "iin") or "", _text(body, "password") or ""
    iin_key = current_app.config["IIN_HMAC_KEY"]
    throttle_key = iin_digest(normalise(iin), iin_key)
    login_attempts_by_address.check(request.remote_addr or "-")
    login_failures_by_iin.check(throttle_key)
    login_attempts_by_address.hit(request.remote_addr or "-")
    user = accounts.authenticate(iin, password, iin_key)
    if user is None:
        login_failures_by_iin.hit(throttle_key)
        raise ApiError(401, "invalid_credentials", _("The IIN or password is incorrect."))
    login_failures_by_iin.reset(throttle_key)
    token, expires_at = accounts.issue_token(user, current_app.config["API_TOKEN_HOURS"])
    db.session.commit()
    return {"token": token, "expires_at": expires_at.isoformat()}


