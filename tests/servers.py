"""Real servers for the tests of several app servers and of faults (test_servers.py,
test_faults.py): gunicorn processes, a throwaway PostgreSQL cluster on its own port, a private
redis-server, the seeding of a cycle in voting, and the check that every acknowledged ballot is
stored exactly once.

Nothing here touches a shared server except what a caller passes in (the two-servers test
uses the PostgreSQL and Redis the suite already uses, under names and a key prefix of its own).
"""
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_BIN = Path(os.environ.get("QATYSU_PG_BIN", "/usr/lib/postgresql/15/bin"))
PASSWORD = "servers-test-password"


def unavailable(reason):
    """Skip with a visible reason; in CI (CI=true) fail instead: CI must run these tests."""
    if IN_CI:
        pytest.fail(f"CI=true needs this test: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid):
    """Process ids whose parent is pid (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            match = re.search(r"^PPid:\s+(\d+)", status, re.M)
            if match and int(match.group(1)) == pid:
                found.append(int(entry.name))
    return sorted(found)


# --- PostgreSQL: a cluster of our own -------------------------------------------------------

class PostgresCluster:
    """initdb + pg_ctl on a free port, in a temporary directory; never the shared server.

    initdb refuses to run as root: as root the cluster belongs to the `postgres` account
    (runuser), in a directory owned by it."""

    def __init__(self):
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="qatysu-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self._as = []
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    @staticmethod
    def missing():
        """Why a cluster cannot be made here, or None."""
        for tool in ("initdb", "pg_ctl"):
            if not os.access(PG_BIN / tool, os.X_OK):
                return f"PostgreSQL's {tool} not found in {PG_BIN} (apt-get install postgresql-15)"
        if os.geteuid() == 0 and not shutil.which("runuser"):
            return "running as root without runuser: initdb cannot run as root"
        return None

    def _run(self, *args, timeout=60):
        done = subprocess.run(self._as + [str(a) for a in args], capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stdout}\n{done.stderr}\n{log[-3000:]}")
        return done

    def init(self):
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync", "--no-instructions")
        self.start()
        self.admin("CREATE DATABASE qatysu")
        return self

    def start(self):
        # Durability settings off: the cluster lives for one test module.
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode="fast"):
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def admin(self, sql):
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True,
                             connect_timeout=5) as conn:
            conn.execute(sql)

    @property
    def url(self):
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/qatysu"

    def destroy(self):
        try:
            self.stop("immediate")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.base, ignore_errors=True)


# --- Redis: a private server, or a key prefix on the shared one ---------------------------

class RedisServer:
    """redis-server on a free port, without persistence: stopped and started by the test."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    @staticmethod
    def missing():
        return None if shutil.which("redis-server") else "redis-server not found (apt-get install redis-server)"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: redis_ping(self.url()), 10, "redis-server did not start")
        return self

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"


def redis_ping(url):
    import redis

    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError:
        return False


def wait_until(check, seconds, message):
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(message)
        time.sleep(0.1)


# --- gunicorn ----------------------------------------------------------------------------------

class Gunicorn:
    """`gunicorn wsgi:app` on a free port with the given settings (environment variables)."""

    def __init__(self, log_dir, name, **settings):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(log_dir) / f"gunicorn-{name}.log"
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("REDIS_URL", "FLASK_DEBUG", "QATYSU_BENCH", "DATABASE_URL")}
        self.env.update(QATYSU_CONFIG="development", PYTHONUNBUFFERED="1",
                        UPLOAD_DIR=str(Path(log_dir) / f"uploads-{name}"))
        self.env.update({k: str(v) for k, v in settings.items()})
        self.process = None

    def start(self, workers=2):
        return self.launch(workers).wait_ready()

    def launch(self, workers=2):
        """Start the process without waiting (wait_ready waits): servers can start side by side."""
        self.expected_workers = workers
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                # --preload: the app is imported once and forked, so workers (and a replacement
                # for a killed one) start in a moment.
                [sys.executable, "-m", "gunicorn", "--preload", "--no-control-socket", "--workers", str(workers),
                 "--bind", f"127.0.0.1:{self.port}", "--timeout", "30", "--graceful-timeout", "5", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self):
        def answering():
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                return requests.get(f"{self.url}/api/v1/openapi.json", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(answering, 60, f"gunicorn did not answer:\n{self.log.read_text()[-3000:]}")
        wait_until(lambda: len(self.workers()) == self.expected_workers, 30,
                   "gunicorn did not start every worker")
        return self

    def workers(self):
        return children(self.process.pid)

    def stop(self):
        if self.process is None:
            return
        workers = self.workers()
        self.process.send_signal(signal.SIGINT)  # quick shutdown, then no more waiting
        try:
            self.process.wait(1)
        except subprocess.TimeoutExpired:
            for pid in workers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process.kill()
            self.process.wait()
        self.process = None


# --- data --------------------------------------------------------------------------------------

def seeding_app(database_url):
    """An app on that database with the schema built (as tests/conftest.py does)."""
    from app import create_app
    from app.extensions import db
    from config import TestingConfig

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(Config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def seed_voting(app, voters, proposals=6, tokens=True, phase="voting"):
    """A territory tree, an Almaty approval cycle in `phase` with admitted proposals, and
    `voters` residents sharing PASSWORD; returns {cycle, proposals, iins, tokens, names}."""
    from sqlalchemy import select

    from app.domain import accounts
    from app.domain.iin import iin_digest, make_iin
    from app.domain.territories import import_territories
    from app.extensions import db
    from app.models import Cycle, Proposal, Territory, User

    with app.app_context():
        import_territories((ROOT / "app" / "demo" / "kato_demo.csv").read_text(encoding="utf-8"))
        almaty = db.session.scalar(select(Territory).where(Territory.code == "750000000"))
        home = db.session.scalar(select(Territory).where(Territory.code == "751410000"))
        password_hash = accounts.hash_password(PASSWORD)  # one argon2 hash for every account
        key = app.config["IIN_HMAC_KEY"]
        run = secrets.randbelow(10**6)
        iins, users = [], []
        for n in range(voters):
            iin = make_iin(date(1960 + n % 40, 1 + n % 12, 1 + (n // 12) % 28), serial=f"{(run + n) % 10000:04d}")
            iins.append(iin)
            users.append(User(iin_hmac=iin_digest(iin, key), full_name=f"Voter {n}", territory=home,
                              role="resident", password_hash=password_hash, locale="kk"))
        db.session.add_all(users)
        cycle = Cycle(territory=almaty, year=2026, title_kk="Алматы ХҚБ", title_ru="БНУ Алматы",
                      title_en="Almaty PB", budget=100_000_000, max_project_cost=30_000_000,
                      ballot_style="approval", max_choices=3, rule="greedy", min_voters=10,
                      phase=phase, categories=["parks", "lighting"])
        db.session.add(cycle)
        db.session.flush()
        ids = []
        for n in range(proposals):
            proposal = Proposal(cycle=cycle, author=users[0], territory=home, status="admitted",
                                cost=1_000_000 * (n + 1), title=f"Жоба {n}", description="<p>…</p>",
                                category="parks")
            db.session.add(proposal)
            db.session.flush()
            ids.append(proposal.id)
        issued = [accounts.issue_token(user, 2)[0] for user in users] if tokens else []
        seeded = {"cycle": cycle.id, "proposals": ids, "iins": iins, "tokens": issued,
                  "names": [u.full_name for u in users]}
        db.session.commit()
    with app.app_context():
        db.engine.dispose()  # no connection of this process stays open on the test's database
    return seeded


# --- the check: every acknowledged ballot stored exactly once -----------------------------------

def stored_ballots(database_url, cycle_id):
    """{voter full name: (receipt, sorted proposal ids)} and the number of ballot rows."""
    import psycopg

    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, connect_timeout=5) as conn:
        rows = conn.execute(
            'SELECT u.full_name, b.receipt, array_remove(array_agg(i.proposal_id ORDER BY i.proposal_id), NULL) '
            'FROM ballot b JOIN "user" u ON u.id = b.voter_id LEFT JOIN ballot_item i ON i.ballot_id = b.id '
            "WHERE b.cycle_id = %s GROUP BY b.id, u.full_name", (cycle_id,)).fetchall()
    return rows


def check_acknowledged(database_url, cycle_id, outcomes):
    """Problems (a list of sentences) with the stored ballots of the voters in `outcomes`, given
    every final answer their clients got: (voter name, set sent, status, body). Empty when every
    acknowledged ballot (200 with a receipt) is stored exactly once, as one of its voter's
    acknowledged sets, and no voter has two ballots or a ballot nobody acknowledged."""
    rows = stored_ballots(database_url, cycle_id)
    problems = []
    by_voter = {}
    for name, receipt, items in rows:
        by_voter.setdefault(name, []).append((receipt, sorted(items)))
    receipts = [receipt for _, receipt, _ in rows]
    if len(receipts) != len(set(receipts)):
        problems.append("two ballots share a receipt")
    acked = {}
    for name, ids, status, body in outcomes:
        if status == 200:
            acked.setdefault(name, []).append((body["receipt"], sorted(ids)))
    names = {name for name, _ids, _status, _body in outcomes}
    by_voter = {name: stored for name, stored in by_voter.items() if name in names}
    for name, stored in by_voter.items():
        if len(stored) != 1:
            problems.append(f"{name} has {len(stored)} ballots")
    for name, answers in acked.items():
        stored = by_voter.get(name)
        if not stored:
            problems.append(f"{name}: acknowledged, not stored")
            continue
        receipt, items = stored[0]
        if any(r != receipt for r, _ in answers):
            problems.append(f"{name}: an acknowledged receipt is not the stored one")
        if items not in [ids for _, ids in answers]:
            problems.append(f"{name}: stored {items}, none of the acknowledged {answers}")
    for name in set(by_voter) - set(acked):
        problems.append(f"{name}: a ballot is stored that no answer acknowledged")
    return problems
