"""Fixtures: an app per test on a real database (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), factory fixtures for data, and a logged-in client helper."""
import functools
import os
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from app import create_app
from app.domain.iin import make_iin
from app.extensions import db, limiter
from config import TestingConfig

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
KATO_DEMO = ROOT / "app" / "demo" / "kato_demo.csv"
PASSWORD = "correct-horse-battery"

_schema_ready = set()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _make_app(database_url, tmp_path, **overrides):
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        UPLOAD_DIR = str(tmp_path / "uploads")

    for key, value in overrides.items():
        setattr(Config, key, value)
    app = create_app(Config)
    with app.app_context():
        if database_url not in _schema_ready:
            db.drop_all()
            db.create_all()
            _schema_ready.add(database_url)
    return app


def _empty_tables(app):
    with app.app_context():
        tables = list(reversed(db.metadata.sorted_tables))
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                db.session.execute(table.delete())
        db.session.commit()
        db.engine.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    app = _make_app(database_url, tmp_path)
    yield app
    _empty_tables(app)
    limiter.reset()


@pytest.fixture
def make_app(database_url, tmp_path):
    """An app with config overrides, for tests of settings (e.g. rate limits)."""
    made = []

    def factory(**overrides):
        made.append(_make_app(database_url, tmp_path, **overrides))
        return made[-1]

    yield factory
    for app in made:
        _empty_tables(app)
    limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def territories(app):
    """The demo slice of KATO: Almaty and its districts, Astana, Karasay and Talgar."""
    from app.domain.territories import import_territories

    with app.app_context():
        import_territories(KATO_DEMO.read_text(encoding="utf-8"))
        db.session.commit()


_iin_serial = iter(range(1, 10**6))


def new_iin(born=date(1990, 5, 17)):
    # make_iin moves on to the next serial when one has no check digit, so two serials can give
    # the same IIN: skip one already given out in this round of serials.
    while True:
        serial = next(_iin_serial) % 10000
        if serial == 0:
            _issued.clear()
        iin = make_iin(born, serial=f"{serial:04d}")
        if iin not in _issued:
            _issued.add(iin)
            return iin


_issued = set()


@pytest.fixture
def make_user(app, territories):
    """make_user(role="resident", territory="751410000") -> (user_id, iin)."""
    from app.domain import accounts

    def factory(role="resident", territory="751410000", name="Test Person", password=PASSWORD,
                email=None, locale="kk"):
        iin = new_iin()
        with app.app_context():
            key = app.config["IIN_HMAC_KEY"]
            if role == "resident":
                user = accounts.register_resident(iin=iin, full_name=name, territory_code=territory,
                                                  password=password, iin_key=key, email=email,
                                                  locale=locale)
            else:
                user = accounts.create_staff(iin=iin, full_name=name, territory_code=territory,
                                             password=password, iin_key=key, admin=role == "admin")
            db.session.commit()
            return user.id, iin

    return factory


@functools.lru_cache(maxsize=None)
def _catalogue(lang):
    from babel.messages.pofile import read_po

    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def catalogue_translation(msgid, lang, **params):
    """What the kk or ru catalogue says for msgid: the page or API must show exactly this."""
    message = _catalogue(lang).get(msgid)
    assert message is not None and message.string, f"{msgid!r} is not translated in {lang}"
    text = message.string if isinstance(message.string, str) else message.string[0]
    return text % params if params else text


def csrf_token(response):
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', response.data) or \
        re.search(rb'name="csrf_token" value="([^"]+)"', response.data)
    assert match, "no CSRF token in the page"
    return match.group(1).decode()


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, iin, password=PASSWORD, lang="en"):
        page = self.client.get(f"/{lang}/login")
        return self.client.post(f"/{lang}/login", data={
            "iin": iin, "password": password, "csrf_token": csrf_token(page)})

    def logout(self, lang="en"):
        page = self.client.get(f"/{lang}/")
        return self.client.post(f"/{lang}/logout", data={"csrf_token": csrf_token(page)})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def api_token(client):
    """api_token(iin) -> bearer headers for that account."""
    def factory(iin, password=PASSWORD):
        response = client.post("/api/v1/auth/token", json={"iin": iin, "password": password})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return factory


@pytest.fixture
def make_cycle(app, territories):
    """make_cycle(territory="750000000", phase="draft", **fields) -> cycle id.

    Writes the row directly (no phase moves, no audit): for tests that need a cycle in a given
    state. Tests of the phase rules themselves go through app.domain.phases."""
    from app.models import Cycle, Territory

    def factory(territory="750000000", phase="draft", **fields):
        with app.app_context():
            unit = db.session.scalar(select_territory(territory))
            values = dict(year=2026, title_kk="Алматы ХҚБ 2026", title_ru="БНУ Алматы 2026",
                          title_en="Almaty PB 2026", budget=100_000_000, max_project_cost=30_000_000,
                          ballot_style="approval", max_choices=3, rule="greedy", min_voters=10)
            values.update(fields)
            cycle = Cycle(territory=unit, phase=phase, **values)
            db.session.add(cycle)
            db.session.commit()
            return cycle.id

    return factory


def select_territory(code):
    from sqlalchemy import select as _select

    from app.models import Territory

    return _select(Territory).where(Territory.code == code)


@pytest.fixture
def make_proposal(app, make_user):
    """make_proposal(cycle_id, author_id=None, status="admitted", cost=..., **fields) -> id."""
    from app.models import Cycle, Proposal, User

    def factory(cycle_id, author_id=None, status="admitted", cost=5_000_000, **fields):
        if author_id is None:
            author_id, _ = make_user()
        with app.app_context():
            author = db.session.get(User, author_id)
            values = dict(title="Сквер на Абая", description="<p>Скамейки и деревья.</p>",
                          category="parks", address="пр. Абая, 10", language="ru")
            values.update(fields)
            proposal = Proposal(cycle=db.session.get(Cycle, cycle_id), author=author,
                                territory=author.territory, status=status, cost=cost, **values)
            db.session.add(proposal)
            db.session.commit()
            return proposal.id

    return factory
