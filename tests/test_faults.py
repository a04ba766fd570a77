"""Faults, provoked on real servers: 200 voters at once (some submitting twice in parallel), a
gunicorn worker killed with SIGKILL mid-load, PostgreSQL restarted mid-vote, Redis gone.

Everything runs on servers of the test's own: a throwaway PostgreSQL cluster (Debian's initdb
and pg_ctl, on a free port, in a temporary directory), a private redis-server, and gunicorn
with three sync workers. The clients are threads speaking HTTP (requests). A client retries a
request that got no answer (its worker died) or a 503, as a browser's user or an app would;
afterwards every acknowledged ballot (200 with a receipt) must be stored exactly once.
"""
import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers import catalogue_translation
from tests.servers import (
    Gunicorn,
    PostgresCluster,
    RedisServer,
    check_acknowledged,
    seed_voting,
    seeding_app,
    stored_ballots,
    unavailable,
    wait_until,
)

pytestmark = pytest.mark.slow

VOTERS = 200          # the load test's voters
LATE_VOTERS = 60      # voting while PostgreSQL restarts
REDIS_VOTERS = 4      # voting while Redis is down
OUTAGE = "The service is temporarily unavailable. Please try again in a few minutes."


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """(gunicorn, cluster, redis, seeded data), torn down at the end of the module."""
    missing = PostgresCluster.missing() or RedisServer.missing()
    if missing:
        unavailable(missing)
    workdir = tmp_path_factory.mktemp("faults")
    cluster = PostgresCluster()
    redis_server = RedisServer()
    server = None
    try:
        cluster.init()
        redis_server.start()
        seeded = seed_voting(seeding_app(cluster.url), VOTERS + LATE_VOTERS + REDIS_VOTERS + 1)
        server = Gunicorn(workdir, "faults", DATABASE_URL=cluster.url, REDIS_URL=redis_server.url(),
                          REDIS_KEY_PREFIX="qatysu-faults", BALLOTS_PER_ACCOUNT="1000 per minute")
        server.start(workers=3)
        yield server, cluster, redis_server, seeded
    finally:
        if server is not None:
            server.stop()
        redis_server.stop()
        cluster.destroy()


class Voters:
    """Client threads putting ballots through the API, recording every answer."""

    def __init__(self, server, seeded):
        self.server, self.seeded = server, seeded
        self.outcomes = []      # (voter name, set, status, body): final answers
        self.answers = []       # (status, headers, body) of every attempt, errors included
        self.lock = threading.Lock()

    def put(self, n, ids, retries=40):
        """One submission, retried after a lost connection or a 503 (as a client would)."""
        url = f"{self.server.url}/api/v1/cycles/{self.seeded['cycle']}/ballot"
        headers = {"Authorization": f"Bearer {self.seeded['tokens'][n]}", "Accept-Language": "ru"}
        for _attempt in range(retries):
            try:
                response = requests.put(url, json={"proposals": ids}, headers=headers, timeout=30)
                status, body = response.status_code, response.json()
                with self.lock:
                    self.answers.append((status, dict(response.headers), body))
            except (requests.ConnectionError, requests.Timeout, ValueError) as error:
                status, body = 0, {"error": type(error).__name__}
                with self.lock:
                    self.answers.append((0, {}, body))
            if status not in (0, 503):
                break
            time.sleep(0.2 + random.random() * 0.3)
        with self.lock:
            self.outcomes.append((self.seeded["names"][n], ids, status, body))

    def vote(self, n, sets):
        """A voter sending one set, or several at once (two tabs, a double click)."""
        if len(sets) == 1:
            return self.put(n, sets[0])
        barrier = threading.Barrier(len(sets))

        def one(ids):
            barrier.wait()
            self.put(n, ids)

        threads = [threading.Thread(target=one, args=(ids,)) for ids in sets[1:]]
        for thread in threads:
            thread.start()
        one(sets[0])
        for thread in threads:
            thread.join(120)

    def acked(self):
        with self.lock:
            return sum(1 for o in self.outcomes if o[2] == 200)

    def statuses(self):
        with self.lock:
            counts = {}
            for status, _headers, _body in self.answers:
                counts[status] = counts.get(status, 0) + 1
            return counts


def _plans(seeded, voters, doubles, seed):
    """(voter, sets sent at once): one set, or for `doubles` the same ballot twice (a double
    click) and, for some, a third, different one (another tab)."""
    rng = random.Random(seed)

    def ballot():
        return sorted(rng.sample(seeded["proposals"], rng.randint(1, 3)))

    plans = []
    for n in voters:
        sets = [ballot()]
        if n in doubles:
            sets.append(list(sets[0]))
            if rng.random() < 0.5:
                sets.append(ballot())
        plans.append((n, sets))
    return plans


def test_200_concurrent_voters_double_submitting_while_a_worker_is_killed(stack):
    server, cluster, _redis, seeded = stack
    voters = Voters(server, seeded)
    plans = _plans(seeded, range(VOTERS), set(range(0, VOTERS, 5)), 2026)  # 40 submit 2-3 at once
    workers_before = server.workers()
    assert len(workers_before) == 3
    killed = []

    def kill_a_worker_mid_load():
        wait_until(lambda: voters.acked() >= VOTERS // 4, 60, "the load did not start")
        victim = server.workers()[0]
        os.kill(victim, signal.SIGKILL)
        killed.append((victim, voters.acked()))

    killer = threading.Thread(target=kill_a_worker_mid_load)
    killer.start()
    with ThreadPoolExecutor(max_workers=24) as pool:
        list(pool.map(lambda plan: voters.vote(*plan), plans))
    killer.join(60)

    assert killed and killed[0][1] < VOTERS, "the worker was killed after the load, not during it"
    statuses = voters.statuses()
    print(f"load: answers by status (0 = connection lost) {statuses}; worker killed after "
          f"{killed[0][1]} acknowledged ballots")
    assert 500 not in statuses, statuses
    assert all(status == 200 for _, _, status, _ in voters.outcomes), statuses
    assert check_acknowledged(cluster.url, seeded["cycle"], voters.outcomes) == []
    assert len(stored_ballots(cluster.url, seeded["cycle"])) == VOTERS
    # gunicorn replaced the killed worker: three again, the victim gone, the master unchanged.
    wait_until(lambda: len(server.workers()) == 3 and killed[0][0] not in server.workers(), 30,
               "the killed worker was not replaced")
    assert server.process.poll() is None


def test_postgres_restarted_mid_vote_answers_503_then_resumes_without_a_restart(stack):
    server, cluster, _redis, seeded = stack
    voters = Voters(server, seeded)
    plans = _plans(seeded, range(VOTERS, VOTERS + LATE_VOTERS), set(range(VOTERS, VOTERS + LATE_VOTERS, 4)), 7)
    master, workers = server.process.pid, server.workers()
    during = {}

    def restart_postgres():
        wait_until(lambda: voters.acked() >= 10, 60, "the vote did not start")
        cluster.stop("fast")  # connections in use are cut, new ones refused
        try:
            page = requests.get(f"{server.url}/ru/cycles/{seeded['cycle']}", timeout=10)
            api = requests.get(f"{server.url}/api/v1/cycles/{seeded['cycle']}",
                               headers={"Accept-Language": "kk"}, timeout=10)
            during.update(page=(page.status_code, page.headers.get("Retry-After"), page.text),
                          api=(api.status_code, api.headers.get("Retry-After"), api.json()))
            time.sleep(2)  # clients keep coming while the database is down
        finally:
            cluster.start()

    started = time.monotonic()

    def paced(index, plan):
        # Voters arrive over ~3 s, so some come while the database is down, whatever the speed.
        time.sleep(max(0.0, started + index * 0.05 - time.monotonic()))
        voters.vote(*plan)

    restarter = threading.Thread(target=restart_postgres)
    restarter.start()
    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(lambda item: paced(*item), enumerate(plans)))
    restarter.join(60)

    # During the outage: 503 with Retry-After and the translated message, page and API alike.
    status, retry_after, text = during["page"]
    assert status == 503 and int(retry_after) > 0
    assert catalogue_translation(OUTAGE, "ru") in text
    status, retry_after, body = during["api"]
    assert status == 503 and int(retry_after) > 0
    assert body["error"] == {"code": "unavailable", "message": catalogue_translation(OUTAGE, "kk")}
    statuses = voters.statuses()
    print(f"PostgreSQL restart: answers by status (0 = connection lost) {statuses}")
    assert 500 not in statuses and statuses.get(503, 0) > 0, statuses
    assert all(int(h["Retry-After"]) > 0 for s, h, _ in voters.answers if s == 503)
    # Afterwards: every ballot acknowledged before, during or after is stored exactly once.
    assert all(status == 200 for _, _, status, _ in voters.outcomes), statuses
    assert check_acknowledged(cluster.url, seeded["cycle"], voters.outcomes) == []
    # The same processes serve again: the pool dropped its dead connections (pool_pre_ping).
    assert server.process.pid == master and server.workers() == workers
    assert requests.get(f"{server.url}/ru/cycles/{seeded['cycle']}", timeout=10).status_code == 200


def test_redis_down_keeps_the_site_and_the_vote_up(stack):
    server, cluster, redis_server, seeded = stack
    first = VOTERS + LATE_VOTERS
    login = {"iin": seeded["iins"][-1], "password": "servers-test-password"}
    assert requests.post(f"{server.url}/api/v1/auth/token", json=login, timeout=10).status_code == 200
    redis_server.stop()
    try:
        # Pages, the (normally cached) territories, and voting work without Redis: the cache
        # falls back to the database, the ballot throttle to a per-worker count.
        for path in ("/kk/", f"/ru/cycles/{seeded['cycle']}", "/api/v1/territories?within=750000000"):
            response = requests.get(server.url + path, timeout=10)
            assert response.status_code == 200, (path, response.status_code)
        voters = Voters(server, seeded)
        for n in range(first, first + REDIS_VOTERS):
            voters.put(n, seeded["proposals"][:2], retries=1)
        assert [o[2] for o in voters.outcomes] == [200] * REDIS_VOTERS
        assert check_acknowledged(cluster.url, seeded["cycle"], voters.outcomes) == []
        # Signing in fails closed (docs/security.md): 503, Retry-After, translated; never 500.
        refused = requests.post(f"{server.url}/api/v1/auth/token", json=login,
                                headers={"Accept-Language": "ru"}, timeout=10)
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
        assert refused.json()["error"]["message"] == catalogue_translation(OUTAGE, "ru")
    finally:
        redis_server.start()
    # Redis back: signing in works again, without restarting the app.
    master = server.process.pid
    assert requests.post(f"{server.url}/api/v1/auth/token", json=login, timeout=10).status_code == 200
    assert server.process.pid == master
