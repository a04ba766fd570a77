"""Languages: URL prefix first (/kk/, /ru/, /en/), then the cookie, then Accept-Language."""
from datetime import datetime

from flask import g, request
from flask_babel import format_date, format_datetime, format_decimal, get_locale, gettext, ngettext

from app.languages import DEFAULT_LANGUAGE, LANG_PREFIX, LANGUAGE_NAMES, LANGUAGES  # noqa: F401 (re-exported)

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def preferred_language():
    """The best language for a request that does not name one in its URL."""
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def lang_from_path():
    """The language prefix of the path, also for URLs that matched no route (404 pages)."""
    prefix = request.path.split("/", 2)[1] if request.path.count("/") >= 2 else ""
    return prefix if prefix in LANGUAGES else None


def select_locale():
    """Flask-Babel's locale selector."""
    lang = g.get("lang_code") or lang_from_path()
    if lang in LANGUAGES:
        return lang
    if request.path.startswith("/api/"):
        # The API speaks the client's Accept-Language only: cookies belong to the browser site.
        return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
    return preferred_language()


def pull_lang_code(endpoint, values):
    if values is not None and "lang_code" in values:
        g.lang_code = values.pop("lang_code")


def add_lang_code(endpoint, values):
    if "lang_code" in values:
        return
    from flask import current_app

    if current_app.url_map.is_endpoint_expecting(endpoint, "lang_code"):
        # Pages outside the prefix (error pages, `/`) link in the visitor's best language.
        values["lang_code"] = g.get("lang_code") or select_locale()



NBSP = "\u00a0"
# Babel's own formats are poor for kk ("02.03.25", "2025 ж. 2 наурыз"): one explicit pattern per
# language, as the glossary writes dates: four-digit year, month in words, never seconds.
DATE_PATTERNS = {"kk": f"d MMMM y{NBSP}'ж'.", "ru": f"d MMMM y{NBSP}'г'.", "en": "d MMMM y"}
TIME_PATTERN = "HH:mm"


def format_when(value, with_time=False):
    """The one way a date reaches a person: «16 желтоқсан 2026 ж.», «16 декабря 2026 г.»,
    «16 December 2026» in the page's locale; with_time adds ", 18:00". A datetime is shown in
    the site's time zone; None gives ""."""
    if value is None:
        return ""
    lang = str(get_locale() or DEFAULT_LANGUAGE)
    pattern = DATE_PATTERNS.get(lang, DATE_PATTERNS["en"])
    if not isinstance(value, datetime):
        return format_date(value, pattern)
    return format_datetime(value, f"{pattern}, {TIME_PATTERN}" if with_time else pattern)


def _localise(value):
    """A domain message's parameter as the page shows it: a moment formatted for the locale,
    a count with the locale's digit grouping, a {kk, ru, en} text (a unit's names) in the
    page's language."""
    if isinstance(value, datetime):
        return format_when(value, with_time=True)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value)  # "10 000", not "10000"
    if isinstance(value, dict) and set(value) <= set(LANGUAGES):
        lang = g.get("lang_code") or select_locale()
        return value.get(lang) or next((text for text in value.values() if text), "")
    return value


def translate(message, params=None):
    """Translate a message the domain marked with N_() or Np_() (counted, needs params["n"])."""
    params = params or {}
    shown = {name: _localise(value) for name, value in params.items()}
    if isinstance(message, tuple):
        singular, plural = message
        return ngettext(singular, plural, params["n"], **shown)
    return gettext(message, **shown)


def init_app(app):
    app.url_value_preprocessor(pull_lang_code)
    app.url_defaults(add_lang_code)

    @app.after_request
    def remember_language(response):
        lang = g.get("lang_code")
        if lang in LANGUAGES and request.cookies.get(COOKIE) != lang:
            response.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax",
                                secure=app.config["SESSION_COOKIE_SECURE"], httponly=True)
        return response

    @app.context_processor
    def language_context():
        return {"LANGUAGES": LANGUAGES, "LANGUAGE_NAMES": LANGUAGE_NAMES,
                "current_lang": g.get("lang_code") or select_locale()}
