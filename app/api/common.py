"""What every API endpoint shares: JSON bodies, bearer tokens, the error envelope."""
import functools

from flask import g, request
from flask_babel import get_locale
from flask_babel import gettext as _

from app.api import bp
from app.domain.accounts import user_for_token
from app.domain.errors import DomainError
from app.errors import error_response
from app.extensions import db
from app.i18n import translate
from app.security import with_sign_in


class ApiError(Exception):
    def __init__(self, status, code, message, fields=None):
        self.status, self.code, self.message, self.fields = status, code, message, fields


@bp.errorhandler(ApiError)
def api_error(error):
    return error_response(error.status, error.code, error.message, error.fields)


@bp.errorhandler(DomainError)
def domain_error(error):
    db.session.rollback()
    fields = {name: [translate(m, p) for m, p in messages]
              for name, messages in (error.fields or {}).items()} or None
    retry_after = getattr(error, "retry_after", None)  # Throttled (429) and Unavailable (503)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return error_response(error.status, error.code, translate(error.message, error.params), fields,
                          headers)


def json_body(required=()):
    """The request's JSON object, or a 400 that says what is wrong with it."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", _("The request body must be a JSON object."))
    missing = [name for name in required if body.get(name) in (None, "")]
    if missing:
        raise ApiError(422, "validation_failed", _("Please correct the highlighted fields."),
                       {name: [_("This field is required.")] for name in missing})
    return body


def field(body, name, kind, required=False):
    """One field of the body, checked for its JSON type (422 naming the field otherwise)."""
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(422, "validation_failed", _("Please correct the highlighted fields."),
                           {name: [_("This field is required.")]})
        return None
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        raise ApiError(422, "validation_failed", _("Please correct the highlighted fields."),
                       {name: [_("This field has the wrong type.")]})
    return value


def i18n_field(body, name):
    """Texts by language from `<name>_i18n` ({kk, ru, en}) and the older single string `<name>`,
    which is the text in the request's language (Accept-Language) unless `<name>_i18n` has it."""
    texts = dict(field(body, f"{name}_i18n", dict) or {})
    single = field(body, name, str)
    lang = str(get_locale())
    if single and not texts.get(lang):
        texts[lang] = single
    return texts


def bearer_user():
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    user = user_for_token(token.strip())
    return with_sign_in(user, user.signed_in_with) if user is not None else None


def token_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        user = bearer_user()
        if user is None:
            raise ApiError(401, "unauthorized", _("A valid access token is required."))
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper


def optional_token(view):
    """Public reads: a token, when given, may show more (staff see counts from `closed`)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.api_user = bearer_user()
        return view(*args, **kwargs)

    return wrapper
