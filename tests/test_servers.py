"""Two app servers behind one address: two gunicorn instances on two ports, sharing one
PostgreSQL database and one Redis. Whatever a resident does on one, the other knows: the
session, the sign-in throttle, the cache, and the uploaded photos (stored in the database).

The PostgreSQL server is TEST_DATABASE_URL's (or 127.0.0.1:5432), in a database of this test's
own; Redis is QATYSU_TEST_REDIS_URL (default redis://127.0.0.1:6379/14) under a key prefix of
this run's own, so parallel runs never meet. Without either server the test is skipped with
the reason, except in CI (CI=true), where it fails.
"""
import io
import os
import re
import secrets

import psycopg
import pytest
import redis
import requests
from PIL import Image
from sqlalchemy.engine import make_url

from tests.servers import PASSWORD, Gunicorn, redis_ping, seed_voting, seeding_app, unavailable

pytestmark = pytest.mark.slow
REDIS_URL = os.environ.get("QATYSU_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def _server_url():
    url = os.environ.get("TEST_DATABASE_URL") or ""
    if not url.startswith("postgresql"):
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    return make_url(url)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """(database url, redis url, key prefix): a fresh database and prefix, removed afterwards."""
    server = _server_url()
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    name = f"qatysu_servers_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL at {server.host}:{server.port} is unreachable ({type(error).__name__})")
    if not redis_ping(REDIS_URL):
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        unavailable(f"Redis at {REDIS_URL} is unreachable")
    prefix = f"qatysu-test-{secrets.token_hex(4)}"
    try:
        yield server.set(database=name).render_as_string(hide_password=False), REDIS_URL, prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def two_servers(shared, tmp_path_factory):
    database_url, redis_url, prefix = shared
    app = seeding_app(database_url)
    seeded = seed_voting(app, 2, tokens=False)
    seeded["proposing"] = _proposals_cycle(app)
    workdir = tmp_path_factory.mktemp("servers")
    settings = dict(DATABASE_URL=database_url, REDIS_URL=redis_url, REDIS_KEY_PREFIX=prefix)
    servers = [Gunicorn(workdir, name, **settings) for name in ("a", "b")]
    try:
        for server in servers:
            server.launch(workers=1)
        for server in servers:
            server.wait_ready()
        yield servers[0], servers[1], seeded, database_url, prefix
    finally:
        for server in servers:
            server.stop()


def _proposals_cycle(app):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Cycle, Territory

    with app.app_context():
        almaty = db.session.scalar(select(Territory).where(Territory.code == "750000000"))
        cycle = Cycle(territory=almaty, year=2027, title_kk="Алматы ХҚБ 2027", title_ru="БНУ Алматы 2027",
                      title_en="Almaty PB 2027", budget=100_000_000, max_project_cost=30_000_000,
                      ballot_style="approval", max_choices=3, rule="greedy", min_voters=10,
                      phase="proposals", categories=["parks", "lighting"])
        db.session.add(cycle)
        db.session.commit()
        cycle_id = cycle.id
    with app.app_context():
        db.engine.dispose()
    return cycle_id


def _csrf(html):
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _login(session, server, iin):
    page = session.get(f"{server.url}/en/login", timeout=10)
    return session.post(f"{server.url}/en/login", allow_redirects=False, timeout=10,
                        data={"iin": iin, "password": PASSWORD, "csrf_token": _csrf(page.text)})


def test_signed_in_on_one_server_votes_on_the_other(two_servers):
    a, b, seeded, _url, _prefix = two_servers
    browser = requests.Session()
    assert _login(browser, a, seeded["iins"][0]).status_code == 302
    # The session cookie A set is good on B (one SECRET_KEY; sessions checked in the database).
    ballot = browser.get(f"{b.url}/en/cycles/{seeded['cycle']}/ballot", timeout=10)
    assert ballot.status_code == 200 and "/en/logout" in ballot.text  # signed in on B
    cast = browser.post(f"{b.url}/en/cycles/{seeded['cycle']}/ballot", allow_redirects=False, timeout=10,
                        data={"proposals": [str(seeded["proposals"][1])], "csrf_token": _csrf(ballot.text)})
    assert cast.status_code == 302 and "/ballot/receipt" in cast.headers["Location"]
    # The API too: a token issued by A is accepted by B, and A reads the ballot B stored.
    token = requests.post(f"{a.url}/api/v1/auth/token", timeout=10,
                          json={"iin": seeded["iins"][0], "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    put = requests.put(f"{b.url}/api/v1/cycles/{seeded['cycle']}/ballot", headers=headers, timeout=10,
                       json={"proposals": seeded["proposals"][:2]})
    assert put.status_code == 200
    read = requests.get(f"{a.url}/api/v1/cycles/{seeded['cycle']}/ballot", headers=headers, timeout=10)
    assert read.json()["proposals"] == seeded["proposals"][:2]
    assert read.json()["receipt"] == put.json()["receipt"]


def test_the_sign_in_throttle_counts_across_both_servers(two_servers):
    a, b, seeded, _url, _prefix = two_servers
    guessed = seeded["iins"][1]
    for n in range(5):  # LOGIN_FAILURES_PER_IIN_ADDRESS: 5 per 15 minutes, spread over A and B
        server = (a, b)[n % 2]
        wrong = requests.post(f"{server.url}/api/v1/auth/token", timeout=10,
                              json={"iin": guessed, "password": "wrong-password-1"})
        assert wrong.status_code == 401
    for server in (a, b):
        refused = requests.post(f"{server.url}/api/v1/auth/token", timeout=10,
                                json={"iin": guessed, "password": PASSWORD})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_the_cache_is_shared(two_servers):
    a, b, _seeded, database_url, prefix = two_servers
    path = "/api/v1/territories?within=750000000"
    first = requests.get(a.url + path, headers={"Accept-Language": "en"}, timeout=10).json()
    cached_keys = [k for k in redis.Redis.from_url(REDIS_URL).keys(f"{prefix}:*")
                   if not k.startswith(f"{prefix}:limits".encode())]
    assert cached_keys, "A cached nothing in Redis under this run's prefix"
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("UPDATE territory SET name_en = 'Renamed in the database' WHERE code = '751410000'")
    # B answers from the entry A cached (the database already says otherwise: see the control).
    cached = requests.get(b.url + path, headers={"Accept-Language": "en"}, timeout=10).json()
    assert cached == first and "Renamed in the database" not in str(cached)
    fresh = requests.get(b.url + path + "&level=district", headers={"Accept-Language": "en"}, timeout=10)
    assert "Renamed in the database" in fresh.text


def test_a_photo_uploaded_on_one_server_is_served_by_the_other(two_servers):
    a, b, seeded, _url, _prefix = two_servers
    browser = requests.Session()
    assert _login(browser, a, seeded["iins"][0]).status_code == 302
    form = browser.get(f"{a.url}/en/cycles/{seeded['proposing']}/proposals/new", timeout=10)
    photo = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 140, 90)).save(photo, "PNG")
    created = browser.post(
        f"{a.url}/en/cycles/{seeded['proposing']}/proposals/new", allow_redirects=False, timeout=10,
        data={"csrf_token": _csrf(form.text), "title": "Скамейки в сквере", "category": "parks",
              "description": "Десять скамеек вдоль аллеи.", "cost": "2 000 000", "address": "",
              "latitude": "", "longitude": ""},
        files={"photos": ("square.png", photo.getvalue(), "image/png")})
    assert created.status_code == 302, created.text[:500]
    page = browser.get(a.url + created.headers["Location"], timeout=10)
    src = re.search(r'<img src="(/en/proposals/\d+/photos/[0-9a-f]{32}\.jpg)"', page.text).group(1)
    from_a = requests.get(a.url + src, timeout=10)
    from_b = requests.get(b.url + src, timeout=10)
    assert from_a.status_code == from_b.status_code == 200
    assert from_b.headers["Content-Type"] == "image/jpeg" and from_b.content[:3] == b"\xff\xd8\xff"
    assert from_b.content == from_a.content and from_b.headers["ETag"] == from_a.headers["ETag"]
    assert requests.get(b.url + src, headers={"If-None-Match": from_a.headers["ETag"]},
                        timeout=10).status_code == 304
