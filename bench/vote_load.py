"""Load benchmark: many residents casting ballots at once, against gunicorn on PostgreSQL.

    /work/main/.venv/bin/python bench/vote_load.py [--voters 300] [--threads 16] [--workers 4]

What it does, all on 127.0.0.1 and bounded in size and time:
1. creates a fresh PostgreSQL database (dropped at the end), builds the schema, imports the demo
   KATO slice and seeds an Almaty approval cycle in `voting` with admitted proposals and
   N residents (one shared password hash: argon2 per account would only measure the seeding);
2. starts gunicorn (`wsgi:app`, W sync workers) with QATYSU_BENCH=1, which adds the baseline
   endpoint POST /bench/insert (one INSERT and a commit; never registered in production);
3. gets API tokens: a few through POST /api/v1/auth/token, the rest issued directly;
4. runs the baseline, then the ballots: T client threads PUT /api/v1/cycles/<id>/ballot, one
   per resident, and for some residents several different submissions fired in parallel
   (double clicks, two tabs);
5. prints requests/s and p50/p95/p99 latency for both, then checks the database: every
   acknowledged receipt stored exactly once and owned by its voter, one ballot per voter,
   each stored set equal to one submission of that voter, and votes per proposal matching.
Exit status 1 when a check fails.
"""
import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"
PASSWORD = "bench-password-123"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def admin_connection(server_url):
    import psycopg

    return psycopg.connect(f"{server_url}/postgres", autocommit=True)


def seed(db_url, voters, proposals, login_sample):
    """Schema and data through the app's own models and domain functions; returns ids and tokens."""
    os.environ["DATABASE_URL"] = db_url
    os.environ["QATYSU_CONFIG"] = "development"
    from bench_data import voting_cycle

    from app import create_app
    from app.domain import accounts
    from app.domain.territories import import_territories
    from app.extensions import db

    app = create_app()
    with app.app_context():
        db.create_all()
        import_territories((ROOT / "app" / "demo" / "kato_demo.csv").read_text(encoding="utf-8"))
        cycle, users, iins, ids = voting_cycle(app.config["IIN_HMAC_KEY"], PASSWORD, voters, proposals,
                                               first_birth_year=1970, years=30, first_serial=0, serials=10000)
        tokens = [None] * voters
        for n in range(login_sample, voters):
            tokens[n] = accounts.issue_token(users[n], 2)[0]
        db.session.commit()
        return cycle.id, ids, iins, tokens


def request(port, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        data = response.read()
        status = response.status
    except OSError as error:
        return 0, {"error": str(error)}, time.perf_counter() - started
    finally:
        conn.close()
    try:
        payload = json.loads(data or b"null")
    except ValueError:
        payload = None
    return status, payload, time.perf_counter() - started


def wait_for(port, deadline):
    while time.time() < deadline:
        status, _, _ = request(port, "GET", "/api/v1/openapi.json")
        if status == 200:
            return True
        time.sleep(0.3)
    return False


def percentiles(latencies):
    if not latencies:
        return 0, 0, 0
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return pick(0.50), pick(0.95), pick(0.99)


def run(jobs, threads):
    """Run callables on a thread pool; returns (results, wall seconds)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda job: job(), jobs))
    return results, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--proposals", type=int, default=8)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--duplicates", type=int, default=40, help="voters who submit several ballots at once")
    parser.add_argument("--logins", type=int, default=8, help="tokens obtained through the API")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    args.voters = max(20, min(args.voters, 5000))
    args.duplicates = min(args.duplicates, args.voters // 2)

    name = f"qatysu_bench_{os.getpid()}"
    with admin_connection(args.server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = f"{args.server.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    server = None
    ok = False
    try:
        print(f"seeding {args.voters} residents, {args.proposals} proposals in database {name} ...")
        cycle_id, proposal_ids, iins, tokens = seed(db_url, args.voters, args.proposals, args.logins)
        port = free_port()
        env = dict(os.environ, DATABASE_URL=db_url, QATYSU_CONFIG="development", QATYSU_BENCH="1",
                   BALLOTS_PER_ACCOUNT="10000 per minute", LOGIN_ATTEMPTS_PER_ADDRESS="10000 per minute")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        server = subprocess.Popen([str(gunicorn), "-w", str(args.workers), "-b", f"{HOST}:{port}",
                                   "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
        if not wait_for(port, time.time() + 60):
            print("gunicorn did not start", file=sys.stderr)
            return 1
        for n in range(args.logins):  # the real way in, for a few
            status, body, _ = request(port, "POST", "/api/v1/auth/token", {"iin": iins[n], "password": PASSWORD})
            if status != 200:
                print(f"login failed: {status} {body}", file=sys.stderr)
                return 1
            tokens[n] = body["token"]

        rng = random.Random(2026)
        plans = []  # (voter index, [sets submitted in parallel])
        for n in range(args.voters):
            copies = rng.randint(2, 3) if n < args.duplicates else 1
            plans.append((n, [sorted(rng.sample(proposal_ids, rng.randint(1, 3))) for _ in range(copies)]))
        submissions = sum(len(sets) for _, sets in plans)

        # Warm-up: every worker imports, connects and compiles once before anything is timed.
        run([lambda: request(port, "GET", "/api/v1/openapi.json") for _ in range(args.workers * 4)], args.threads)

        baseline, base_wall = run([lambda: request(port, "POST", "/bench/insert") for _ in range(submissions)],
                                  args.threads)

        outcomes = []
        lock = threading.Lock()

        def voter_job(n, sets):
            def job():
                barrier = threading.Barrier(len(sets))
                local = []

                def one(ids):
                    barrier.wait()
                    status, body, latency = request(port, "PUT", f"/api/v1/cycles/{cycle_id}/ballot",
                                                    {"proposals": ids}, tokens[n])
                    local.append((n, ids, status, body, latency))

                extra = [threading.Thread(target=one, args=(ids,)) for ids in sets[1:]]
                for thread in extra:
                    thread.start()
                one(sets[0])
                for thread in extra:
                    thread.join(60)
                with lock:
                    outcomes.extend(local)
            return job

        rng.shuffle(plans)
        _, vote_wall = run([voter_job(n, sets) for n, sets in plans], args.threads)

        base_lat = [lat for status, _, lat in baseline if status == 200]
        vote_lat = [o[4] for o in outcomes if o[2] == 200]
        print()
        print(f"{'endpoint':34} {'requests':>8} {'ok':>6} {'other':>6} {'req/s':>8} "
              f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for label, results, latencies, wall in (
                ("baseline POST /bench/insert", baseline, base_lat, base_wall),
                ("PUT /cycles/<id>/ballot", outcomes, vote_lat, vote_wall)):
            p50, p95, p99 = percentiles(latencies)
            print(f"{label:34} {len(results):>8} {len(latencies):>6} {len(results) - len(latencies):>6} "
                  f"{len(latencies) / wall:>8.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}")
        statuses = {}
        for o in outcomes:
            statuses[o[2]] = statuses.get(o[2], 0) + 1
        print(f"ballot answers by status: {dict(sorted(statuses.items()))}; gunicorn workers {args.workers}, "
              f"client threads {args.threads}, {args.duplicates} voters submitted 2-3 ballots at once")

        ok = verify(db_url, cycle_id, proposal_ids, outcomes)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        with admin_connection(args.server) as conn:
            # FORCE: the seeding app's pooled connections may still be open.
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0 if ok else 1


def verify(db_url, cycle_id, proposal_ids, outcomes):
    import psycopg

    problems = []
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT b.voter_id, b.receipt, "
                            "array_remove(array_agg(i.proposal_id ORDER BY i.proposal_id), NULL) "
                            "FROM ballot b LEFT JOIN ballot_item i ON i.ballot_id = b.id "
                            "WHERE b.cycle_id = %s GROUP BY b.id", (cycle_id,)).fetchall()
        per_proposal = dict(conn.execute("SELECT i.proposal_id, count(*) FROM ballot_item i JOIN ballot b "
                                          "ON b.id = i.ballot_id WHERE b.cycle_id = %s GROUP BY i.proposal_id",
                                          (cycle_id,)).fetchall())
        voter_ids = {row[0]: row for row in rows}
        users = dict(conn.execute('SELECT full_name, id FROM "user"').fetchall())
    by_receipt = {}
    for voter_id, receipt, items in rows:
        by_receipt.setdefault(receipt, []).append((voter_id, list(items)))
    if len(voter_ids) != len(rows):
        problems.append("a voter has more than one ballot")
    acknowledged = [o for o in outcomes if o[2] == 200]
    sent = {}
    for n, ids, status, body, _ in outcomes:
        sent.setdefault(n, []).append((ids, status))
    expected = dict.fromkeys(proposal_ids, 0)
    for n, ids, status, body, _ in acknowledged:
        stored = by_receipt.get(body["receipt"], [])
        if len(stored) != 1:
            problems.append(f"receipt {body['receipt']} stored {len(stored)} times")
        elif stored[0][0] != users[f"Bench voter {n}"]:
            problems.append(f"receipt {body['receipt']} belongs to another voter")
    for n, attempts in sent.items():
        voter_id = users[f"Bench voter {n}"]
        row = voter_ids.get(voter_id)
        acked = [ids for ids, status in attempts if status == 200]
        if row is None:
            if acked:
                problems.append(f"voter {n}: acknowledged but no ballot stored")
            continue
        if list(row[2]) not in acked:
            problems.append(f"voter {n}: stored {list(row[2])} is none of the acknowledged {acked}")
        for pid in row[2]:
            expected[pid] += 1
    if len(rows) != len({o[0] for o in acknowledged}):
        problems.append(f"{len(rows)} ballots stored for {len({o[0] for o in acknowledged})} acknowledged voters")
    if {k: v for k, v in expected.items() if v} != per_proposal:
        problems.append(f"votes per proposal differ: expected {expected}, stored {per_proposal}")
    print(f"verification: {len(acknowledged)} acknowledged submissions, {len(rows)} ballots stored, "
          f"{len(by_receipt)} distinct receipts: " + ("OK" if not problems else "FAILED"))
    for problem in problems[:20]:
        print("  " + problem)
    return not problems


if __name__ == "__main__":
    sys.exit(main())
