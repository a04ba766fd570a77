from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from app.api import bp
from app.api.common import ApiError, json_body
from app.domain import accounts
from app.extensions import db
from app.security import throttled_login, throttled_registration


def _text(body, name):
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(422, "validation_failed", _("Please correct the highlighted fields."),
                       {name: [_("This field has the wrong type.")]})
    return value


@bp.post("/residents")
def create_resident():
    body = json_body()
    throttled_registration()
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
    token, expires_at = accounts.issue_token(user, current_app.config["API_TOKEN_HOURS"])
    db.session.commit()
    return {"token": token, "expires_at": expires_at.isoformat()}


