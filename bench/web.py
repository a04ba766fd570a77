"""Web benchmark: the site's main pages and the ballot under load, next to two baselines.

    make bench-web                     # or: .venv/bin/python bench/web.py [--duration 10]

Needs wrk (Debian: `apt-get install wrk`), PostgreSQL on 127.0.0.1:5432 (user postgres, trust)
and Redis on 127.0.0.1:6379. Everything runs on 127.0.0.1 and is bounded in time:
1. creates a fresh PostgreSQL database (dropped at the end), builds the schema, loads the demo
   data (`flask demo seed`: a published cycle with conclusions and implementation updates) and
   an Almaty approval cycle in `voting` with N residents (default 5,000), each with an API token;
2. runs a hello-world Flask app (bench/hello.py) on the same gunicorn (2 sync workers, the
   project's gunicorn.conf.py) and measures it;
3. starts the app on gunicorn (2 sync workers, QATYSU_BENCH=1 adds the one-insert baseline
   POST /bench/insert, never in production) with DATABASE_URL and REDIS_URL, signs one resident
   in through the login page (for the ballot page) and casts one ballot (for the receipt check);
4. for each endpoint: wrk, 2 threads, 50 connections, 10 s (after a short warm-up), and prints
   ONE table of requests/s, p50 and p99 (wrk's latency percentiles), then whether each target
   is met: ballot PUT >= 0.5x the one-insert baseline's req/s with p99 <= 2x its p99; the
   published results page and the results API >= 0.5x hello-world's req/s.

The ballot PUT rotates through the residents' tokens (a wrk Lua script; each thread takes its
own stride of tokens so two connections never hold the same voter) and through ballots of 1 to
3 proposals. Answers other than 2xx/3xx are counted and shown: a row with errors is not a
valid measurement. The machine may be shared: run it when it is quiet and say when it was not.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"
PASSWORD = "bench-password-123"
USER_AGENT = "qatysu-bench"  # the signed-in session is bound to it (session protection)

# wrk prints one JSON line from done(): exact percentiles, not the rounded text summary.
LUA_DONE = """
done = function(summary, latency, requests)
  local s = summary.errors
  io.write(string.format('\\nRESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,'
    .. '"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    s.status, s.connect, s.read, s.write, s.timeout))
end
"""

LUA_FIXED = """
local method, path, body = {method}, {path}, {body}
local headers = {headers}
request = function() return wrk.format(method, path, headers, body) end
"""

LUA_BALLOTS = """
local tokens = {{}}
for line in io.lines({tokens_file}) do tokens[#tokens + 1] = line end
local proposals = {{{proposals}}}
local path = {path}
local index, stride = 0, {threads}
function setup(thread)  -- runs in the main state; thread:set makes a global in the thread's
  setup_count = (setup_count or 0) + 1
  thread:set("offset", setup_count - 1)
end
request = function()
  local n = ((offset or 0) + index * stride) % #tokens
  index = index + 1
  local k = 1 + (n % 3)
  local chosen = {{}}
  for i = 1, k do chosen[i] = proposals[1 + ((n + i * 3) % #proposals)] end
  local body = '{{"proposals":[' .. table.concat(chosen, ",") .. ']}}'
  return wrk.format("PUT", path, {{["Authorization"] = "Bearer " .. tokens[n + 1],
                                  ["Content-Type"] = "application/json"}}, body)
end
"""


def lua_string(value):
    return json.dumps(value) if value is not None else "nil"


def lua_table(mapping):
    return "{" + ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in mapping.items()) + "}"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def admin_connection(server_url):
    import psycopg

    return psycopg.connect(f"{server_url}/postgres", autocommit=True)


def seed(db_url, voters, upload_dir):
    """Schema, demo data, and the voting cycle with `voters` residents holding API tokens."""
    os.environ.update(DATABASE_URL=db_url, QATYSU_CONFIG="development", UPLOAD_DIR=upload_dir)
    from bench_data import voting_cycle
    from sqlalchemy import select

    from app import create_app
    from app.demo import seed as demo_seed
    from app.domain import accounts
    from app.extensions import db
    from app.models import Cycle

    app = create_app()
    with app.app_context():
        db.create_all()
        demo_seed()
        db.session.commit()
        published = db.session.scalar(select(Cycle.id).where(Cycle.phase == "published"))
        cycle, users, iins, ids = voting_cycle(app.config["IIN_HMAC_KEY"], PASSWORD, voters, 8,
                                               first_birth_year=1950, years=50, first_serial=5000, serials=4000)
        tokens = [accounts.issue_token(user, 4)[0] for user in users]
        db.session.commit()
        db.engine.dispose()
        return {"published": published, "cycle": cycle.id, "proposals": ids, "iins": iins, "tokens": tokens}


def wait_for(port, deadline):
    while time.time() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def start_gunicorn(app_spec, cwd, env, workers, log):
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(workers),
               "-b", f"{HOST}:{port}", app_spec]
    server = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=log, start_new_session=True)
    if not wait_for(port, time.time() + 60):
        stop(server)
        raise SystemExit(f"gunicorn did not start: {' '.join(command)}")
    return server, port


def stop(server):
    if server is None or server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def fetch(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def sign_in(port, iin):
    """A real sign-in through the login page; returns the Cookie header of the session."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(f"http://{HOST}:{port}/kk/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "iin": iin, "password": PASSWORD}).encode()
    opener.open(f"http://{HOST}:{port}/kk/login", data=data).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(port, script, args, workdir, name):
    path = Path(workdir) / f"{name}.lua"
    path.write_text(script + LUA_DONE, encoding="utf-8")
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
               "--timeout", "10s", "-s", str(path), f"http://{HOST}:{port}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 60)
    match = re.search(r"^RESULT (\{.*\})$", out.stdout, re.M)
    if not match:
        raise SystemExit(f"wrk failed for {name}:\n{out.stdout}\n{out.stderr}")
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("non2xx", "connect", "read", "write", "timeout"))
    return result


def fixed(method, path, headers=None, body=None):
    return LUA_FIXED.format(method=lua_string(method), path=lua_string(path), body=lua_string(body),
                            headers=lua_table({"User-Agent": USER_AGENT, **(headers or {})}))


def warm_up(port, method, path, headers, body, count=12):
    for _ in range(count):  # every worker renders once before anything is timed
        status, _body = fetch(port, method, path, body.encode() if body else None,
                              {"User-Agent": USER_AGENT, **(headers or {})})
    return status


def print_table(rows):
    print()
    print(f"| {'endpoint':58} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | {'errors':>6} |")
    print(f"|{'-' * 60}|{'-' * 9}:|{'-' * 8}:|{'-' * 8}:|{'-' * 7}:|")
    for label, r in rows:
        print(f"| {label:58} | {r['rps']:>8,.0f} | {r['p50_us'] / 1000:>7.1f} | {r['p99_us'] / 1000:>7.1f} "
              f"| {r['errors']:>6} |")


def print_targets(results):
    hello, insert, ballot = results["hello"], results["insert"], results["ballot"]
    checks = [
        ("ballot PUT req/s >= 0.5 x one-insert baseline", ballot["rps"], 0.5 * insert["rps"], ">="),
        ("ballot PUT p99 <= 2 x one-insert baseline p99", ballot["p99_us"] / 1000,
         2 * insert["p99_us"] / 1000, "<="),
        ("published results page req/s >= 0.5 x hello-world", results["results_page"]["rps"],
         0.5 * hello["rps"], ">="),
        ("results API req/s >= 0.5 x hello-world", results["results_api"]["rps"], 0.5 * hello["rps"], ">="),
    ]
    print()
    all_met = True
    for label, value, bound, op in checks:
        met = value >= bound if op == ">=" else value <= bound
        all_met &= met
        print(f"{'MET    ' if met else 'NOT MET'}  {label}: {value:,.1f} {op} {bound:,.1f}")
    bad = [name for name, r in results.items() if r["errors"]]
    if bad:
        print(f"rows with errors (not valid measurements): {', '.join(bad)}")
    return all_met and not bad


def measure_app(root, env, args, data, part, workdir, log):
    """Every app row against the code in `root` (this checkout, or an older one to compare).
    Each measured app gets its own `args.voters` residents (part 0, 1): every ballot PUT is a
    first ballot of a fresh voter until the rotation comes round, for both alike."""
    voters = slice(part * args.voters, (part + 1) * args.voters)
    iins, tokens = data["iins"][voters], data["tokens"][voters]
    tokens_file = Path(workdir) / f"tokens-{part}.txt"
    tokens_file.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    server, port = start_gunicorn("wsgi:app", root, env, args.workers, log)
    try:
        cycle, published = data["cycle"], data["published"]
        cookie = sign_in(port, iins[0])
        status, body = fetch(port, "PUT", f"/api/v1/cycles/{cycle}/ballot",
                             json.dumps({"proposals": data["proposals"][:2]}),
                             {"Authorization": f"Bearer {tokens[1]}", "Content-Type": "application/json"})
        receipt = json.loads(body)["receipt"]
        plan = [
            ("insert", "POST /bench/insert (one-insert baseline)", "POST", "/bench/insert", None, None),
            ("ballot", f"PUT /api/v1/cycles/{cycle}/ballot (approval, {args.voters:,} voters)", None,
             f"/api/v1/cycles/{cycle}/ballot", None, None),
            ("results_page", f"GET /kk/cycles/{published}/results (published)", "GET",
             f"/kk/cycles/{published}/results", None, None),
            ("results_api", f"GET /api/v1/cycles/{published}/results", "GET",
             f"/api/v1/cycles/{published}/results", None, None),
            ("about", "GET /kk/about", "GET", "/kk/about", None, None),
            ("home", "GET /kk/ (home page)", "GET", "/kk/", None, None),
            ("ballot_page", f"GET /kk/cycles/{cycle}/ballot (signed in)", "GET",
             f"/kk/cycles/{cycle}/ballot", {"Cookie": cookie}, None),
            ("receipt", "GET /kk/receipts?code=... (receipt check)", "GET",
             f"/kk/receipts?code={urllib.parse.quote(receipt)}", None, None),
        ]
        measured = []
        for key, label, method, path, headers, body in plan:
            if args.only and key not in args.only and key != "insert":
                continue
            if method is None:
                script = LUA_BALLOTS.format(tokens_file=lua_string(str(tokens_file)), path=lua_string(path),
                                            proposals=",".join(map(str, data["proposals"])),
                                            threads=args.threads)
            else:
                status = warm_up(port, method, path, headers, body)
                if status >= 400:
                    raise SystemExit(f"{label}: warm-up answered {status}")
                script = fixed(method, path, headers, body)
            measured.append((label, key, wrk(port, script, args, workdir, key)))
        return measured
    finally:
        stop(server)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=5000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--only", nargs="*", help="row names to run (hello and insert always run)")
    parser.add_argument("--compare", metavar="CHECKOUT",
                        help="also measure the app rows on an older checkout of the code, in the same run "
                             "(e.g. git worktree add /tmp/before main), printed as before/after")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk (Debian/Ubuntu)", file=sys.stderr)
        return 2

    name = f"qatysu_bench_web_{os.getpid()}"
    prefix = f"qatysu-bench-{os.getpid()}:"
    with admin_connection(args.server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = f"{args.server.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    workdir = tempfile.mkdtemp(prefix="qatysu-bench-web-")
    server = None  # the hello-world server; the app servers are stopped by measure_app
    log = open(Path(workdir) / "gunicorn.log", "wb")
    try:
        apps = 2 if args.compare else 1
        print(f"seeding the demo data and {apps} x {args.voters} residents with tokens in database {name} ...")
        data = seed(db_url, args.voters * apps, str(Path(workdir) / "uploads"))
        base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        base_env["PROMETHEUS_MULTIPROC_DIR"] = str(Path(workdir) / "metrics")
        results, rows = {}, []

        server, port = start_gunicorn("hello:app", ROOT / "bench", base_env, args.workers, log)
        warm_up(port, "GET", "/", None, None)
        results["hello"] = wrk(port, fixed("GET", "/"), args, workdir, "hello")
        rows.append(("hello-world Flask on the same gunicorn", results["hello"]))
        stop(server)

        env = dict(base_env, DATABASE_URL=db_url, REDIS_URL=args.redis, QATYSU_CONFIG="development",
                   QATYSU_BENCH="1", UPLOAD_DIR=str(Path(workdir) / "uploads"), CACHE_KEY_PREFIX=prefix,
                   BALLOTS_PER_ACCOUNT="100000 per minute",
                   LOGIN_ATTEMPTS_PER_ADDRESS="100000 per minute",
                   RECEIPT_CHECKS_PER_ADDRESS="10000000 per minute")
        if args.compare:
            before = measure_app(Path(args.compare).resolve(), env, args, data, 1, workdir, log)
            rows += [(f"before: {label}", r) for label, _key, r in before]
        after = measure_app(ROOT, env, args, data, 0, workdir, log)
        rows += [((f"after: {label}" if args.compare else label), r) for label, _key, r in after]
        results.update({key: r for _label, key, r in after})
        print_table(rows)
        print(f"\ngunicorn {args.workers} sync workers; wrk {args.threads} threads, {args.connections} "
              f"connections, {args.duration} s per row; load average now "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        ok = print_targets(results) if not args.only else True
    finally:
        stop(server)
        log.close()
        with admin_connection(args.server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        try:
            import redis

            client = redis.Redis.from_url(args.redis)
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)
        except Exception as error:  # a benchmark's cleanup: say so, never hide the table
            print(f"could not remove the benchmark's Redis keys ({error})", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
