"""The Expert Council's review: decisions with public reasons, revisions, the protocol."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.domain import proposals as proposal_domain
from app.domain.errors import Conflict, NotAllowed, ValidationFailed
from app.extensions import db
from app.models import AuditEntry, Cycle, Proposal, User
from tests.helpers import catalogue_translation, csrf_token, login

NOW = datetime(2026, 4, 20, 6, 0, tzinfo=timezone.utc)


@pytest.fixture
def setup(app, make_cycle, make_proposal, make_user):
    """A cycle in review with two submitted proposals, its staff member and the author."""
    cycle_id = make_cycle(phase="review")
    author_id, author_iin = make_user(territory="751410000")
    first = make_proposal(cycle_id, author_id=author_id, status="submitted", title="Сквер на Тимирязева")
    second = make_proposal(cycle_id, author_id=author_id, status="submitted", title="Фонари на Байзакова")
    staff_id, staff_iin = make_user(role="staff", territory="750000000")
    return dict(cycle=cycle_id, author=author_id, author_iin=author_iin, proposals=[first, second],
                staff=staff_id, staff_iin=staff_iin)


def review(app, staff_id, proposal_id, decision, reason="", deadline=None, now=NOW):
    with app.app_context():
        proposal_domain.review_proposal(db.session.get(User, staff_id), db.session.get(Proposal, proposal_id),
                                        decision, reason, deadline, now=now)
        db.session.commit()


def test_admit_and_reject_with_a_public_reason_and_an_audit_entry(app, client, setup):
    first, second = setup["proposals"]
    review(app, setup["staff"], first, "admitted")
    review(app, setup["staff"], second, "rejected", "Объект не находится в коммунальной собственности.")
    with app.app_context():
        assert db.session.get(Proposal, first).status == "admitted"
        rejected = db.session.get(Proposal, second)
        assert rejected.status == "rejected" and rejected.reviewed_by_id == setup["staff"]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "proposal.review",
                                                           AuditEntry.object_id == second))
        assert entry.before["status"] == "submitted" and entry.after["status"] == "rejected"
        assert entry.after["review_reason_ru"].startswith("Объект не находится")
    page = client.get(f"/en/proposals/{second}").get_data(as_text=True)
    assert "Reason for rejection" in page and "Объект не находится в коммунальной собственности." in page


def test_a_rejection_needs_a_reason(app, setup):
    for reason in ("", "   ", None):
        with pytest.raises(ValidationFailed) as caught:
            review(app, setup["staff"], setup["proposals"][0], "rejected", reason)
        assert "reason" in caught.value.fields
    with app.app_context():
        assert db.session.get(Proposal, setup["proposals"][0]).status == "submitted"


def test_unknown_decision_is_refused(app, setup):
    with pytest.raises(ValidationFailed) as caught:
        review(app, setup["staff"], setup["proposals"][0], "approved")
    assert "decision" in caught.value.fields


def test_staff_of_another_territory_and_residents_cannot_review(app, setup, make_user):
    other_staff, _ = make_user(role="staff", territory="710000000")
    for user_id in (other_staff, setup["author"]):
        with pytest.raises(NotAllowed):
            review(app, user_id, setup["proposals"][0], "admitted")


@pytest.mark.parametrize("phase", ["proposals", "voting"])
def test_review_only_in_the_review_phase(app, setup, phase):
    with app.app_context():
        db.session.get(Cycle, setup["cycle"]).phase = phase
        db.session.commit()
    with pytest.raises(Conflict):
        review(app, setup["staff"], setup["proposals"][0], "admitted")


def test_revision_request_lets_the_author_revise_until_the_deadline(app, setup):
    first = setup["proposals"][0]
    with pytest.raises(ValidationFailed) as caught:
        review(app, setup["staff"], first, "revision_requested", "Уточните смету.", NOW - timedelta(hours=1))
    assert "revision_deadline" in caught.value.fields
    with pytest.raises(ValidationFailed):
        review(app, setup["staff"], first, "revision_requested", "", NOW + timedelta(days=3))
    review(app, setup["staff"], first, "revision_requested", "Уточните смету.", NOW + timedelta(days=3))
    with app.app_context():
        proposal, author = db.session.get(Proposal, first), db.session.get(User, setup["author"])
        assert proposal.status == "revision_requested"
        # the other proposal, not asked for a revision, stays locked
        with pytest.raises(Conflict):
            proposal_domain.update_proposal(author, db.session.get(Proposal, setup["proposals"][1]),
                                            {"cost": 1_000_000}, now=NOW)
        with pytest.raises(Conflict) as caught:
            proposal_domain.update_proposal(author, proposal, {"cost": 4_000_000}, now=NOW + timedelta(days=4))
        assert caught.value.code == "revision_deadline_passed"
        proposal_domain.update_proposal(author, proposal, {"cost": 4_000_000}, now=NOW + timedelta(days=1))
        db.session.commit()
        assert proposal.status == "submitted" and proposal.cost == 4_000_000  # back to the council


def test_protocol_waits_for_every_decision_then_is_public(app, client, setup):
    first, second = setup["proposals"]
    page = client.get(f"/en/cycles/{setup['cycle']}/protocol")
    assert page.status_code == 404  # not published yet
    with app.app_context():
        staff, cycle = db.session.get(User, setup["staff"]), db.session.get(Cycle, setup["cycle"])
        with pytest.raises(Conflict) as caught:
            proposal_domain.publish_protocol(staff, cycle)
        assert caught.value.code == "proposals_undecided" and caught.value.params == {"n": 2}
    review(app, setup["staff"], first, "admitted")
    review(app, setup["staff"], second, "rejected", "Стоимость превышает лимит.")
    with app.app_context():
        staff, cycle = db.session.get(User, setup["staff"]), db.session.get(Cycle, setup["cycle"])
        proposal_domain.publish_protocol(staff, cycle, now=NOW)
        db.session.commit()
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cycle.protocol"))
        assert entry.after["decisions"] == {str(first): "admitted", str(second): "rejected"}
    body = client.get(f"/en/cycles/{setup['cycle']}/protocol").get_data(as_text=True)
    assert "Сквер на Тимирязева" in body and "Admitted to voting" in body
    assert "Стоимость превышает лимит." in body
    assert "1 proposal admitted to voting" in body and "1 proposal rejected" in body


def test_staff_review_through_the_pages(app, client, setup):
    first = setup["proposals"][0]
    login(client, setup["staff_iin"])
    queue = client.get(f"/en/staff/cycles/{setup['cycle']}").get_data(as_text=True)
    assert "Сквер на Тимирязева" in queue and f"/en/staff/proposals/{first}/review" in queue
    page = client.get(f"/en/staff/proposals/{first}/review")
    response = client.post(f"/en/staff/proposals/{first}/review",
                           data={"csrf_token": csrf_token(page), "decision": "rejected", "reason_ru": ""})
    assert response.status_code == 422
    assert "State the reason for the rejection: it is published." in response.get_data(as_text=True)
    response = client.post(f"/en/staff/proposals/{first}/review",
                           data={"csrf_token": csrf_token(page), "decision": "revision_requested",
                                 "reason_ru": "Приложите схему.", "revision_deadline": "2099-05-01T18:00"})
    assert response.status_code == 302
    with app.app_context():
        proposal = db.session.get(Proposal, first)
        assert proposal.status == "revision_requested"
        assert proposal.revision_deadline == datetime(2099, 5, 1, 13, 0, tzinfo=timezone.utc)
    page = client.get(f"/en/staff/cycles/{setup['cycle']}")
    response = client.post(f"/en/staff/cycles/{setup['cycle']}/protocol", data={"csrf_token": csrf_token(page)},
                           follow_redirects=True)
    assert "Every proposal needs a decision before the protocol is published: 1 still waits." in \
        response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_review_errors_are_translated(app, tclient, setup, lang):
    first = setup["proposals"][0]
    login(tclient, setup["staff_iin"], lang=lang)
    page = tclient.get(f"/{lang}/staff/proposals/{first}/review")
    response = tclient.post(f"/{lang}/staff/proposals/{first}/review",
                            data={"csrf_token": csrf_token(page), "decision": "rejected", "reason_kk": " "})
    assert response.status_code == 422
    msgid = "State the reason for the rejection: it is published."
    assert catalogue_translation(msgid, lang) in response.get_data(as_text=True)


def test_staff_of_another_territory_get_403_on_the_review_page(client, setup, make_user):
    _, iin = make_user(role="staff", territory="195231000")
    login(client, iin)
    assert client.get(f"/en/staff/proposals/{setup['proposals'][0]}/review").status_code == 403
