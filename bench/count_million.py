"""The count at close on a large city: a million ballots, counted by the database, against the
count as first written, in one run.

    /work/main/.venv/bin/python bench/count_million.py [--ballots 1000000] [--proposals 30]
        [--rules greedy,mes] [--reference-ballots 100000] [--keep]

What it does, on 127.0.0.1 (PostgreSQL; `--server postgresql://postgres@127.0.0.1:5432`):
1. creates a fresh database (dropped at the end unless --keep), builds the schema and imports
   the demo KATO slice;
2. loads one closed Almaty cycle with P admitted proposals and N ballots (N voters, ~2.5 choices
   each, popularity skewed; homes in Almaty, its districts and a few in Astana) with COPY
   (psycopg's `cursor.copy`), and a second cycle of `--reference-ballots` ballots drawn the
   same way, for the old path;
3. for each rule, counts in a fresh child process and prints wall seconds and the peak RSS of
   that process during the count (VmHWM, reset before the count): `counting.count_cycle` (what the background job
   runs: count in SQL, engine, results stored) on the full cycle, and
   `counting.compute_count_reference` (the count as first written) on the reference cycle;
   `--reference-ballots 0` runs the old path on the full cycle as well (about 16 s and 1.7 GB);
4. checks the figures of both paths agree on the reference cycle.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHUNK = 100_000


def admin_connection(server_url):
    import psycopg

    return psycopg.connect(f"{server_url}/postgres", autocommit=True)


def make_app(db_url):
    os.environ["DATABASE_URL"] = db_url
    os.environ["QATYSU_CONFIG"] = "development"
    os.environ.pop("REDIS_URL", None)
    from app import create_app

    return create_app()


def schema(app):
    from app.domain.territories import import_territories
    from app.extensions import db

    with app.app_context():
        db.create_all()
        import_territories((ROOT / "app" / "demo" / "kato_demo.csv").read_text(encoding="utf-8"))
        db.session.commit()


def make_cycle(app, proposals, rule):
    """A closed Almaty cycle with `proposals` admitted proposals; returns (cycle id, proposal ids)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Cycle, Proposal, Territory, User

    with app.app_context():
        almaty = db.session.scalar(select(Territory).where(Territory.code == "750000000"))
        author = User(iin_hmac=os.urandom(32).hex(), full_name="Author", territory=almaty, password_hash="!")
        cycle = Cycle(territory=almaty, year=2026, title_en="Bench", budget=300_000_000,
                      max_project_cost=30_000_000, ballot_style="approval", max_choices=5, rule=rule,
                      min_voters=10, phase="closed")
        db.session.add_all([author, cycle])
        rng = random.Random(1)
        for k in range(proposals):
            db.session.add(Proposal(cycle=cycle, author=author, territory=almaty, title=f"Project {k}", description="-",
                                    category="parks", address="-", language="ru", status="admitted",
                                    cost=rng.randint(2, 30) * 1_000_000))
        db.session.commit()
        return cycle.id, sorted(p.id for p in cycle.proposals)


def load_ballots(db_url, cycle_id, proposal_ids, count, first_id, seed):
    """Voters, ballots and items for one cycle, with COPY, in chunks of CHUNK ballots. Choices:
    1 to 5 proposals (mean ~2.5), drawn without replacement with Zipf-like popularity (the
    Gumbel top-k trick)."""
    import numpy as np
    import psycopg

    rng = np.random.default_rng(seed)
    with psycopg.connect(db_url.replace("postgresql+psycopg", "postgresql")) as conn:
        territories = [conn.execute("SELECT id FROM territory WHERE code = %s", (code,)).fetchone()[0]
                       for code in ("750000000", "751410000", "751710000", "710000000")]
        ids = np.array(proposal_ids)
        weights = np.log(1.0 / np.arange(1, len(ids) + 1))
        total_items = 0
        for start in range(0, count, CHUNK):
            n = min(CHUNK, count - start)
            numbers = np.arange(first_id + start, first_id + start + n)
            homes = rng.choice(territories, size=n, p=[0.3, 0.35, 0.3, 0.05])
            sizes = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.25, 0.25, 0.2, 0.15, 0.15])
            keys = weights + rng.gumbel(size=(n, len(ids)))
            order = np.argsort(-keys, axis=1)
            take = np.arange(len(ids))[None, :] < sizes[:, None]
            ballot_of = np.repeat(numbers, sizes)
            chosen = ids[order[take]]
            total_items += len(chosen)
            with conn.cursor() as cur:
                with cur.copy('COPY "user" (id, iin_hmac, full_name, territory_id, role, password_hash, locale, '
                              "active, session_version, assurance, residence) FROM STDIN") as copy:
                    copy.write("".join(f"{k}\t{k:064x}\tVoter {k}\t{t}\tresident\t!\tkk\tt\t1\tpassword\tdeclared\n"
                                       for k, t in zip(numbers.tolist(), homes.tolist())))
                with cur.copy("COPY ballot (id, cycle_id, voter_id, territory_id, receipt) FROM STDIN") as copy:
                    copy.write("".join(f"{k}\t{cycle_id}\t{k}\t{t}\tR{k:031d}\n"
                                       for k, t in zip(numbers.tolist(), homes.tolist())))
                with cur.copy("COPY ballot_item (ballot_id, proposal_id) FROM STDIN") as copy:
                    copy.write("".join(f"{b}\t{p}\n" for b, p in zip(ballot_of.tolist(), chosen.tolist())))
            conn.commit()
        conn.execute('SELECT setval(pg_get_serial_sequence(\'"user"\', \'id\'), (SELECT max(id) FROM "user"))')
        conn.execute("SELECT setval(pg_get_serial_sequence('ballot', 'id'), (SELECT max(id) FROM ballot))")
        conn.execute("ANALYZE")
        conn.commit()
    return total_items


def measure(db_url, cycle_id, path):
    """In this (child) process: run one counting path, print JSON with seconds, peak RSS, figures.

    The peak is the kernel's high-water mark (VmHWM), reset just before the count by writing 5
    to /proc/self/clear_refs: importing the app leaves a higher mark of its own (argon2id's
    64 MiB dummy hash in app.domain.accounts), which is no part of the count."""
    app = make_app(db_url)
    from sqlalchemy import text

    from app.domain import counting
    from app.extensions import db
    from app.models import Cycle

    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        _ = cycle.territory.path
        backend = db.session.scalar(text("SELECT pg_backend_pid()"))
        backend_cpu = _backend_cpu(backend)
        Path("/proc/self/clear_refs").write_text("5")
        before = _status("VmRSS")
        started, cpu = time.perf_counter(), time.process_time()
        if path == "job":
            result = counting.count_cycle(cycle)
            db.session.commit()
        elif path == "fast":
            result = counting.compute_count(cycle)
        else:
            result = counting.compute_count_reference(cycle)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        backend_cpu = _backend_cpu(backend) - backend_cpu
        peak = _status("VmHWM")
    print(json.dumps({"seconds": seconds, "cpu": cpu, "backend_cpu": backend_cpu,
                      "rss_before_mb": before / 1024, "peak_rss_mb": peak / 1024,
                      "voters": result.voters,
                      "figures": [[p.proposal_id, *p.as_tuple()] for p in result.proposals]}))


def _backend_cpu(pid):
    """CPU seconds (user + system) of the PostgreSQL backend serving this session, from
    /proc/<pid>/stat: the server runs on this machine, and the count's SQL runs there."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status(field):
    """A memory figure of this process from /proc/self/status, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(db_url, cycle_id, path):
    out = subprocess.run([sys.executable, __file__, "--measure", path, "--db-url", db_url,
                          "--cycle", str(cycle_id)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the {path} count failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(rows):
    print()
    print(f"load average before the counts: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| rule | path | ballots | wall s | CPU s: Python + PostgreSQL | peak RSS MB | RSS before MB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for rule, path, ballots, figures in rows:
        print(f"| {rule} | {path} | {ballots:,} | {figures['seconds']:.2f} | {figures['cpu']:.2f} + "
              f"{figures['backend_cpu']:.2f} | {figures['peak_rss_mb']:.0f} | {figures['rss_before_mb']:.0f} |")


def recount_kept(app, db_url, rows, old_on_full=False):
    """--reuse: the cycles of a kept database, the largest counted by the new path and the
    smallest of the same rule by the old one."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Ballot, Cycle

    with app.app_context():
        sizes = db.session.execute(
            select(Cycle.id, Cycle.rule, func.count(Ballot.id)).join(Ballot, Ballot.cycle_id == Cycle.id)
            .group_by(Cycle.id, Cycle.rule).order_by(Cycle.id)).all()
    for rule in dict.fromkeys(rule for _, rule, _ in sizes):
        mine = sorted((n, cycle_id) for cycle_id, r, n in sizes if r == rule)
        (small_n, small), (big_n, big) = mine[0], mine[-1]
        if old_on_full:
            small_n, small = big_n, big
        rows.append((rule, "new: count_cycle (SQL classes, store)", big_n, child(db_url, big, "job")))
        fast_small = child(db_url, small, "fast")
        rows.append((rule, "new: compute_count", small_n, fast_small))
        old = child(db_url, small, "reference")
        rows.append((rule, "old: compute_count_reference", small_n, old))
        same = fast_small["figures"] == old["figures"]
        print(f"{rule}: same figures on the reference cycle: {'yes' if same else 'NO'}")
    table(rows)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--proposals", type=int, default=30)
    parser.add_argument("--rules", default="greedy,mes")
    parser.add_argument("--reference-ballots", type=int, default=100_000,
                        help="ballots of the cycle the old path counts (0: the full cycle)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", metavar="DATABASE", help="count again in a database kept by --keep (no loading)")
    parser.add_argument("--measure"), parser.add_argument("--db-url"), parser.add_argument("--cycle", type=int)
    args = parser.parse_args()
    if args.measure:
        return measure(args.db_url, args.cycle, args.measure)

    name = args.reuse or f"qatysu_bench_count_{os.getpid()}"
    plain = args.server.replace("postgresql+psycopg", "postgresql")
    if not args.reuse:
        with admin_connection(plain) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    db_url = f"{args.server}/{name}"
    try:
        app = make_app(db_url)
        rules = args.rules.split(",")
        rows = []
        if args.reuse:
            args.keep = True
            return recount_kept(app, db_url, rows, old_on_full=not args.reference_ballots)
        schema(app)
        for number, rule in enumerate(rules):
            big, big_ids = make_cycle(app, args.proposals, rule)
            started = time.perf_counter()
            items = load_ballots(db_url, big, big_ids, args.ballots, first_id=10_000_000 * (2 * number + 1),
                                 seed=number)
            print(f"{rule}: loaded {args.ballots:,} ballots, {items:,} choices in "
                  f"{time.perf_counter() - started:.1f} s (COPY)", flush=True)
            small, small_ids = big, big_ids
            if args.reference_ballots:
                small, small_ids = make_cycle(app, args.proposals, rule)
                load_ballots(db_url, small, small_ids, args.reference_ballots,
                             first_id=10_000_000 * (2 * number + 2), seed=100 + number)
            job = child(db_url, big, "job")
            rows.append((rule, "new: count_cycle (SQL classes, store)", args.ballots, job))
            if args.reference_ballots:
                fast_small = child(db_url, small, "fast")
                rows.append((rule, "new: compute_count", args.reference_ballots, fast_small))
            old = child(db_url, small, "reference")
            rows.append((rule, "old: compute_count_reference", args.reference_ballots or args.ballots, old))
            same = (fast_small if args.reference_ballots else job)["figures"] == old["figures"]
            print(f"{rule}: same figures on the reference cycle: {'yes' if same else 'NO'}", flush=True)
            if not same:
                return 1
        table(rows)
    finally:
        if not args.keep:
            from app.extensions import db

            try:
                with app.app_context():
                    db.engine.dispose()
            except Exception:  # noqa: BLE001  (the app may not exist yet)
                pass
            with admin_connection(plain) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
