"""Fixtures: an app per test on a real database (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), factory fixtures for data, and a logged-in client helper."""
import os
import secrets
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import text

from app import create_app
from app.domain.iin import make_iin
from app.extensions import db, limiter
from config import TestingConfig
from tests.helpers import KATO_DEMO, PASSWORD, PLAN, TITLES, AuthActions, EdsPki, ballot_choices, conclude_all, publish

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


_iin_serial = iter(range(1, 10**6))  # one counter for the whole session: every test IIN differs
_issued = set()


@pytest.fixture
def new_iin():
    """new_iin(born=…) -> a valid adult IIN no other test has used.

    make_iin moves on to the next serial when one has no check digit, so two serials can give
    the same IIN: skip one already given out in this round of serials."""
    def factory(born=date(1990, 5, 17)):
        while True:
            serial = next(_iin_serial) % 10000
            if serial == 0:
                _issued.clear()
            iin = make_iin(born, serial=f"{serial:04d}")
            if iin not in _issued:
                _issued.add(iin)
                return iin

    return factory


@pytest.fixture
def make_user(app, territories, new_iin):
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
    from app.models import Cycle

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


# --- Area fixtures ---------------------------------------------------------------------------

@pytest.fixture
def make_auth():
    """make_auth(client) -> AuthActions for a second client."""
    return AuthActions


@pytest.fixture
def tapp(app):
    return app


@pytest.fixture
def tclient(client):
    return client


@pytest.fixture
def counted_cycle(app, make_cycle, make_proposal, make_user):
    """counted_cycle(territory="750000000", phase="closed", rule="greedy") -> dict of ids."""
    from app.models import Ballot, BallotItem, Cycle, ProposalResult, User

    def factory(territory="750000000", phase="closed", rule="greedy", author_locale="ru",
                author_email="author@example.kz", **fields):
        author_id, _ = make_user(territory="751410000" if territory == "750000000" else territory,
                                 email=author_email, locale=author_locale)
        values = dict(budget=20_000_000, max_project_cost=10_000_000, rule=rule, min_voters=10,
                      voting_open=datetime(2026, 9, 1, 4, tzinfo=timezone.utc),
                      voting_close=datetime(2026, 9, 30, 15, tzinfo=timezone.utc))
        values.update(fields)
        cycle_id = make_cycle(territory=territory, phase=phase, **values)
        proposals = {key: make_proposal(cycle_id, author_id=author_id, cost=cost, title=TITLES[key])
                     for key, (cost, *_rest) in PLAN.items()}
        with app.app_context():
            cycle = db.session.get(Cycle, cycle_id)
            home = cycle.territory
            for k in range(25):
                voter = User(iin_hmac=secrets.token_hex(32), full_name=f"Voter {k}", territory=home,
                             role="resident", password_hash="!", locale="kk")
                db.session.add(voter)
                db.session.flush()
                ballot = Ballot(cycle=cycle, voter=voter, territory=home,
                                receipt=secrets.token_hex(16))
                ballot.items = [BallotItem(proposal_id=proposals[key]) for key in ballot_choices(k)]
                db.session.add(ballot)
            for key, (cost, votes, selected, rank) in PLAN.items():
                db.session.add(ProposalResult(proposal_id=proposals[key], cycle_id=cycle_id,
                                              votes=votes, voters_in_territory=votes,
                                              eligible=votes >= 10, selected=selected, rank=rank))
            cycle.voters_count = 25
            cycle.counted_at = datetime(2026, 10, 1, tzinfo=timezone.utc)
            db.session.commit()
        return {"cycle": cycle_id, "proposals": proposals, "author": author_id}

    return factory


@pytest.fixture
def staff(make_user):
    """(id, iin) of Almaty city akimat staff."""
    return make_user(role="staff", territory="750000000")


@pytest.fixture
def admin(make_user):
    return make_user(role="admin", territory="750000000")


@pytest.fixture
def published_cycle(app, counted_cycle, staff):
    def factory(publisher=None, **kwargs):
        ids = counted_cycle(**kwargs)
        conclude_all(app, ids, publisher or staff[0])
        publish(app, ids, publisher or staff[0])
        return ids

    return factory


# --- EDS ---------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def eds_keys():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]


@pytest.fixture
def eds_pki(eds_keys):
    """A trusted test PKI (tests.helpers.EdsPki)."""
    return EdsPki(eds_keys)


@pytest.fixture
def eds_app(make_app, eds_pki, tmp_path):
    """An app that trusts only eds_pki's root (no demo PKI, as in production)."""
    roots = tmp_path / "roots.pem"
    roots.write_bytes(eds_pki.roots_pem)
    return make_app(EDS_DEMO=False, EDS_TRUSTED_ROOTS=str(roots))
