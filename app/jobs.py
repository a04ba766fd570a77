"""Background jobs on RQ (Redis Queue): the plumbing. The jobs themselves: the count at close
(app/closing.py) and outgoing mail (app/mail.py).

With JOBS_REDIS_URL (by default REDIS_URL) set, jobs go onto the QUEUE queue and `rq worker`
processes run them (`make run` starts one beside gunicorn; README, "Background jobs"). Without
Redis — the SQLite demo, the tests — they run inline, in the process that asked for them:
mail at once, the count right after the commit that closed the cycle.

Jobs carry ids and plain values, never ORM objects, and open their own app context (so their
own database session); in a worker the app is built once from the environment. A failing job
raises, and RQ retries it (RETRIES); in inline mode the failure is logged and recorded
(the count's state on the cycle; mail in the `qatysu.mail` log) and the user's action stands.
"""
import logging
from contextlib import contextmanager

from flask import current_app, has_app_context

log = logging.getLogger("qatysu.jobs")
QUEUE = "qatysu"
# Mail: a slow or failing mail server is retried after 10 s, 1 min, 5 min, then left in RQ's
# failed-job registry (`rq info`, README). The count: twice more, then staff see a retry button.
RETRIES = {"mail": (3, [10, 60, 300]), "count": (2, [30, 120])}
JOB_TIMEOUT = {"mail": 60, "count": 1800}
_worker_app = None


def init_jobs(app):
    """Choose RQ or inline for this app."""
    url = app.config.get("JOBS_REDIS_URL")
    app.extensions["jobs"] = {"url": url, "queue": app.config.get("JOBS_QUEUE", QUEUE), "connection": None}
    if url:  # its length on /metrics, its Redis on /readyz
        from app import observability

        observability.register_queue(app, app.extensions["jobs"]["queue"], lambda: len(queue(app)),
                                     ready=lambda: queue(app).connection.ping())


def is_inline(app=None):
    app = app or current_app
    return not app.extensions["jobs"]["url"]


@contextmanager
def inline(app=None):
    """Run this app's jobs inline for a while (the demo seed: its cycles are counted before it
    writes their conclusions)."""
    settings = (app or current_app).extensions["jobs"]
    url, settings["url"] = settings["url"], None
    try:
        yield
    finally:
        settings["url"] = url


def queue(app=None):
    """The RQ queue of this app (a Redis connection made once per process)."""
    from redis import Redis
    from rq import Queue

    settings = (app or current_app).extensions["jobs"]
    if settings["connection"] is None:
        settings["connection"] = Redis.from_url(settings["url"], socket_connect_timeout=2, socket_timeout=5)
    return Queue(settings["queue"], connection=settings["connection"])


def enqueue(kind, function, *args, description=None):
    """Put function(*args) on the queue with the retries of its kind; returns the RQ job."""
    from rq import Retry

    times, intervals = RETRIES[kind]
    return queue().enqueue(function, *args, retry=Retry(max=times, interval=intervals),
                           job_timeout=JOB_TIMEOUT[kind], description=description or kind,
                           result_ttl=3600, failure_ttl=7 * 24 * 3600)


@contextmanager
def job_context():
    """An app context of its own for a job: the current app (inline, or a test's worker), or
    the worker's app built from the environment."""
    global _worker_app
    if has_app_context():
        app = current_app._get_current_object()
    else:
        if _worker_app is None:
            from app import create_app

            _worker_app = create_app()
        app = _worker_app
    with app.app_context():
        yield app


def run_worker(app, burst=False):
    """An RQ worker on this app's queue, with the scheduler that runs retries when they are due
    (`flask --app wsgi jobs worker`). The app is built before the worker forks a process per
    job, so jobs start without re-importing it; nothing here opens a database connection
    before the fork."""
    global _worker_app
    from rq import Worker

    if is_inline(app):
        raise RuntimeError("no JOBS_REDIS_URL or REDIS_URL: jobs run inline, no worker is needed")
    _worker_app = app
    worker = Worker([queue(app)], connection=queue(app).connection)
    return worker.work(burst=burst, with_scheduler=True)
