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


def test_production_starts_with_strong_secrets():
    from app import create_app

    class Strong(ProductionConfig):
        SECRET_KEY = "s" * 48
        IIN_HMAC_KEY = "i" * 48
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://nobody@127.0.0.1/none"

    assert create_app(Strong).config["SESSION_COOKIE_SECURE"] is True


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
