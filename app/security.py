"""Security headers, login sessions, NUL refusal, and the throttles for logins, registrations,
ballots and receipt checks (with what each does when Redis is down)."""
import logging
import time

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from limits import parse
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from app.domain.errors import Throttled, Unavailable
from app.extensions import limiter, login_manager

log = logging.getLogger("qatysu.security")

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def content_security_policy(tile_origin=None):
    """The site's CSP; a map tile server elsewhere (app.maps, MAP_TILE_URL) is allowed for
    images only."""
    if not tile_origin:
        return CSP
    return CSP.replace("img-src 'self' data:;", f"img-src 'self' data: {tile_origin};")


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @app.before_request
    def refuse_nul_characters():
        # PostgreSQL stores no NUL in text: one in a filter, search or field would reach the
        # database and fail there as a 500. Refused here for every route at once.
        if _has_nul(request):
            from flask_babel import gettext as _

            from app.errors import error_response

            return error_response(400, "bad_request",
                                  _("The request contains characters that are not allowed."))

    csp = content_security_policy(app.config.get("MAP_TILE_ORIGIN"))

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
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


def _contains_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def _has_nul(req):
    """A NUL character anywhere a view could pass on to the database: path, query, form, JSON."""
    if "\x00" in req.path or _contains_nul(req.view_args or {}):
        return True
    for multi in (req.args, req.form if req.method in ("POST", "PUT", "PATCH", "DELETE") else {}):
        for key, values in (multi.lists() if multi else ()):
            if "\x00" in key or any("\x00" in v for v in values):
                return True
    return req.is_json and _contains_nul(req.get_json(silent=True))


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
    from flask import session

    return with_sign_in(user, session.get("signed_in_with"))


def with_sign_in(user, signed_in_with):
    """The user for this request, remembering how the session or token was signed in (the level
    it counts for, app.domain.assurance.session_level); None for a staff member whose password
    sign-in lacks the second factor the site requires (sessions and tokens from before)."""
    from app.models import SignIn

    user.signed_in_with = signed_in_with or SignIn.PASSWORD.value
    if user.is_staff and current_app.config["STAFF_SECOND_FACTOR_REQUIRED"] \
            and user.signed_in_with == SignIn.PASSWORD.value:
        return None
    return user


class Throttle:
    """A named limit from config, counted in the limiter's storage (Redis in production).

    When that storage fails (Redis down or unreachable), a throttle either fails closed (raises
    Unavailable: the page or API answers 503 with Retry-After) or fails open to a limit counted
    in this worker's memory, so the limit still holds per process until Redis is back. Which
    one is decided per throttle below and documented in docs/security.md."""

    def __init__(self, config_key, namespace, fail_open=False):
        self.config_key = config_key
        self.namespace = namespace
        self.fail_open = fail_open

    def _limit(self):
        return parse(current_app.config[self.config_key])

    def _call(self, method, *args):
        try:
            return getattr(limiter.limiter, method)(*args)
        except STORAGE_ERRORS as error:
            log.warning("rate-limit storage unavailable for %s (%s): failing %s", self.namespace,
                        type(error).__name__, "open" if self.fail_open else "closed")
            if not self.fail_open:
                raise Unavailable(retry_after=STORAGE_RETRY_AFTER) from error
            return getattr(_local_limiter(), method)(*args)

    def exhausted(self, key):
        """Seconds until `key` may try again when its limit is used up, else None."""
        limit = self._limit()
        if self._call("test", limit, self.namespace, key):
            return None
        reset_at, _ = self._call("get_window_stats", limit, self.namespace, key)
        return max(1, reset_at - time.time())

    def check(self, key):
        """Raise Throttled when the limit for `key` is used up."""
        wait = self.exhausted(key)
        if wait is not None:
            raise Throttled(retry_after=wait)

    def hit(self, key):
        self._call("hit", self._limit(), self.namespace, key)

    def take(self, key):
        """check() and hit() in one round trip to the storage: a moving-window hit is refused
        (and not recorded) when the limit is used up; only then is the wait asked for."""
        limit = self._limit()
        if not self._call("hit", limit, self.namespace, key):
            reset_at, _ = self._call("get_window_stats", limit, self.namespace, key)
            raise Throttled(retry_after=max(1, reset_at - time.time()))

    def reset(self, key):
        self._call("clear", self._limit(), self.namespace, key)


STORAGE_ERRORS = (StorageError, RedisError, ConnectionError, TimeoutError)
STORAGE_RETRY_AFTER = 30
_local = {}


def _local_limiter():
    """This worker's own moving-window limiter: the fallback of the throttles that fail open."""
    if "limiter" not in _local:
        _local["limiter"] = MovingWindowRateLimiter(MemoryStorage())
    return _local["limiter"]


# Logins fail closed: without the shared counters a guesser could try passwords unthrottled
# across workers; people already signed in keep voting. Registrations fail closed too (nothing
# in them is urgent). Ballots fail open to per-worker limits: a Redis outage during the voting
# window must not stop residents voting, and the database's constraints still decide each ballot.
login_attempts_by_address = Throttle("LOGIN_ATTEMPTS_PER_ADDRESS", "login-addr")
login_failures_by_iin_and_address = Throttle("LOGIN_FAILURES_PER_IIN_ADDRESS", "login-iin-addr")
login_failures_by_iin = Throttle("LOGIN_FAILURES_PER_IIN", "login-iin")
login_failures_under_attack = Throttle("LOGIN_FAILURES_PER_ADDRESS_UNDER_ATTACK", "login-iin-slow")
ballots_by_account = Throttle("BALLOTS_PER_ACCOUNT", "ballot", fail_open=True)
receipt_checks_by_address = Throttle("RECEIPT_CHECKS_PER_ADDRESS", "receipt-addr")
second_factor_failures = Throttle("SECOND_FACTOR_FAILURES_PER_ACCOUNT", "second-factor")


def throttled_second_factor(user, code):
    """app.domain.second_factor.verify under a per-account limit on wrong codes (raises
    Throttled): after a stolen password, the six digits cannot be guessed."""
    from app.domain import second_factor

    key = str(user.id)
    second_factor_failures.check(key)
    if second_factor.verify(user, code):
        return True
    second_factor_failures.hit(key)
    return False


def throttled_receipt_check(code):
    """app.domain.voting.check_receipt under the per-address limit (raises Throttled): one
    sequence for the receipt page and the API, sharing one count per client address."""
    from app.domain import voting

    address = request.remote_addr or "-"
    receipt_checks_by_address.check(address)
    receipt_checks_by_address.hit(address)
    return voting.check_receipt(code)


def throttled_login(iin, password):
    """The account for these credentials or None, under the login throttles (raises Throttled).

    One sequence for the login page and the token API. Failures are counted per (IIN, address):
    a guesser is stopped there, while the holder of the IIN signing in from another address is
    not locked out by someone else's failures. Across addresses the IIN is only slowed: once it
    has many failures (it is under attack), each further address gets a single wrong try per
    window instead of several; the right password from a new address still passes. The IIN is
    keyed by its digest, so the limiter's storage never sees an IIN."""
    from app.domain import accounts
    from app.domain.iin import iin_digest, normalise

    iin_key = current_app.config["IIN_HMAC_KEY"]
    iin_key_id = iin_digest(normalise(iin), iin_key)
    address = request.remote_addr or "-"
    pair = f"{iin_key_id}:{address}"
    login_attempts_by_address.check(address)
    login_failures_by_iin_and_address.check(pair)
    if login_failures_by_iin.exhausted(iin_key_id) is not None:
        login_failures_under_attack.check(pair)
    login_attempts_by_address.hit(address)
    user = accounts.authenticate(iin, password, iin_key)
    if user is None:
        login_failures_by_iin_and_address.hit(pair)
        login_failures_under_attack.hit(pair)
        login_failures_by_iin.hit(iin_key_id)
    else:
        # Only this address's failures are forgiven: the IIN's count across addresses stays, or
        # the holder signing in would hand a distributed guesser a fresh allowance.
        login_failures_by_iin_and_address.reset(pair)
        login_failures_under_attack.reset(pair)
    return user


