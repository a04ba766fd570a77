"""Publication: refused while a conclusion is missing; stamped, digested and frozen after."""
import hashlib
import json

import pytest
from sqlalchemy import delete, select, update

from app.domain.conclusions import record_conclusion
from app.domain.errors import Conflict
from app.domain.lifecycle import publish as publish_cycle
from app.domain.open_data import compute_digest, digest_payload_from_json, results_document
from app.extensions import db
from app.models import Ballot, Conclusion, Cycle, ImplementationUpdate, PhaseChange, Proposal, ProposalResult, User
from tests.helpers import conclude_all, csrf_token


def test_publish_refused_while_a_conclusion_is_missing(app, counted_cycle, staff):
    ids = counted_cycle()
    conclude_all(app, ids, staff[0], skip=("C",))
    with app.app_context():
        cycle = db.session.get(Cycle, ids["cycle"])
        with pytest.raises(Conflict) as caught:
            publish_cycle(cycle, db.session.get(User, staff[0]))
        assert caught.value.code == "conclusions_missing"
        assert caught.value.missing == [ids["proposals"]["C"]]
        db.session.rollback()
        assert db.session.get(Cycle, ids["cycle"]).phase == "closed"


def test_publish_stamps_digests_and_notifies_authors(app, counted_cycle, staff, client, auth):
    ids = counted_cycle(author_locale="ru")
    conclude_all(app, ids, staff[0])
    outbox = app.extensions["outbox"]
    before = len(outbox)
    auth.login(staff[1])
    page = client.get(f"/en/staff/cycles/{ids['cycle']}/conclusions")
    refused = client.post(f"/en/staff/cycles/{ids['cycle']}/publish",
                          data={"csrf_token": csrf_token(page)})  # no confirmation ticked
    assert refused.status_code == 422
    response = client.post(f"/en/staff/cycles/{ids['cycle']}/publish",
                           data={"confirm": "y", "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    with app.app_context():
        cycle = db.session.get(Cycle, ids["cycle"])
        assert cycle.phase == "published" and cycle.published_by_id == staff[0]
        assert cycle.published_at is not None
        assert len(cycle.results_digest) == 64 and cycle.results_digest == compute_digest(cycle)
        changes = db.session.scalars(select(PhaseChange).where(PhaseChange.cycle_id == cycle.id)).all()
        assert [(c.from_phase, c.to_phase) for c in changes] == [("closed", "published")]
    # One mail per admitted proposal of the author.
    assert len(outbox) - before == 4 and all(m.recipients == ["author@example.kz"] for m in outbox[before:])


def test_digest_is_stable_and_recomputable_from_the_json(app, client, published_cycle):
    ids = published_cycle()
    document = client.get(f"/api/v1/cycles/{ids['cycle']}/results").get_json()
    again = client.get(f"/api/v1/cycles/{ids['cycle']}/results",
                       headers={"Accept-Language": "ru"}).get_json()
    # A journalist's own recipe, written from the documentation, not from our helper.
    keep = ("decision", "justification_i18n", "document_number", "document_date")
    payload = {k: document[k] for k in ("cycle", "budget", "rule", "min_voters", "voters")}
    payload["proposals"] = [dict({k: p[k] for k in ("id", "title", "cost", "votes", "eligible", "selected")},
                                 **{k: (p["conclusion"] or {}).get(k) for k in keep})
                            for p in sorted(document["proposals"], key=lambda p: p["id"])]
    payload["seal"] = {k: document["seal"][k] for k in ("root", "leaves")}  # the sealed ballots
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == document["results_digest"]
    assert payload == digest_payload_from_json(again)  # the reader's language changes nothing
    # A changed copy does not match.
    payload["proposals"][0]["votes"] += 1
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() != document["results_digest"]
    with app.app_context():
        cycle = db.session.get(Cycle, ids["cycle"])
        assert compute_digest(cycle) == cycle.results_digest
        assert results_document(cycle, "en")["results_digest"] == cycle.results_digest


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_domain_refuses_changes_after_publication(app, published_cycle, staff, admin, who):
    ids = published_cycle()
    user_id = staff[0] if who == "staff" else admin[0]
    with app.app_context():
        user = db.session.get(User, user_id)
        proposal = db.session.get(Proposal, ids["proposals"]["C"])
        with pytest.raises(Conflict) as caught:
            record_conclusion(user, proposal, "not_approved", {"ru": "Иначе."})
        assert caught.value.code == "results_published"
        with pytest.raises(Conflict):
            publish_cycle(db.session.get(Cycle, ids["cycle"]), user)


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_pages_refuse_changes_after_publication(app, client, auth, published_cycle, staff, admin, who):
    ids = published_cycle()
    auth.login((staff if who == "staff" else admin)[1])
    url = f"/en/staff/proposals/{ids['proposals']['D']}/conclusion"
    page = client.get(url)
    assert "can no longer be changed" in page.get_data(as_text=True)
    response = client.post(url, data={"decision": "not_approved", "justification_en": "Changed.",
                                      "csrf_token": csrf_token(page)})
    assert response.status_code == 409
    again = client.post(f"/en/staff/cycles/{ids['cycle']}/publish",
                        data={"confirm": "y", "csrf_token": csrf_token(page)})
    assert again.status_code == 409
    with app.app_context():
        conclusion = db.session.scalar(select(Conclusion).where(Conclusion.proposal_id == ids["proposals"]["D"]))
        assert conclusion.justification_en == ""


def _refused(app, change):
    with app.app_context():
        with pytest.raises(Conflict) as caught:
            change()
            db.session.flush()
        assert caught.value.code == "results_published"
        db.session.rollback()


def test_before_flush_guard_catches_direct_model_edits(app, published_cycle):  # noqa: C901 (ten one-line edits)
    ids = published_cycle()
    a, c = ids["proposals"]["A"], ids["proposals"]["C"]

    def edit_votes():
        db.session.get(ProposalResult, a).votes = 99

    def edit_selection():
        db.session.get(ProposalResult, c).selected = True

    def edit_justification():
        db.session.scalar(select(Conclusion).where(Conclusion.proposal_id == c)).justification_ru = "x"

    def edit_cycle():
        db.session.get(Cycle, ids["cycle"]).budget = 1

    def unpublish():
        db.session.get(Cycle, ids["cycle"]).phase = "closed"

    def edit_cost():
        db.session.get(Proposal, a).cost = 1

    def delete_result():
        db.session.delete(db.session.get(ProposalResult, a))

    def delete_conclusion():
        db.session.delete(db.session.scalar(select(Conclusion).where(Conclusion.proposal_id == a)))

    def add_ballot():
        cycle = db.session.get(Cycle, ids["cycle"])
        db.session.add(Ballot(cycle=cycle, voter_id=ids["author"], territory=cycle.territory,
                              receipt="f" * 32))

    def bulk_update():
        db.session.execute(update(ProposalResult).where(ProposalResult.proposal_id == a).values(votes=0))

    def bulk_delete():
        db.session.execute(delete(Conclusion).where(Conclusion.proposal_id == c))

    for change in (edit_votes, edit_selection, edit_justification, edit_cycle, unpublish, edit_cost,
                   delete_result, delete_conclusion, add_ballot, bulk_update, bulk_delete):
        _refused(app, change)
    with app.app_context():
        assert db.session.get(ProposalResult, a).votes == 25
        assert db.session.get(Cycle, ids["cycle"]).phase == "published"


def test_guard_leaves_unpublished_cycles_and_implementation_additions_alone(app, counted_cycle,
                                                                          published_cycle, staff):
    open_ids = counted_cycle()
    with app.app_context():
        db.session.get(ProposalResult, open_ids["proposals"]["A"]).rank = 1
        db.session.execute(update(ProposalResult).where(
            ProposalResult.cycle_id == open_ids["cycle"]).values(price_per_voter=None))
        db.session.commit()
    ids = published_cycle()
    with app.app_context():
        from datetime import date

        update_row = ImplementationUpdate(proposal_id=ids["proposals"]["A"], status="planned",
                                          on_date=date(2026, 11, 1), note_ru="")
        db.session.add(update_row)
        db.session.commit()
        update_row.note_ru = "edited"
        with pytest.raises(Conflict) as caught:
            db.session.flush()
        assert caught.value.code == "implementation_append_only"
        db.session.rollback()


def test_demo_seed_concludes_and_publishes(app, counted_cycle, staff):
    from app.demo.results import seed_conclusions

    ids = counted_cycle()
    with app.app_context():
        message = seed_conclusions(ids["cycle"])
        db.session.commit()
        cycle = db.session.get(Cycle, ids["cycle"])
        assert cycle.phase == "published" and "2 approved" in message
        decisions = {c.proposal_id: c.decision for c in db.session.scalars(select(Conclusion))}
        assert decisions[ids["proposals"]["D"]] == "not_approved"
        assert decisions[ids["proposals"]["A"]] == "approved"
        assert db.session.scalars(select(ImplementationUpdate)).all()
        assert seed_conclusions(ids["cycle"]).endswith("nothing to conclude")  # idempotent


def test_bulk_delete_said_to_be_within_a_cycle_is_still_refused_once_published(app, published_cycle):
    """voting.cast_ballot skips the guard's count query for a locked cycle in voting
    (execution option `within_cycle`); the option never opens a published cycle."""
    from app.models import BallotItem

    ids = published_cycle()
    with app.app_context():
        cycle = db.session.get(Cycle, ids["cycle"])
        ballot = db.session.scalars(select(Ballot).where(Ballot.cycle_id == cycle.id)).first()
        with pytest.raises(Conflict) as caught:
            db.session.execute(delete(BallotItem).where(BallotItem.ballot_id == ballot.id),
                               execution_options={"synchronize_session": False, "within_cycle": cycle.id})
        assert caught.value.code == "results_published"
