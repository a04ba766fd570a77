"""Background jobs: the count at close and mail, inline (no Redis: the tests' default) and on a
real RQ queue on the local Redis (127.0.0.1:6379, each test on a queue of its own; skipped when
no Redis answers there)."""
import smtplib
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.domain import counting
from app.domain.errors import Conflict
from app.extensions import db
from app.models import Cycle, Proposal, ProposalResult, User
from tests.helpers import csrf_token, login, residents, write_ballot

REDIS = "redis://127.0.0.1:6379/0"


def _redis_answers():
    try:
        from redis import Redis

        return Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001
        return False


needs_redis = pytest.mark.skipif(not _redis_answers(), reason="no Redis at 127.0.0.1:6379")


@pytest.fixture
def voted(app, make_cycle, make_proposal, make_user):
    """A voting Almaty cycle: 12 residents voted for A, 3 for B; staff (id, iin) of Almaty."""
    staff = make_user(role="staff", territory="750000000")
    with app.app_context():
        member = db.session.get(User, staff[0])
        member.email, member.locale = "staff@example.kz", "en"
        db.session.commit()
    cycle_id = make_cycle(phase="voting", budget=50_000_000)
    a, b = make_proposal(cycle_id, cost=10_000_000), make_proposal(cycle_id, cost=1_000_000)
    people = residents(app, "751410000", 12)
    with app.app_context():
        for k, voter in enumerate(people):
            write_ballot(voter, cycle_id, [a, b] if k < 3 else [a])
        db.session.commit()
    return {"cycle": cycle_id, "a": a, "b": b, "staff": staff}


def _cycle(app, cycle_id):
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        db.session.expunge(cycle)
        return cycle


def _results(app, cycle_id):
    with app.app_context():
        return {r.proposal_id: (r.votes, r.eligible, r.selected) for r in db.session.scalars(
            select(ProposalResult).where(ProposalResult.cycle_id == cycle_id))}


def _close(client, cycle_id):
    page = client.get(f"/en/staff/cycles/{cycle_id}")
    return client.post(f"/en/staff/cycles/{cycle_id}/phase",
                       data={"csrf_token": csrf_token(page), "phase": "closed", "confirm": "y"})


# --- Inline (no Redis) -----------------------------------------------------------------------

def test_inline_close_counts_right_after_the_commit(app, client, voted):
    login(client, voted["staff"][1])
    assert _close(client, voted["cycle"]).status_code == 302
    cycle = _cycle(app, voted["cycle"])
    assert cycle.phase == "closed" and cycle.count_state == "done" and cycle.count_progress == 100
    assert cycle.counted_at is not None and cycle.voters_count == 12 and cycle.count_attempts == 1
    assert _results(app, voted["cycle"]) == {voted["a"]: (12, True, True), voted["b"]: (3, False, False)}
    api = client.get(f"/api/v1/cycles/{voted['cycle']}").get_json()
    assert api["count"] == {"state": "done", "progress": 100}
    (told,) = [m for m in app.extensions["outbox"] if m.recipients == ["staff@example.kz"]]
    assert "12 residents voted" in told.body


def test_a_failed_count_is_shown_to_staff_and_retried(app, client, voted, monkeypatch):
    real = counting.compute_count

    def broken(cycle, progress=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(counting, "compute_count", broken)
    login(client, voted["staff"][1])
    assert _close(client, voted["cycle"]).status_code == 302  # the close stands
    cycle = _cycle(app, voted["cycle"])
    assert (cycle.phase, cycle.count_state, cycle.count_error, cycle.counted_at) == \
        ("closed", "failed", "RuntimeError", None)
    page = client.get(f"/en/staff/cycles/{voted['cycle']}").get_data(as_text=True)
    assert "The count of the ballots failed." in page and "Start the count again" in page
    dashboard = client.get("/en/staff/").get_data(as_text=True)  # the way there: the staff console's task
    assert (f'href="/en/staff/cycles/{voted["cycle"]}#counting">The count of the ballots failed: start it again.'
            in dashboard)
    assert client.get(f"/api/v1/cycles/{voted['cycle']}").get_json()["count"] == {"state": "failed", "progress": 0}
    monkeypatch.setattr(counting, "compute_count", real)
    retried = client.post(f"/en/staff/cycles/{voted['cycle']}/count/retry", data={"csrf_token": csrf_token(
        client.get(f"/en/staff/cycles/{voted['cycle']}"))})
    assert retried.status_code == 302
    cycle = _cycle(app, voted["cycle"])
    assert cycle.count_state == "done" and cycle.count_attempts == 2 and cycle.voters_count == 12
    page = client.get(f"/en/staff/cycles/{voted['cycle']}").get_data(as_text=True)
    assert "Start the count again" not in page and "Turnout" in page
    again = client.post(f"/en/staff/cycles/{voted['cycle']}/count/retry", data={"csrf_token": csrf_token(
        client.get(f"/en/staff/cycles/{voted['cycle']}"))}, follow_redirects=True)
    assert "This count cannot be started again now" in again.get_data(as_text=True)


def test_conclusions_and_publication_wait_for_the_count(app, client, voted, api_token):
    from app.domain.conclusions import record_conclusion
    from app.domain.publication import require_can_publish

    with app.app_context():
        cycle = db.session.get(Cycle, voted["cycle"])
        cycle.phase, cycle.count_state = "closed", "running"  # closed, its job still counting
        cycle.count_changed_at = datetime.now(timezone.utc) - timedelta(minutes=5)
        db.session.commit()
        staff = db.session.get(User, voted["staff"][0])
        with pytest.raises(Conflict) as pending:
            record_conclusion(staff, db.session.get(Proposal, voted["a"]), "approved", {"en": "Fine."})
        assert pending.value.code == "count_pending"
        with pytest.raises(Conflict) as pending:
            require_can_publish(staff, cycle)
        assert pending.value.code == "count_pending"
        with pytest.raises(Conflict) as not_yet:
            counting.retry_count(staff, cycle)  # running, and not quiet for long: no second job
        assert not_yet.value.code == "count_not_retryable"
        assert counting.may_retry(cycle, now=datetime.now(timezone.utc) + timedelta(minutes=11))  # lost: retry
        cycle.count_state = "failed"
        db.session.commit()
        with pytest.raises(Conflict) as failed:
            require_can_publish(staff, cycle)
        assert failed.value.code == "count_failed"
    headers = api_token(voted["staff"][1])
    refused = client.post(f"/api/v1/cycles/{voted['cycle']}/phase", json={"phase": "published"}, headers=headers)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "count_failed"
    retried = client.post(f"/api/v1/cycles/{voted['cycle']}/count", headers=headers)
    assert retried.status_code == 200 and retried.get_json()["count"] == {"state": "done", "progress": 100}


def test_the_staff_page_shows_counting_with_its_progress(app, client, voted):
    with app.app_context():
        cycle = db.session.get(Cycle, voted["cycle"])
        cycle.phase, cycle.count_state, cycle.count_progress = "closed", "running", 60
        cycle.count_changed_at = datetime.now(timezone.utc)
        db.session.commit()
    login(client, voted["staff"][1])
    page = client.get(f"/en/staff/cycles/{voted['cycle']}").get_data(as_text=True)
    assert "Counting the ballots: 60%" in page and '<progress max="100" value="60"' in page
    assert 'http-equiv="refresh"' in page and "Start the count again" not in page
    assert "Write the conclusion" not in page  # conclusions wait for the count
    assert "Counting the ballots: 60%" in client.get("/en/staff/").get_data(as_text=True)


def test_a_failing_mail_server_never_fails_the_action(make_app, make_user, monkeypatch, caplog):
    """Inline: SMTP raises, the password reset request still succeeds; the failure is logged."""
    from app import mail

    smtp_app = make_app(MAIL_BACKEND="smtp")
    _, iin = make_user(email="dana@example.kz")

    def refuse(message):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(mail.mail, "send", refuse)
    client = smtp_app.test_client()
    page = client.get("/en/password/forgot")
    with caplog.at_level("ERROR", logger="qatysu.mail"):
        answer = client.post("/en/password/forgot", data={"csrf_token": csrf_token(page), "iin": iin})
    assert answer.status_code == 302
    assert "mail delivery failed (SMTPServerDisconnected)" in caplog.text
    assert "dana@example.kz" not in caplog.text


# --- On a real RQ queue ----------------------------------------------------------------------

@pytest.fixture
def rq_app(make_app):
    """An app whose jobs go to a queue of its own on the local Redis; the queue is emptied after."""
    name = f"qatysu-test-{uuid.uuid4().hex[:12]}"
    queued = make_app(JOBS_REDIS_URL=REDIS, JOBS_QUEUE=name)
    yield queued
    from app.jobs import queue

    with queued.app_context():
        q = queue(queued)
        for registry in (q.failed_job_registry, q.scheduled_job_registry, q.finished_job_registry,
                         q.started_job_registry, q.deferred_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)
        q.delete(delete_jobs=True)


def _work(app):
    """A real RQ worker (SimpleWorker: in this process, so it sees the test's database) until
    the queue is empty."""
    from rq import SimpleWorker

    from app.jobs import queue

    with app.app_context():
        q = queue(app)
        SimpleWorker([q], connection=q.connection).work(burst=True)
        return q


@needs_redis
def test_with_a_queue_the_close_returns_at_once_and_a_worker_counts(app, rq_app, voted, api_token):
    client = rq_app.test_client()
    headers = api_token(voted["staff"][1])
    closed = client.post(f"/api/v1/cycles/{voted['cycle']}/phase", json={"phase": "closed"}, headers=headers)
    assert closed.status_code == 200
    assert closed.get_json()["phase"] == "closed" and closed.get_json()["count"] == {"state": "queued", "progress": 0}
    assert _results(app, voted["cycle"]) == {}  # nothing counted in the request
    refused = client.put(f"/api/v1/proposals/{voted['a']}/conclusion", json={
        "decision": "approved", "justification": {"en": "Fine."}}, headers=headers)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "count_pending"
    with rq_app.app_context():
        from app.jobs import queue

        assert queue(rq_app).count == 1
    q = _work(rq_app)
    assert q.count == 0 and len(q.finished_job_registry) >= 1 and len(q.failed_job_registry) == 0
    cycle = _cycle(app, voted["cycle"])
    assert cycle.count_state == "done" and cycle.voters_count == 12
    assert _results(app, voted["cycle"]) == {voted["a"]: (12, True, True), voted["b"]: (3, False, False)}
    with app.app_context():
        reference = counting.compute_count_reference(db.session.get(Cycle, voted["cycle"]))
        assert counting.recount(db.session.get(Cycle, voted["cycle"])) == [] and reference.voters == 12
    # The staff's email went through the queue too, and the worker delivered it.
    assert any(m.recipients == ["staff@example.kz"] for m in rq_app.extensions["outbox"])
    assert client.get(f"/api/v1/cycles/{voted['cycle']}").get_json()["count"] == {"state": "done", "progress": 100}


@needs_redis
def test_with_a_queue_a_failing_mail_server_means_a_retry_not_a_failed_action(make_app, rq_app, make_user,
                                                                               monkeypatch):
    from rq.job import Job

    from app import mail

    rq_app.config["MAIL_BACKEND"] = "smtp"
    _, iin = make_user(email="dana@example.kz")
    attempts = []

    def refuse(message):
        attempts.append(message.recipients)
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(mail.mail, "send", refuse)
    client = rq_app.test_client()
    page = client.get("/en/password/forgot")
    answer = client.post("/en/password/forgot", data={"csrf_token": csrf_token(page), "iin": iin})
    assert answer.status_code == 302 and attempts == []  # queued: nothing sent in the request
    q = _work(rq_app)
    assert attempts == [["dana@example.kz"]]
    (job_id,) = q.scheduled_job_registry.get_job_ids()  # due again in 10 s (Retry(max=3, [10, 60, 300]))
    job = Job.fetch(job_id, connection=q.connection)
    assert job.get_status() == "scheduled" and job.retries_left == 2 and job.retry_intervals == [10, 60, 300]
    assert len(q.failed_job_registry) == 0


def test_an_unreachable_queue_fails_nothing(make_app, voted, api_token):
    """Redis down: mail is delivered at once instead, and the close stands with its count
    recorded as failed (staff see the retry button)."""
    down = make_app(JOBS_REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    client = down.test_client()
    headers = api_token(voted["staff"][1])
    closed = client.post(f"/api/v1/cycles/{voted['cycle']}/phase", json={"phase": "closed"}, headers=headers)
    assert closed.status_code == 200 and closed.get_json()["phase"] == "closed"
    cycle = _cycle(down, voted["cycle"])
    assert (cycle.phase, cycle.count_state, cycle.count_error) == ("closed", "failed", "QueueUnavailable")
    with down.app_context():
        from app.mail import send_mail

        assert send_mail("dana@example.kz", "Subject", "Body") is True
    assert [m.recipients for m in down.extensions["outbox"]] == [["dana@example.kz"]]
