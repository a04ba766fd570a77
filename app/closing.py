"""The count at close as a background job (app/jobs.py: RQ on Redis, or inline without it).

lifecycle.advance (and a staff retry) asks for a count with counting.queue_count, which notes
the cycle in the session; once that transaction commits, `_start_counts` puts `count_job` on the
queue (or runs it inline). So the close is committed, and seen by every later ballot, before a
single ballot is read; the move itself returns at once.
"""
import logging

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app import notifications
from app.domain import counting, seal
from app.extensions import db
from app.jobs import enqueue, is_inline, job_context
from app.models import Cycle

log = logging.getLogger("qatysu.jobs")


def init_closing(app):
    """Start counts after the commit that asks for them (once per process: a Session event)."""
    if not event.contains(Session, "after_commit", _start_counts):
        event.listen(Session, "after_commit", _start_counts)
        event.listen(Session, "after_rollback", _forget_counts)


def count_job(cycle_id):
    """The job: the count of one closed cycle (counting.run_count, the one domain call), then
    the ballots sealed in the same transaction (app.domain.seal), then the staff are told."""
    with job_context():
        try:
            result = counting.run_count(cycle_id, commit=db.session.commit, then=seal.seal_cycle)
            if result is not None:
                notifications.notify_voting_counted(db.session.get(Cycle, cycle_id))
            return None if result is None else result.voters
        finally:
            db.session.remove()


def _start_counts(session):
    """After a commit that closed a cycle (or retried its count): start the count."""
    cycle_ids = session.info.pop(counting.COUNTS_TO_START, None)
    if not cycle_ids or not has_app_context():
        return
    app = current_app._get_current_object()
    for cycle_id in cycle_ids:
        if is_inline(app):
            _count_inline(cycle_id)
        else:
            _count_queued(app, cycle_id)


def _forget_counts(session):
    session.info.pop(counting.COUNTS_TO_START, None)


def _count_inline(cycle_id):
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
            counting.mark_failed(cycle_id, "QueueUnavailable")
            db.session.commit()
