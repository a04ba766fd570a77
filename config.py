"""Configuration classes, read from environment variables.

`QATYSU_CONFIG` picks the class (development, testing, production); production refuses to
start without strong secrets, so a forgotten variable fails loudly instead of silently.
"""
import os
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
DEFAULT_SQLITE_URL = f"sqlite:///{INSTANCE_DIR / 'qatysu.db'}"
MIN_SECRET_LENGTH = 32
WEAK_SECRETS = {"dev", "secret", "changeme", "change-me", "development", "qatysu"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # Keyed hash for IINs: a separate secret so that rotating SECRET_KEY (sessions) does not
    # orphan every account. Falls back to SECRET_KEY only outside production.
    IIN_HMAC_KEY = os.environ.get("IIN_HMAC_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", DEFAULT_SQLITE_URL)
    # hide_parameters: a failed statement is logged without its values (password hashes,
    # phones, emails, IIN digests); the statement itself still says what failed.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    LANGUAGES = ("kk", "ru", "en")
    BABEL_DEFAULT_LOCALE = "kk"
    BABEL_DEFAULT_TIMEZONE = "Asia/Almaty"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = "https"
    WTF_CSRF_TIME_LIMIT = 3600 * 8
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024

    # Flask-Limiter: Redis in production so limits hold across workers and hosts.
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Every key this site writes to Redis starts with it: two sites (or test runs) can share one.
    REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "qatysu")
    # Storage errors as limits.errors.StorageError, and a dead Redis noticed in a second, not a minute.
    RATELIMIT_STORAGE_OPTIONS = {"wrap_exceptions": True, "socket_connect_timeout": 1,
                                 "socket_timeout": 1, "key_prefix": f"{REDIS_KEY_PREFIX}:limits"}
    # Logs: one JSON object per line on stderr (request lines carry the X-Request-ID), or "text".
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # GET /metrics (Prometheus) answers these addresses (comma-separated, networks allowed) and
    # requests bearing METRICS_TOKEN; everyone else gets 403. The client address is the one
    # TRUSTED_PROXIES resolves, so keep /metrics away from the public in nginx as well.
    METRICS_ALLOWED_IPS = os.environ.get("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN")
    # Flask-Caching: Redis shares the cache across workers and hosts; without it, per process.
    # With Redis down, a cached function is simply called (Flask-Caching catches the error).
    CACHE_TYPE = "RedisCache" if os.environ.get("REDIS_URL") else "SimpleCache"
    CACHE_REDIS_URL = os.environ.get("REDIS_URL")
    # One Redis may serve several sites (staging beside production): each its own prefix.
    CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", f"{REDIS_KEY_PREFIX}:")
    CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1} if CACHE_REDIS_URL else {}
    CACHE_DEFAULT_TIMEOUT = 300
    # Published results served from that cache (app/results_cache.py): only with Redis, since a
    # per-process cache cannot be invalidated in the other workers.
    RESULTS_CACHE = os.environ.get("RESULTS_CACHE", "1" if os.environ.get("REDIS_URL") else "0") == "1"
    RESULTS_CACHE_TIMEOUT = int(os.environ.get("RESULTS_CACHE_TIMEOUT", "3600"))
    RESULTS_CACHE_LOCAL_SECONDS = float(os.environ.get("RESULTS_CACHE_LOCAL_SECONDS", "2"))
    RATELIMIT_STRATEGY = "moving-window"
    # Failed logins: blocked per (IIN, address); across addresses an IIN is only slowed (once it
    # has LOGIN_FAILURES_PER_IIN failures, each address gets the lower allowance below).
    LOGIN_FAILURES_PER_IIN_ADDRESS = os.environ.get("LOGIN_FAILURES_PER_IIN_ADDRESS", "5 per 15 minutes")
    LOGIN_FAILURES_PER_IIN = os.environ.get("LOGIN_FAILURES_PER_IIN", "10 per 15 minutes")
    LOGIN_FAILURES_PER_ADDRESS_UNDER_ATTACK = os.environ.get(
        "LOGIN_FAILURES_PER_ADDRESS_UNDER_ATTACK", "1 per 15 minutes")
    # Per address only at a level a public service centre's shared connection does not reach.
    LOGIN_ATTEMPTS_PER_ADDRESS = os.environ.get("LOGIN_ATTEMPTS_PER_ADDRESS", "300 per 15 minutes")
    BALLOTS_PER_ACCOUNT = os.environ.get("BALLOTS_PER_ACCOUNT", "30 per minute")
    # Receipt checks (page and API) per client address: plenty for a service centre, too few to
    # trawl for codes (80 random bits each).
    RECEIPT_CHECKS_PER_ADDRESS = os.environ.get("RECEIPT_CHECKS_PER_ADDRESS", "60 per 10 minutes")
    # Against account farming: per client address, and over the whole site (one address
    # rotating through a botnet still meets the overall limit).
    REGISTRATIONS_PER_ADDRESS = os.environ.get("REGISTRATIONS_PER_ADDRESS", "5 per hour")
    REGISTRATIONS_OVERALL = os.environ.get("REGISTRATIONS_OVERALL", "600 per hour")
    PASSWORD_RESETS_PER_ADDRESS = os.environ.get("PASSWORD_RESETS_PER_ADDRESS", "10 per hour")
    EDS_CHALLENGES_PER_ADDRESS = os.environ.get("EDS_CHALLENGES_PER_ADDRESS", "30 per 10 minutes")
    EDS_CHALLENGES_OVERALL = os.environ.get("EDS_CHALLENGES_OVERALL", "3000 per 10 minutes")
    # The weakest identity a new cycle accepts (app/domain/assurance.py); staff may raise it.
    DEFAULT_MIN_ASSURANCE_PROPOSE = os.environ.get("DEFAULT_MIN_ASSURANCE_PROPOSE", "password")
    DEFAULT_MIN_ASSURANCE_VOTE = os.environ.get("DEFAULT_MIN_ASSURANCE_VOTE", "eds")
    # Phone confirmation by a one-time SMS code (app/domain/phone.py, app/sms.py): sends per
    # account, per phone number and over the whole site (each SMS costs money).
    SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "disabled")
    SMS_CODES_PER_ACCOUNT = os.environ.get("SMS_CODES_PER_ACCOUNT", "5 per hour")
    SMS_CODES_PER_PHONE = os.environ.get("SMS_CODES_PER_PHONE", "5 per day")
    SMS_CODES_OVERALL = os.environ.get("SMS_CODES_OVERALL", "2000 per hour")
    # Staff and admins who sign in with a password also give a TOTP code (EDS needs none).
    STAFF_SECOND_FACTOR_REQUIRED = os.environ.get("STAFF_SECOND_FACTOR_REQUIRED", "1") == "1"
    SECOND_FACTOR_FAILURES_PER_ACCOUNT = os.environ.get("SECOND_FACTOR_FAILURES_PER_ACCOUNT",
                                                        "5 per 15 minutes")
    API_TOKEN_HOURS = int(os.environ.get("API_TOKEN_HOURS", "24"))
    # argon2id costs; unset means argon2-cffi's recommended profile (RFC 9106 low-memory).
    ARGON2_TIME_COST = None
    ARGON2_MEMORY_COST = None
    ARGON2_PARALLELISM = None
    # Number of reverse proxies in front of gunicorn whose X-Forwarded-* headers are trusted
    # (the client address drives rate limits, so it must not be spoofable).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # The site's address for links that leave the page (mail, the Atom feed, printed protocols),
    # e.g. https://qatysu.kz: never taken from the request's Host header. Required in production.
    PUBLIC_URL = os.environ.get("PUBLIC_URL")
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    # smtp, or console (development only: the message goes to the log, addresses and bodies
    # only when MAIL_LOG_CONTENT is on, as in DevelopmentConfig). Production requires smtp.
    # Background jobs (app/jobs.py): RQ on this Redis, or inline when it is empty (no REDIS_URL,
    # or JOBS_REDIS_URL set to nothing).
    JOBS_REDIS_URL = os.environ.get("JOBS_REDIS_URL", os.environ.get("REDIS_URL")) or None
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "qatysu")
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    MAIL_LOG_CONTENT = False
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "noreply@qatysu.kz")

    # Map tiles (app/maps.py): an XYZ URL template ({z}/{x}/{y}, optionally {s} and {r}) and the
    # attribution its licence asks for (HTML; empty: OpenStreetMap's, in the page's language).
    # An akimat may point it at its own tile server; the CSP allows that host for images only.
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
    MAP_MAX_ZOOM = int(os.environ.get("MAP_MAX_ZOOM", "19"))

    # EDS sign-in: a PEM bundle of NCA RK's root certificates (see app/domain/eds.py).
    EDS_TRUSTED_ROOTS = os.environ.get("EDS_TRUSTED_ROOTS")
    # The throwaway demo PKI of app/demo/eds.py; production refuses to start with it on.
    EDS_DEMO = os.environ.get("EDS_DEMO", "0") == "1"

    @staticmethod
    def validate(app):
        """Hook for classes that must refuse to start with unsafe settings."""


class DevelopmentConfig(Config):
    # Local HTTP on 127.0.0.1: secure-only cookies would never come back.
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    SECRET_KEY = os.environ.get("SECRET_KEY") or "development-only-key-not-for-production-use"
    IIN_HMAC_KEY = os.environ.get("IIN_HMAC_KEY") or "development-only-iin-key-not-for-production"
    EDS_DEMO = os.environ.get("EDS_DEMO", "1") == "1"
    MAIL_LOG_CONTENT = True  # a developer reads the demo's mail in the console
    PUBLIC_URL = os.environ.get("PUBLIC_URL") or "http://127.0.0.1:8000"
    # `make run` works without NCALayer: demo accounts vote with their passwords.
    DEFAULT_MIN_ASSURANCE_VOTE = os.environ.get("DEFAULT_MIN_ASSURANCE_VOTE", "password")
    SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "console")
    # The demo's staff sign in with a password alone; production requires the second factor.
    STAFF_SECOND_FACTOR_REQUIRED = os.environ.get("STAFF_SECOND_FACTOR_REQUIRED", "0") == "1"


class TestingConfig(DevelopmentConfig):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_STORAGE_URI = "memory://"
    JOBS_REDIS_URL = None  # jobs inline; tests/test_jobs.py runs a real worker on its own queue
    REDIS_URL = None
    CACHE_TYPE = "SimpleCache"  # one process: the results cache is tested on it
    RESULTS_CACHE = True
    MAIL_BACKEND = "memory"
    SMS_GATEWAY = "memory"
    STAFF_SECOND_FACTOR_REQUIRED = False
    # Tests create hundreds of accounts: the cheapest argon2id costs, same code path.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    SERVER_NAME = "localhost"
    PUBLIC_URL = "http://localhost"


class ProductionConfig(Config):
    @staticmethod
    def validate(app):
        for name in ("SECRET_KEY", "IIN_HMAC_KEY"):
            value = app.config.get(name) or ""
            if len(value) < MIN_SECRET_LENGTH or value.lower() in WEAK_SECRETS:
                raise RuntimeError(
                    f"{name} is missing or weak: set it to at least {MIN_SECRET_LENGTH} random "
                    "characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')."
                )
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not os.environ.get(
            "QATYSU_ALLOW_SQLITE"
        ):
            raise RuntimeError("Production runs on PostgreSQL: set DATABASE_URL.")
        if app.config.get("EDS_DEMO"):
            raise RuntimeError("EDS_DEMO trusts a throwaway demo PKI: never in production.")
        if not re.fullmatch(r"https://[^/\s]+/?", app.config.get("PUBLIC_URL") or ""):
            raise RuntimeError("Set PUBLIC_URL to the site's https address, e.g. https://qatysu.kz: "
                               "links in mail and feeds are built from it, never from the Host header.")
        if app.config["SMS_GATEWAY"] in ("console", "memory"):
            raise RuntimeError("SMS_GATEWAY=console or memory sends nothing: in production use a "
                               "provider's adapter (module:Class) or `disabled`.")
        if not app.config.get("STAFF_SECOND_FACTOR_REQUIRED"):
            raise RuntimeError("Production requires the staff's second factor "
                               "(STAFF_SECOND_FACTOR_REQUIRED=1).")
        if app.config["MAIL_BACKEND"] != "smtp" or not app.config.get("MAIL_SERVER"):
            raise RuntimeError("Production sends mail through SMTP: set MAIL_BACKEND=smtp and "
                               "MAIL_SERVER (the console backend is for development only).")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env():
    # A machine with a DATABASE_URL is a deployment: production unless told otherwise. Without
    # one, the embedded SQLite default is a developer's machine (make run, flask --app wsgi …).
    default = "production" if os.environ.get("DATABASE_URL") else "development"
    name = os.environ.get("QATYSU_CONFIG", default)
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"QATYSU_CONFIG must be one of {', '.join(CONFIGS)}, not {name!r}")
