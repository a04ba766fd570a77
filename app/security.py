"""Security headers, login sessions, and the throttles for logins, ballots and receipt checks."""
import time

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from limits import parse

from app.domain.errors import Throttled
from app.extensions import limiter, login_manager

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if current_app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint and not request.endpoint.startswith(("static", "api.public")) \
                and "Cache-Control" not in headers:
            # Pages can carry personal data: no shared caches.
            headers["Cache-Control"] = "private, no-store" if _has_user() else "no-cache"
        return response


def _has_user():
    from flask_login import current_user

    return current_user.is_authenticated


@login_manager.user_loader
def load_user(user_id):
    from app.domain import records
    from app.models import User

    try:
        raw_id, version = user_id.split(":")
        user = records.get(User, int(raw_id))
    except (ValueError, AttributeError):
        return None
    # A session from before a password change (or staff re-keying) is no longer valid.
    if user is None or str(user.session_version) != version:
        return None
    return user


class Throttle:
    """A named limit from config, counted in the limiter's storage (Redis in production)."""

    def __init__(self, config_key, namespace):
        self.config_key = config_key
        self.namespace = namespace

    def _limit(self):
        return parse(current_app.config[self.config_key])

    def check(self, key):
        """Raise Throttled when the limit for `key` is used up."""
        limit = self._limit()
        if not limiter.limiter.test(limit, self.namespace, key):
            reset_at, _ = limiter.limiter.get_window_stats(limit, self.namespace, key)
            raise Throttled(retry_after=reset_at - time.time())

    def hit(self, key):
        limiter.limiter.hit(self._limit(), self.namespace, key)

    def reset(self, key):
        limiter.limiter.clear(self._limit(), self.namespace, key)


login_failures_by_iin = Throttle("LOGIN_FAILURES_PER_IIN", "login-iin")
login_attempts_by_address = Throttle("LOGIN_ATTEMPTS_PER_ADDRESS", "login-addr")
ballots_by_account = Throttle("BALLOTS_PER_ACCOUNT", "ballot")
receipt_checks_by_address = Throttle("RECEIPT_CHECKS_PER_ADDRESS", "receipt-addr")


def throttled_receipt_check(code):
    """app.domain.voting.check_receipt under the per-address limit (raises Throttled): one
    sequence for the receipt page and the API, sharing one count per client address."""
    from app.domain import voting

    address = request.remote_addr or "-"
    receipt_checks_by_address.check(address)
    receipt_checks_by_address.hit(address)
    return voting.check_receipt(code)


def throttled_login(iin, password):
    """The account for these credentials or None, under both login throttles (raises Throttled).

    One sequence for the login page and the token API. The per-IIN limit is keyed by the IIN's
    digest, so the limiter's storage never sees an IIN; only failures count against it."""
    from app.domain import accounts
    from app.domain.iin import iin_digest, normalise

    iin_key = current_app.config["IIN_HMAC_KEY"]
    iin_key_id = iin_digest(normalise(iin), iin_key)
    address = request.remote_addr or "-"
    login_attempts_by_address.check(address)
    login_failures_by_iin.check(iin_key_id)
    login_attempts_by_address.hit(address)
    user = accounts.authenticate(iin, password, iin_key)
    if user is None:
        login_failures_by_iin.hit(iin_key_id)
    else:
        login_failures_by_iin.reset(iin_key_id)
    return user
