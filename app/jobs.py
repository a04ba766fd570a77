"""Background jobs on RQ (Redis Queue): the count at close, and outgoing mail.

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
import os
from contextlib import contextmanager

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("qatysu.jobs")
QUEUE = "qatysu"
# Mail: a slow or failing mail server is retried after 10 s, 1 min, 5 min, then left in RQ's
# failed-job registry (`rq info`, README). The count: twice more, then staff see a retry button.
RETRIES = {"mail": (3, [10, 60, 300]), "count": (2, [30, 120])}
JOB_TIMEOUT = {"mail": 60, "count": 1800}
_worker_app = None


def init_jobs(app):
    """Choose RQ or inline for this app, and start counts after the commit that asks for them."""
    url = app.config.get("JOBS_REDIS_URL")
    app.extensions["jobs"] = {"url": url, "queue": app.config.get("JOBS_QUEUE", QUEUE), "connection": None}
    if not event.contains(Session, "after_commit", _start_counts):
        event.listen(Session, "after_commit", _start_counts)
        event.listen(Session, "after_rollback", _forget_counts)


def is_inline(app=None):
    app = app or current_app
    return not app.extensions["jobs"]["url"]


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


# --- The count at close ------------------------------------------------------------------------

def count_job(cycle_id):
    """The job: the count of one closed cycle (app.domain.counting.run_count), then the staff are
    told. The sealing step of the close belongs here too, right after the count."""
    from app import notifications
    from app.domain import counting
    from app.extensions import db
    from app.models import Cycle

    with job_context():
        try:
            result = counting.run_count(cycle_id, commit=db.session.commit)
            if result is not None:
                notifications.notify_voting_counted(db.session.get(Cycle, cycle_id))
            return None if result is None else result.voters
        finally:
            db.session.remove()


def _start_counts(session):
    """After a commit that closed a cycle (or retried its count): start the count."""
    from app.domain.counting import COUNTS_TO_START

    cycle_ids = session.info.pop(COUNTS_TO_START, None)
    if not cycle_ids or not has_app_context():
        return
    app = current_app._get_current_object()
    for cycle_id in cycle_ids:
        if is_inline(app):
            _count_inline(app, cycle_id)
        else:
            _count_queued(app, cycle_id)


def _forget_counts(session):
    from app.domain.counting import COUNTS_TO_START

    session.info.pop(COUNTS_TO_START, None)


def _count_inline(app, cycle_id):
    # count_job opens a fresh app context: a session of its own, as this one is still committing.
    try:
        count_job(cycle_id)
    except Exception:  # noqa: BLE001  (recorded as the count's state: staff see it and retry)
        log.exception("count of cycle %s failed", cycle_id)


def _count_queued(app, cycle_id):
    try:
        with app.app_context():
            job = enqueue("count", count_job, cycle_id, description=f"count cycle {cycle_id}")
        log.info("count of cycle %s queued as job %s", cycle_id, job.id)
    except Exception:  # noqa: BLE001  (Redis down: the cycle shows a failed count with a retry button)
        log.exception("count of cycle %s could not be queued", cycle_id)
        with app.app_context():
            from app.domain import counting
            from app.extensions import db

            counting.mark_failed(cycle_id, "QueueUnavailable")
            db.session.commit()


# --- Mail ----------------------------------------------------------------------------------------

def mail_job(to, subject, body):
    """The job: deliver one message. Raises when the mail server fails, so RQ retries it."""
    from app.mail import deliver

    with job_context():
        deliver(to, subject, body)


def send_mail_later(to, subject, body):
    """Queue one message (inline: deliver now). Never raises for the mail server's sake: a
    failed delivery is logged (and retried by RQ), the user's action stands."""
    if is_inline():
        try:
            mail_job(to, subject, body)
        except Exception as error:  # noqa: BLE001
            logging.getLogger("qatysu.mail").error("mail delivery failed (%s); not retried without a queue",
                                                   type(error).__name__)
        return True
    try:
        enqueue("mail", mail_job, to, subject, body, description="mail")
    except Exception as error:  # noqa: BLE001  (Redis down: one message lost, logged, action stands)
        logging.getLogger("qatysu.mail").error("mail could not be queued (%s)", type(error).__name__)
    return True


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
