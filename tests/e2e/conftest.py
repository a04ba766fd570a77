"""Browser tests: one demo server and one headless Chromium for the whole session.

The server is a real gunicorn process on a free 127.0.0.1 port, on a database of its own that
`flask db upgrade` and `flask demo seed` fill exactly as `make run` does: a SQLite file by
default, or `<name>_e2e` beside TEST_DATABASE_URL's PostgreSQL database (created and dropped
here, so the unit tests' tables are never touched).

The browser is Debian's Chromium (never `playwright install`: browser downloads fail here).
Without it the tests are skipped and the run says so loudly; with CI=true they fail instead.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("QATYSU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "demo-password"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _browser_missing():
    """Why the browser tests cannot run here, or None."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (make install-dev)"
    return None


_skipped_for = []


def pytest_collection_modifyitems(config, items):
    missing = _browser_missing()
    for item in items:
        if HERE not in Path(item.path).parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if missing and not IN_CI:
            item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {missing}"))
            _skipped_for.append(item.nodeid)
    if missing and _skipped_for:
        _skipped_for.insert(0, missing)


_e2e_seconds = []


def pytest_runtest_logreport(report):
    if "/e2e/" in report.nodeid.replace("\\", "/"):
        _e2e_seconds.append(report.duration)


def pytest_terminal_summary(terminalreporter):
    if _e2e_seconds and not _skipped_for:
        terminalreporter.write_line(f"browser tests (tests/e2e): {sum(_e2e_seconds):.0f} s, "
                                    "the demo server's start and the crawl included")
    if not _skipped_for:
        return
    reason, count = _skipped_for[0], len(_skipped_for) - 1
    terminalreporter.write_sep("!", f"BROWSER TESTS SKIPPED ({count} tests)", red=True, bold=True)
    terminalreporter.write_line(f"{reason}. The end-to-end tests in tests/e2e did NOT run; "
                                "with CI=true this fails the run.", red=True, bold=True)


# --- the server ---------------------------------------------------------------------------

@dataclass
class DemoServer:
    url: str
    accounts: dict = field(default_factory=dict)   # full name -> (role, IIN)
    cycles: dict = field(default_factory=dict)     # "taking proposals"/"voting"/"published" -> id
    log: Path = None
    env: dict = field(default_factory=dict)        # the server's environment, for `flask` commands
    ncalayer: object = None  # app.demo.eds.DemoCredentials the server trusts: an emulated NCALayer signs with it

    def iin(self, name):
        return self.accounts[name][1]

    def log_position(self):
        return self.log.stat().st_size

    def mail_since(self, position):
        """The server's log after `position` (bytes, from log_position()): in development mail
        goes there (config.DevelopmentConfig: the console backend, with addresses and bodies).
        The server may be mid-way through writing a character: it reads as a replacement."""
        return self.log.read_bytes()[position:].decode("utf-8", errors="replace")

    def make_residents(self, territory_code, count, first=500):
        """Start making `count` new resident accounts (password DEMO_PASSWORD) living in the
        unit, straight in the server's database; returns a function that waits for them and
        gives [(full name, IIN, API token)]. (Registering that many through the page would
        meet its per-address limit, which is the point of it.) The accounts are made while
        the test goes on clicking: starting the app takes seconds."""
        process = subprocess.Popen([sys.executable, str(HERE / "make_residents.py"), territory_code, str(count),
                                    str(first)], cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)

        def made():
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, f"make_residents.py failed:\n{out}\n{err}"
            return [tuple(line.split("\t")) for line in out.splitlines() if "\t" in line]

        return made


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_e2e_url(test_url):
    """A fresh `<name>_e2e` database beside TEST_DATABASE_URL's; returns (url, drop)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(test_url)
    name = f"{url.database}_e2e"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

    def run(sql):
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    return (url.set(database=name).render_as_string(hide_password=False),
            lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _parse_seed(output, server):
    for line in output.splitlines():
        account = re.match(r"\s+(\w+)\s+(.+?)\s+IIN (\d{12})\s", line)
        if account:
            server.accounts[account.group(2)] = (account.group(1), account.group(3))
        cycle = re.match(r"cycle (\d+): [^,]+, (taking proposals|voting|published)", line)
        if cycle:
            server.cycles[cycle.group(2)] = int(cycle.group(1))


NCALAYER_HOLDER = ("СЕРІКОВА ӘЙГЕРІМ НҰРЛАНҚЫЗЫ", date(1979, 6, 21), "0555")  # made up


def _ncalayer_credentials():
    """A certificate of a resident's own, under a root of its own that the server is told to
    trust (EDS_TRUSTED_ROOTS), for tests that play NCALayer in the browser. Built with the demo
    PKI's code, which works only where EDS_DEMO is on: a throwaway app context says so."""
    from flask import Flask

    from app.demo.eds import build_demo_pki
    from app.domain.iin import make_iin

    name, born, serial = NCALAYER_HOLDER
    scratch = Flask("ncalayer")
    scratch.config["EDS_DEMO"] = True
    with scratch.app_context():
        return build_demo_pki(make_iin(born, serial=serial, sex="female"), name)


def sign_as_ncalayer(credentials, challenge):
    """The base64 CMS NCALayer would return for the challenge, signed with `credentials`."""
    from flask import Flask

    from app.demo.eds import sign_challenge

    scratch = Flask("ncalayer")
    scratch.config["EDS_DEMO"] = True
    with scratch.app_context():
        return sign_challenge(challenge, credentials)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """gunicorn serving the seeded demo; yields a DemoServer (url, accounts, cycles)."""
    workdir = tmp_path_factory.mktemp("e2e")
    drop = None
    if os.environ.get("TEST_DATABASE_URL"):
        database_url, drop = _postgres_e2e_url(os.environ["TEST_DATABASE_URL"])
    else:
        database_url = f"sqlite:///{workdir / 'demo.db'}"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FLASK_DEBUG", "QATYSU_BENCH")}
    port = _free_port()
    server = DemoServer(url=f"http://127.0.0.1:{port}", log=workdir / "gunicorn.log", env=env)
    # Links in mail (the password reset) point at this server, as PUBLIC_URL does in production.
    env.update(QATYSU_CONFIG="development", DATABASE_URL=database_url, PUBLIC_URL=server.url,
               UPLOAD_DIR=str(workdir / "uploads"), PYTHONUNBUFFERED="1")
    server.ncalayer = _ncalayer_credentials()
    (workdir / "eds-roots.pem").write_text(server.ncalayer.root_pem, encoding="ascii")
    env["EDS_TRUSTED_ROOTS"] = str(workdir / "eds-roots.pem")  # as NCA RK's roots are trusted
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for command in (["db", "upgrade"], ["demo", "seed"]):
        done = subprocess.run(flask + command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=180)
        assert done.returncode == 0, f"flask {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    _parse_seed(done.stdout, server)
    assert server.accounts and len(server.cycles) == 3, f"unexpected demo seed output:\n{done.stdout}"
    with open(server.log, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4",
             "--bind", f"127.0.0.1:{port}", "--access-logfile", "-", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{server.url}/kk/", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the demo server did not start:\n{server.log.read_text()}")
            time.sleep(0.2)
        yield server
    finally:
        # SIGINT: gunicorn's quick shutdown (TERM would wait for the browser's open connections).
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if drop:
            drop()


# --- the browser --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    missing = _browser_missing()
    if missing:
        pytest.fail(f"CI=true needs the browser tests: {missing}", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # CI machines are shared: 5 s is tight under load
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def block_other_sites(ctx, demo_server):
    """Abort every request that leaves the demo server (map tiles from the tile server, above
    all): the tests need no network, and a map must work without its tiles. The aborted URLs
    are kept in ctx.blocked_requests, for tests that check the tiles were asked for."""
    ctx.blocked_requests = []

    def abort(route):
        ctx.blocked_requests.append(route.request.url)
        route.abort()

    own = re.escape(demo_server.url)
    ctx.route(re.compile(rf"^(?!{own}(/|$))(https?|wss?)://"), abort)


@pytest.fixture
def context(browser, demo_server):
    """A fresh browser profile (no cookies) on a phone-sized screen."""
    ctx = browser.new_context(base_url=demo_server.url, viewport=PHONE, accept_downloads=True)
    ctx.set_default_timeout(20_000)
    block_other_sites(ctx, demo_server)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture(scope="session")
def shots(tmp_path_factory):
    """Where screenshots go (set E2E_SCREENSHOTS=dir to keep them)."""
    path = Path(os.environ.get("E2E_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def login(demo_server):
    """login(page, name, lang) — by clicks from the home page, as a person would."""
    def do(page, name, lang="kk"):
        from browser_checks import LOGIN_WORDS
        from playwright.sync_api import expect

        labels = LOGIN_WORDS[lang]
        page.goto(f"/{lang}/")
        page.get_by_role("link", name=labels["login"], exact=True).first.click()
        page.get_by_label(labels["iin"], exact=True).fill(demo_server.iin(name))
        page.get_by_label(labels["password"], exact=True).fill(DEMO_PASSWORD)
        page.get_by_role("button", name=labels["login"], exact=True).click()
        expect(page.get_by_role("button", name=labels["logout"])).to_be_visible()

    return do


@pytest.fixture(scope="session")
def public_site(browser, demo_server):
    """The crawl of every public page in kk and ru, logged out, each page checked once:
    {lang: (reports, links left unvisited)}. See browser_checks.crawl. (en pages share the
    templates; the journeys walk them.)"""
    from browser_checks import AXE_JS, crawl

    ctx = browser.new_context(base_url=demo_server.url, viewport=PHONE)
    ctx.set_default_timeout(30_000)
    block_other_sites(ctx, demo_server)
    # axe-core on every page from the start: Chromium caches its compiled code, which saves a
    # quarter of a second a page over evaluating it after each load.
    ctx.add_init_script(path=str(AXE_JS))
    try:
        return {lang: crawl(ctx, lang) for lang in ("kk", "ru")}
    finally:
        ctx.close()
