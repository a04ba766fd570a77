import logging
import os

import pytest

from config import ProductionConfig


def test_security_headers(client):
    response = client.get("/en/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_flags(client, auth, make_user):
    _, iin = make_user()
    response = auth.login(iin)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure():
    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE


@pytest.mark.parametrize("secret", [None, "", "dev", "short-key"])
def test_production_refuses_weak_secret(monkeypatch, secret):
    from app import create_app

    class Weak(ProductionConfig):
        SECRET_KEY = secret
        IIN_HMAC_KEY = "x" * 40
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://nobody@127.0.0.1/none"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Weak)


class _Production(ProductionConfig):
    """A production configuration that starts: strong secrets, SMTP, a public URL."""
    SECRET_KEY = "s" * 48
    IIN_HMAC_KEY = "i" * 48
    SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://nobody@127.0.0.1/none"
    MAIL_BACKEND = "smtp"
    PUBLIC_URL = "https://qatysu.example"


def test_production_starts_with_strong_secrets():
    from app import create_app

    assert create_app(_Production).config["SESSION_COOKIE_SECURE"] is True


def test_no_stack_trace_on_server_error(app):
    @app.route("/en/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/en/boom")
    assert response.status_code == 500
    assert b"secret internals" not in response.data and b"Traceback" not in response.data


def test_iin_never_logged(new_iin, client, territories, caplog):

    iin = new_iin()
    client.post("/api/v1/residents", json={"iin": iin, "full_name": "A B", "territory": "751410000",
                                           "password": "correct-horse-battery"})
    client.post("/api/v1/auth/token", json={"iin": iin, "password": "wrong-wrong-wrong"})
    assert iin not in caplog.text


def _redis_reachable():
    import redis

    try:
        return redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis server on 127.0.0.1:6379")
def test_login_throttle_is_shared_across_workers_through_redis(new_iin, make_app, territories):
    """Two app instances (two gunicorn workers, or two hosts) share one Redis: a guesser cannot
    spread attempts over workers."""
    import redis

    from app.domain import accounts
    from app.extensions import db
    from tests.helpers import PASSWORD

    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
    worker_one = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15")
    iin = new_iin()
    with worker_one.app_context():
        from app.domain.territories import import_territories
        from tests.helpers import KATO_DEMO

        import_territories(KATO_DEMO.read_text(encoding="utf-8"))
        accounts.register_resident(iin=iin, full_name="A B", territory_code="751410000",
                                   password=PASSWORD, iin_key=worker_one.config["IIN_HMAC_KEY"])
        db.session.commit()
    worker_two = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15")
    wrong = {"iin": iin, "password": "wrong-password"}
    for n in range(5):
        worker = worker_one if n % 2 else worker_two
        assert worker.test_client().post("/api/v1/auth/token", json=wrong).status_code == 401
    for worker in (worker_one, worker_two):
        response = worker.test_client().post("/api/v1/auth/token", json={"iin": iin, "password": PASSWORD})
        assert response.status_code == 429
    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()


DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: Redis is down


@pytest.fixture
def redis_down(app, make_app):
    """redis_down(**overrides) -> an app whose rate-limit storage is a Redis that is down.

    The limiter extension is shared by every app: afterwards it is bound to memory again, so
    the fixtures' teardown (limiter.reset()) does not meet the dead Redis."""
    from app import security

    security._local.clear()
    yield lambda **overrides: make_app(RATELIMIT_STORAGE_URI=DEAD_REDIS, **overrides)
    security._local.clear()
    make_app()


def _resident(app, iin):
    from app.domain import accounts
    from app.extensions import db
    from tests.helpers import PASSWORD

    with app.app_context():
        accounts.register_resident(iin=iin, full_name="A B", territory_code="751410000",
                                   password=PASSWORD, iin_key=app.config["IIN_HMAC_KEY"])
        db.session.commit()
    return iin


@pytest.mark.parametrize("lang", ["en", "kk"])
def test_login_fails_closed_with_503_when_redis_is_down(new_iin, redis_down, territories, caplog, lang):
    from tests.helpers import PASSWORD, catalogue_translation, csrf_token

    app = redis_down()
    iin = _resident(app, new_iin())
    client = app.test_client()
    page = client.get(f"/{lang}/login")
    response = client.post(f"/{lang}/login", data={"iin": iin, "password": PASSWORD,
                                                    "csrf_token": csrf_token(page)})
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    message = "The service is temporarily unavailable. Please try again in a few minutes."
    expected = message if lang == "en" else catalogue_translation(message, lang)
    assert expected in response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    with client.session_transaction() as session:
        assert "_user_id" not in session
    api = client.post("/api/v1/auth/token", json={"iin": iin, "password": PASSWORD})
    assert api.status_code == 503 and int(api.headers["Retry-After"]) > 0
    assert api.get_json()["error"]["code"] == "unavailable"
    assert iin not in caplog.text


def test_registration_fails_closed_with_503_when_redis_is_down(new_iin, redis_down, territories):
    from tests.helpers import PASSWORD

    app = redis_down()
    response = app.test_client().post("/api/v1/residents", json={
        "iin": new_iin(), "full_name": "A B", "territory": "751410000", "password": PASSWORD})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["error"]["code"] == "unavailable"


def test_registration_is_limited_per_address(new_iin, make_app, territories):
    from tests.helpers import PASSWORD

    client = make_app(REGISTRATIONS_PER_ADDRESS="2 per hour").test_client()
    for expected in (201, 201, 429):
        response = client.post("/api/v1/residents", json={
            "iin": new_iin(), "full_name": "A B", "territory": "751410000", "password": PASSWORD})
        assert response.status_code == expected
    assert int(response.headers["Retry-After"]) > 0


def test_ballots_fail_open_when_redis_is_down(app, redis_down, make_cycle, make_proposal, make_user,
                                              api_token, auth):
    """Voting goes on through a Redis outage (web page and API), limited per worker instead."""
    from tests.helpers import csrf_token

    cycle_id = make_cycle(phase="voting", ballot_style="approval", max_choices=2)
    p1 = make_proposal(cycle_id)
    _, iin = make_user(territory="751710000")
    headers = api_token(iin)
    auth.login(iin)
    session_cookie = auth.client.get_cookie("session", domain="localhost").value
    down = redis_down()  # the limiter now talks to a dead Redis
    client = down.test_client()
    response = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [p1]},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    client.set_cookie("session", session_cookie, domain="localhost")
    page = client.get(f"/en/cycles/{cycle_id}/ballot")
    assert page.status_code == 200
    cast = client.post(f"/en/cycles/{cycle_id}/ballot", data={
        "proposals": [str(p1)], "csrf_token": csrf_token(page)})
    assert cast.status_code == 302 and "/ballot/receipt" in cast.headers["Location"]


UNREACHABLE_DB = "postgresql+psycopg://postgres@127.0.0.1:1/qatysu"


@pytest.fixture
def app_without_database(tmp_path):
    from app import create_app
    from config import TestingConfig

    class DatabaseDown(TestingConfig):
        SQLALCHEMY_DATABASE_URI = UNREACHABLE_DB
        UPLOAD_DIR = str(tmp_path / "uploads")

    return create_app(DatabaseDown)


@pytest.mark.parametrize("path", ["/en/cycles", "/kk/proposals/1", "/en/account"])
def test_database_outage_answers_503_page(app_without_database, path):
    from flask_login.utils import _create_identifier

    client = app_without_database.test_client()
    with app_without_database.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        # A logged-in visitor: every page asks the database who they are.
        session.update({"_user_id": "1:0", "_id": identifier, "_fresh": True})
    response = client.get(path)
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "text/html"
    assert b"Traceback" not in response.data and b"psycopg" not in response.data


def test_database_outage_answers_503_envelope(app_without_database, caplog):
    client = app_without_database.test_client()
    for response in (client.get("/api/v1/cycles"),
                     client.post("/api/v1/auth/token", json={"iin": "900517300011", "password": "x" * 12})):
        assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
        assert response.get_json()["error"]["code"] == "unavailable"
    assert "900517300011" not in caplog.text


@pytest.mark.parametrize("backend", ["console", "memory", ""])
def test_production_refuses_to_start_without_smtp(backend):
    from app import create_app

    class NoSmtp(_Production):
        MAIL_BACKEND = backend

    with pytest.raises(RuntimeError, match="MAIL_BACKEND=smtp"):
        create_app(NoSmtp)


def test_failed_sql_is_logged_without_its_parameters(app, make_user, caplog):
    """A failing INSERT carries a password hash, a phone and an email: none reaches the log."""
    from app.extensions import db
    from app.models import User

    user_id, _ = make_user()
    with app.app_context():
        existing = db.session.get(User, user_id)
        iin_hmac, territory_id = existing.iin_hmac, existing.territory_id
    secret_hash = "$argon2id$v=19$m=1024,t=1,p=1$c2VjcmV0LXNhbHQ$secret-hash-value"

    @app.route("/en/duplicate")
    def duplicate():
        db.session.add(User(iin_hmac=iin_hmac, full_name="Duplicate Person", role="resident",
                            territory_id=territory_id, password_hash=secret_hash,
                            phone="+77017654321", email="private.person@example.kz"))
        db.session.commit()  # the IIN digest is taken: IntegrityError

    with caplog.at_level(logging.DEBUG):
        response = app.test_client().get("/en/duplicate")
    assert response.status_code == 500
    assert "database error" in caplog.text and "INSERT INTO" in caplog.text
    for personal in (secret_hash, "+77017654321", "private.person@example.kz", iin_hmac,
                     "Duplicate Person"):
        assert personal not in caplog.text


def _console_mail_app(make_app, config):
    return make_app(MAIL_BACKEND="console", MAIL_LOG_CONTENT=config == "development")


@pytest.mark.parametrize("config", ["testing", "production-like"])
def test_console_mail_logs_no_address_or_body_outside_development(make_app, caplog, config):
    from app.mail import send_mail

    app = _console_mail_app(make_app, config)
    with app.app_context(), caplog.at_level(logging.DEBUG):
        assert send_mail("private.person@example.kz", "Subject", "Body with a link /kk/x")
    assert "private.person@example.kz" not in caplog.text and "Body with a link" not in caplog.text


def test_console_mail_shows_the_message_in_development(make_app, caplog):
    from app.mail import send_mail

    app = _console_mail_app(make_app, "development")
    with app.app_context(), caplog.at_level(logging.INFO):
        send_mail("dev@example.kz", "Subject", "Body")
    assert "dev@example.kz" in caplog.text
    from config import DevelopmentConfig, TestingConfig
    from config import ProductionConfig as Production

    assert DevelopmentConfig.MAIL_LOG_CONTENT and not Production.MAIL_LOG_CONTENT
    assert Production.SQLALCHEMY_ENGINE_OPTIONS["hide_parameters"] is True
    assert TestingConfig.SQLALCHEMY_ENGINE_OPTIONS["hide_parameters"] is True


@pytest.mark.parametrize("public_url", [None, "", "qatysu.kz", "http://qatysu.kz",
                                        "https://qatysu.kz/path"])
def test_production_refuses_to_start_without_public_url(public_url):
    from app import create_app

    class NoPublicUrl(_Production):
        PUBLIC_URL = public_url

    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        create_app(NoPublicUrl)


def test_development_links_default_to_the_local_server():
    from config import DevelopmentConfig

    assert DevelopmentConfig.PUBLIC_URL == "http://127.0.0.1:8000" or "PUBLIC_URL" in os.environ


FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


def test_feed_links_come_from_public_url_not_the_host_header(make_app, published_cycle):
    published_cycle()
    app = make_app(SERVER_NAME=None, PUBLIC_URL="https://qatysu.example")
    response = app.test_client().get("/feed.atom?lang=en", headers=FORGED)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "evil.example" not in text
    assert 'href="https://qatysu.example/en/cycles/' in text


def test_mail_links_come_from_public_url_not_the_host_header(make_app, make_user, make_cycle,
                                                             make_proposal):
    from app.extensions import db
    from app.models import Proposal
    from app.notifications import notify_proposal_reviewed

    app = make_app(SERVER_NAME=None, PUBLIC_URL="https://qatysu.example")
    author, _ = make_user(email="author@example.kz")
    proposal_id = make_proposal(make_cycle(), author_id=author)
    with app.test_request_context("/en/staff", headers=FORGED):
        notify_proposal_reviewed(db.session.get(Proposal, proposal_id))
        message = app.extensions["outbox"][-1]
    assert "evil.example" not in message.body
    assert f"https://qatysu.example/kk/proposals/{proposal_id}" in message.body


NUL_REQUESTS = [
    ("get", "/en/cycles?phase=%00", {}),
    ("get", "/en/cycles/{cycle}?q=abc%00def", {}),
    ("get", "/en/cycles/{cycle}?category=%00&status=admitted", {}),
    ("get", "/en/register?find=%00", {}),
    ("get", "/api/v1/cycles?territory=75%000", {}),
    ("get", "/api/v1/territories?within=%00", {}),
    ("get", "/api/v1/cycles/{cycle}/proposals?q=%00", {}),
    ("get", "/territories/7500%0000/feed.atom", {}),
    ("post", "/api/v1/residents", {"json": {"iin": "900517300011", "full_name": "A\u0000B",
                                            "territory": "751410000", "password": "x" * 12}}),
    ("post", "/api/v1/auth/token", {"json": {"iin": "9005\u00001730001", "password": "x" * 12}}),
    ("post", "/en/register", {"data": {"full_name": "A\x00B", "iin": "1"}}),
    ("post", "/en/login", {"data": {"iin": "\x00", "password": "x"}}),
]


@pytest.mark.parametrize("method, path, kwargs", NUL_REQUESTS)
def test_nul_characters_are_bad_input_not_a_server_error(client, make_cycle, method, path, kwargs):
    """PostgreSQL refuses NUL in text: every route answers 400, never reaching the database."""
    from tests.helpers import csrf_token

    cycle = make_cycle(phase="proposals")
    if method == "post" and "data" in kwargs:  # a genuine form: CSRF passes, the NUL is refused
        kwargs = {"data": dict(kwargs["data"], csrf_token=csrf_token(client.get(path)))}
    response = getattr(client, method)(path.format(cycle=cycle), headers={"Accept-Language": "en"},
                                       **kwargs)
    assert response.status_code == 400
    message = "The request contains characters that are not allowed."
    if path.startswith("/api/"):
        assert response.get_json()["error"] == {"code": "bad_request", "message": message}
    else:
        assert message in response.get_data(as_text=True)


def test_nul_refusal_is_translated(client):
    from tests.helpers import catalogue_translation

    message = "The request contains characters that are not allowed."
    for lang in ("kk", "ru"):
        response = client.get(f"/{lang}/cycles?phase=%00")
        assert catalogue_translation(message, lang) in response.get_data(as_text=True)
    api = client.get("/api/v1/territories?within=%00", headers={"Accept-Language": "ru"})
    assert api.get_json()["error"]["message"] == catalogue_translation(message, "ru")


def test_security_page_maps_controls_to_tests_that_exist():
    """docs/security.md names a test for each control: every one it names must exist."""
    import re

    from tests.helpers import ROOT

    page = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_[a-z_]+\.py)::(test_[a-z0-9_]+)`", page))
    assert len(named) > 40
    for filename, name in named:
        assert f"def {name}(" in (ROOT / "tests" / filename).read_text(encoding="utf-8"), name
