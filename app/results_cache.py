"""Published results, served from a cache shared by every worker and host (Redis).

Published results never change (app.domain.publication freezes them); only implementation
updates are added to them later. So the published results page (and its printable protocol)
and `GET /api/v1/cycles/<id>/results` are rendered once per cycle, language and kind, and the
stored bytes are served by a small WSGI layer in front of Flask: no session, no user, no
database, one Redis round trip. Serving them that early is what makes the page as cheap as a
hello-world (measured in bench/web.py).

Who gets the shared copy:
* API: everyone. The document of a published cycle is the same with or without a token; the
  language is the best match of Accept-Language, as app.i18n does (`Vary: Accept-Language`).
* Pages: only requests with neither a session nor a remember-me cookie: nothing personal can be
  in the page (a signed-in resident's header, a staff member's buttons), so one visitor never
  gets another's page. Everyone else goes through Flask and gets their own page rendered; an
  anonymous render is stored only when it touched nothing personal (no session written: no
  flash shown, no CSRF token) and the visitor was not signed in. The language is in the path.
  Set-Cookie is never stored; the language cookie Flask would set is added per request.
* Only GET without a query string: anything else is rendered as usual.

Invalidation: each cycle has a generation token in the cache; a stored copy is valid only with
the token it was rendered under, read before the render began. The token is replaced after a
commit that adds an implementation update to the cycle or moves its phase (publication): the
SQLAlchemy listeners below see every writer (pages, API, CLI, demo). A token missing from the
cache (evicted, or `cache.clear()` after `territories import`) invalidates every copy. Keys also
carry a release id (a digest of the code, templates and catalogues), so a deploy never serves a
page rendered by the previous version. Copies expire after RESULTS_CACHE_TIMEOUT in any case.

Each worker also keeps the copies it served in memory for RESULTS_CACHE_LOCAL_SECONDS (default
2 s; 0 turns it off) and serves them without asking Redis: on a loaded machine the Redis round
trip was most of a hit's time. So another worker or host may show a page without the newest
implementation update for up to that long; the worker that committed the update drops its own
copies at once. Published results themselves never change.

RESULTS_CACHE is on when Redis is configured (and in tests): a per-process cache (SimpleCache)
cannot be invalidated in the other workers, so without Redis nothing is cached.
"""
import functools
import hashlib
import logging
import re
import secrets
import time
from pathlib import Path

from flask import current_app, g, has_app_context, request, session
from flask_login import current_user
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import dump_cookie, parse_accept_header, parse_cookie

from app.extensions import cache
from app.languages import DEFAULT_LANGUAGE, LANGUAGES
from app.models import Cycle, ImplementationUpdate, Phase, Proposal

log = logging.getLogger("qatysu.results_cache")
ROUTES = (  # (kind, pattern): the language is in the path for pages, in Accept-Language for the API
    ("page", re.compile(r"^/(kk|ru|en)/cycles/([1-9][0-9]{0,8})/results$")),
    ("protocol", re.compile(r"^/(kk|ru|en)/cycles/([1-9][0-9]{0,8})/results/protocol$")),
    ("api", re.compile(r"^/api/v1/cycles/([1-9][0-9]{0,8})/results$")),
)
ENVIRON_KEY = "qatysu.results_cache"
STORE_KEY = "qatysu.results_cache.store"
KINDS = tuple(kind for kind, _ in ROUTES)
LOCAL_KEY = "qatysu.results_cache.local"


@functools.lru_cache(maxsize=4)  # once per process: the files do not change under a running app
def _digest_release(root):
    """A digest of what shapes a rendered page: code, templates and compiled catalogues."""
    digest = hashlib.sha256()
    app_dir = Path(root)
    files = sorted([*app_dir.rglob("*.py"), *app_dir.rglob("*.html"),
                    *(app_dir.parent / "translations").rglob("*.mo")])
    for path in files:
        digest.update(str(path.relative_to(app_dir.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _backend(app):
    return app.extensions["cache"][cache]


def _generation_key(cycle_id):
    return f"results-gen:{cycle_id}"


def _entry_key(release, cycle_id, kind, lang):
    return f"results:{release}:{cycle_id}:{kind}:{lang}"


def invalidate(cycle_ids, app=None):
    """Make every stored copy of these cycles' results stale (a new generation token)."""
    app = app or current_app
    backend = _backend(app)
    for cycle_id in cycle_ids:
        backend.set(_generation_key(cycle_id), secrets.token_hex(8), timeout=0)
        local = app.extensions.get(LOCAL_KEY, {})
        for key in [key for key in local if key.split(":")[2] == str(cycle_id)]:
            local.pop(key, None)


class ResultsCacheMiddleware:
    """The WSGI layer: a hit is answered here; a miss goes on to Flask with a note saying where
    the answer may be stored, and the answer is stored if Flask marked it as shareable."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.release = app.config.get("RESULTS_CACHE_RELEASE") or _digest_release(app.root_path)
        self.timeout = app.config["RESULTS_CACHE_TIMEOUT"]
        self.local_seconds = app.config["RESULTS_CACHE_LOCAL_SECONDS"]
        # This process's copies of recent hits: key -> (monotonic time fetched, entry), served
        # without asking Redis for local_seconds; an invalidation in this process drops them.
        self.local = app.extensions.setdefault(LOCAL_KEY, {})
        self.secure = app.config["SESSION_COOKIE_SECURE"]
        self.personal_cookies = (app.config["SESSION_COOKIE_NAME"],
                                 app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))

    def _match(self, environ):
        """(cycle id, kind, language, language cookie) of a shareable request, else None."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
            return None
        path = environ.get("PATH_INFO", "")
        for kind, pattern in ROUTES:
            found = pattern.match(path)
            if found is None:
                continue
            cookies = parse_cookie(environ) if environ.get("HTTP_COOKIE") else {}
            if kind == "api":
                accept = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
                return int(found.group(1)), kind, accept.best_match(LANGUAGES) or DEFAULT_LANGUAGE, None
            if any(name in cookies for name in self.personal_cookies):
                return None
            return int(found.group(2)), kind, found.group(1), cookies.get("lang")
        return None

    def __call__(self, environ, start_response):
        matched = self._match(environ)
        if matched is None:
            return self.wsgi_app(environ, start_response)
        cycle_id, kind, lang, lang_cookie = matched
        key = _entry_key(self.release, cycle_id, kind, lang)
        backend = _backend(self.app)
        now = time.monotonic()
        local = self.local.get(key)
        if local is not None and now - local[0] < self.local_seconds:
            token, entry = local[1][0], local[1]
        else:
            try:
                token, entry = backend.get_many(_generation_key(cycle_id), key)
            except Exception:  # cachelib logs and returns None itself; a broken cache only costs a render
                token, entry = None, None
            if token is not None and entry is not None and entry[0] == token and self.local_seconds:
                self.local[key] = (now, entry)
        if token is not None and entry is not None and entry[0] == token:
            status, headers, body = entry[1:]
            headers = list(headers)
            if kind != "api" and lang_cookie != lang:  # what app.i18n.remember_language would set
                headers.append(("Set-Cookie", dump_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax",
                                                          secure=self.secure, httponly=True)))
            environ["qatysu.endpoint"] = f"results_cache.{kind}"
            start_response(status, headers)
            return [body]
        environ[ENVIRON_KEY] = (cycle_id, kind, token)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=list(headers))  # before outer layers add theirs
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        if not environ.get(STORE_KEY):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = [(name, value) for name, value in captured["headers"] if name.lower() != "set-cookie"]
        try:
            if token is None:
                # No generation yet (first render, or evicted): start one; the next render is stored.
                backend.add(_generation_key(cycle_id), secrets.token_hex(8), timeout=0)
            else:
                backend.set(key, (token, captured["status"], headers, body), timeout=self.timeout)
        except Exception:
            log.warning("results cache unavailable: %s not stored", key)
        return [body]


def offer(cycle):
    """A view says its answer may be shared: the cycle is published (read by `_mark`)."""
    if cycle.phase == Phase.PUBLISHED.value:
        g.results_shareable = True


def _mark(response):
    """After every other after_request hook: tell the middleware whether to store the answer."""
    if ENVIRON_KEY not in request.environ or not g.get("results_shareable") or response.status_code != 200:
        return response
    if request.environ[ENVIRON_KEY][1] != "api":
        # A page is shared only if it is the anonymous page: no user, nothing written to the session.
        if current_user.is_authenticated or session.modified:
            return response
    if request.environ[ENVIRON_KEY][1] == "api":
        response.vary.add("Accept-Language")
    request.environ[STORE_KEY] = True
    return response


# --- invalidation: after a commit that adds an implementation update or moves a cycle's phase ---

def _changed_cycles(session, flush_context):
    changed = session.info.setdefault("results_changed", set())
    for obj in session.new:
        if isinstance(obj, ImplementationUpdate):
            proposal = obj.proposal or session.get(Proposal, obj.proposal_id)
            if proposal is not None:
                changed.add(proposal.cycle_id)
    for obj in session.dirty:
        if isinstance(obj, Cycle) and inspect(obj).attrs.phase.history.has_changes():
            changed.add(obj.id)


def _after_commit(session):
    changed = session.info.pop("results_changed", None)
    if changed and has_app_context() and current_app.config.get("RESULTS_CACHE"):
        try:
            invalidate(changed)
        except Exception:  # committed already: the action stands; copies expire with their timeout
            log.exception("could not invalidate the cached results of cycles %s", sorted(changed))


def _after_rollback(session):
    session.info.pop("results_changed", None)


def init_app(app):
    """Install the layer (when RESULTS_CACHE is on) and the invalidation listeners."""
    for name, listener in (("after_flush", _changed_cycles), ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    if not app.config.get("RESULTS_CACHE"):
        return
    app.after_request_funcs.setdefault(None, []).insert(0, _mark)  # runs last (reversed order)
    app.wsgi_app = ResultsCacheMiddleware(app, app.wsgi_app)
