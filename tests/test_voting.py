"""Casting ballots: who, when, what, how many, and one ballot per person under races."""
import functools
import re

import pytest
from sqlalchemy import func, select

from app.domain import voting
from app.domain.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.models import Ballot, BallotItem, Cycle, User
from tests.helpers import catalogue_translation, csrf_token, race, residents


def cast(app, voter_id, cycle_id, ids):
    with app.app_context():
        ballot = voting.cast_ballot(db.session.get(User, voter_id), db.session.get(Cycle, cycle_id), ids)
        db.session.commit()
        return ballot.receipt, [i.proposal_id for i in ballot.items]


def stored(app, cycle_id):
    with app.app_context():
        ballots = db.session.scalars(select(Ballot).where(Ballot.cycle_id == cycle_id)).all()
        return [(b.voter_id, b.receipt, [i.proposal_id for i in b.items], b.territory.code) for b in ballots]


@pytest.fixture
def proposal(app, make_proposal):
    """make_proposal with an author who costs no password hashing (the machine is shared)."""
    author = residents(app, "751410000", 1)[0]
    return lambda cycle_id, **fields: make_proposal(cycle_id, author_id=author, **fields)


@pytest.fixture
def voter_id(app):
    return lambda territory="751410000": residents(app, territory, 1)[0]


@pytest.fixture
def approval(make_cycle, proposal):
    """An Almaty approval cycle (up to 2) in voting with three admitted proposals."""
    cycle_id = make_cycle(phase="voting", ballot_style="approval", max_choices=2)
    return cycle_id, [proposal(cycle_id, cost=c) for c in (10_000_000, 20_000_000, 30_000_000)]


def test_district_resident_votes_and_ballot_records_home_unit(app, approval, voter_id):
    cycle_id, (p1, p2, _p3) = approval
    voter = voter_id()  # Bostandyk district, inside Almaty
    receipt, items = cast(app, voter, cycle_id, [p2, p1])
    assert items == [p1, p2]
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", receipt)
    assert stored(app, cycle_id) == [(voter, receipt, [p1, p2], "751410000")]


def test_village_resident_votes_in_rural_district_cycle(app, make_cycle, proposal, voter_id):
    cycle_id = make_cycle(territory="195231000", phase="voting", ballot_style="approval", max_choices=1)
    proposal = proposal(cycle_id)
    villager = voter_id("195231100")
    assert cast(app, villager, cycle_id, [proposal])[1] == [proposal]


@pytest.mark.parametrize("role, territory", [("resident", "710000000"), ("resident", "195231100"),
                                             ("staff", "750000000"), ("admin", "750000000")])
def test_outsiders_and_staff_cannot_vote(app, approval, make_user, role, territory):
    cycle_id, (p1, _, _) = approval
    user, _ = make_user(role=role, territory=territory)
    with pytest.raises(NotAllowed) as caught:
        cast(app, user, cycle_id, [p1])
    assert caught.value.code == "not_resident_of_territory"
    assert stored(app, cycle_id) == []


@pytest.mark.parametrize("phase", ["draft", "proposals", "review", "closed", "published"])
def test_no_voting_out_of_phase(app, make_cycle, proposal, voter_id, phase):
    cycle_id = make_cycle(phase="voting")
    proposal = proposal(cycle_id)  # proposals cannot be added to a published cycle: add first
    with app.app_context():
        db.session.get(Cycle, cycle_id).phase = phase
        db.session.commit()
    voter = voter_id()
    with pytest.raises(Conflict) as caught:
        cast(app, voter, cycle_id, [proposal])
    assert caught.value.code == "voting_not_open" and caught.value.status == 409


def test_only_admitted_proposals_of_this_cycle(app, approval, make_cycle, proposal, voter_id):
    cycle_id, (p1, _, _) = approval
    other_cycle = make_cycle(phase="voting")
    foreign = proposal(other_cycle)
    rejected = proposal(cycle_id, status="rejected")
    submitted = proposal(cycle_id, status="submitted")
    voter = voter_id()
    for ids in ([foreign], [p1, rejected], [submitted], [999999], ["x"], [True]):
        with pytest.raises(DomainError) as caught:
            cast(app, voter, cycle_id, ids)
        assert caught.value.status == 422 and caught.value.code == "unknown_proposal", ids
    assert stored(app, cycle_id) == []


def test_approval_limits(app, approval, voter_id):
    cycle_id, (p1, p2, p3) = approval
    voter = voter_id()
    for ids, code in (([p1, p2, p3], "too_many_choices"), ([], "no_choice"), ([p1, p1], "duplicate_choice")):
        with pytest.raises(DomainError) as caught:
            cast(app, voter, cycle_id, ids)
        assert (caught.value.status, caught.value.code) == (422, code)
    assert stored(app, cycle_id) == []


def test_approval_ballot_is_replaced_with_the_same_receipt(app, approval, voter_id):
    cycle_id, (p1, p2, p3) = approval
    voter = voter_id()
    first, _ = cast(app, voter, cycle_id, [p1, p2])
    second, items = cast(app, voter, cycle_id, [p3])
    assert first == second and items == [p3]
    assert stored(app, cycle_id) == [(voter, first, [p3], "751410000")]


def test_single_is_exactly_one_and_final(app, make_cycle, proposal, voter_id):
    cycle_id = make_cycle(phase="voting", ballot_style="single", max_choices=None)
    p1, p2 = proposal(cycle_id), proposal(cycle_id)
    voter = voter_id()
    with pytest.raises(DomainError) as caught:
        cast(app, voter, cycle_id, [p1, p2])
    assert caught.value.code == "too_many_choices"
    receipt, _ = cast(app, voter, cycle_id, [p1])
    for ids in ([p2], [p1]):
        with pytest.raises(Conflict) as caught:
            cast(app, voter, cycle_id, ids)
        assert caught.value.code == "ballot_final"
    assert stored(app, cycle_id) == [(voter, receipt, [p1], "751410000")]


def test_knapsack_total_within_budget(app, make_cycle, proposal, voter_id):
    cycle_id = make_cycle(phase="voting", ballot_style="knapsack", max_choices=None, budget=50_000_000)
    a, b, c = (proposal(cycle_id, cost=cost) for cost in (20_000_000, 30_000_000, 1))
    voter = voter_id()
    with pytest.raises(DomainError) as caught:
        cast(app, voter, cycle_id, [a, b, c])  # one tenge over
    assert caught.value.code == "over_budget" and caught.value.status == 422
    assert cast(app, voter, cycle_id, [a, b])[1] == [a, b]  # exactly the budget


def test_receipts_are_random():
    codes = {voting.new_receipt() for _ in range(2000)}
    assert len(codes) == 2000


def _casts(voter, cycle_id, submissions):
    """One attempt per set of proposals, all from the same account, each giving its receipt."""
    def cast_one(ids):
        return voting.cast_ballot(db.session.get(User, voter), db.session.get(Cycle, cycle_id), ids).receipt
    return [functools.partial(cast_one, ids) for ids in submissions]


def test_parallel_approval_submissions_leave_one_ballot_with_one_set(app, make_cycle, proposal):
    cycle_id = make_cycle(phase="voting", ballot_style="approval", max_choices=3)
    ps = [proposal(cycle_id) for _ in range(4)]
    submissions = [[ps[0], ps[1]], [ps[2], ps[3]], [ps[1], ps[2], ps[3]], [ps[0]], [ps[3]], [ps[0], ps[2]]]
    for voter in residents(app, "751410000", 3):
        outcomes = race(app, _casts(voter, cycle_id, submissions))
        assert len(outcomes) == len(submissions) and all(kind == "ok" for kind, _ in outcomes), outcomes
        mine = [row for row in stored(app, cycle_id) if row[0] == voter]
        assert len(mine) == 1
        assert {receipt for _, receipt in outcomes} == {mine[0][1]}  # every acknowledgement is that ballot
        assert mine[0][2] in [sorted(s) for s in submissions]  # exactly one submission's set, not a union
    with app.app_context():
        assert db.session.scalar(select(func.count(Ballot.id))) == 3


def test_parallel_single_submissions_one_wins_the_rest_are_told(app, make_cycle, proposal):
    cycle_id = make_cycle(phase="voting", ballot_style="single", max_choices=None)
    ps = [proposal(cycle_id) for _ in range(3)]
    voter = residents(app, "751410000", 1)[0]
    outcomes = race(app, _casts(voter, cycle_id, [[ps[0]], [ps[1]], [ps[2]], [ps[0]]]))
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused", "refused", "refused"]
    assert {code for kind, code in outcomes if kind == "refused"} == {"ballot_final"}
    (row,) = stored(app, cycle_id)
    assert len(row[2]) == 1 and row[1] == next(code for kind, code in outcomes if kind == "ok")
    with app.app_context():
        assert db.session.scalar(select(func.count(BallotItem.id))) == 1


# ---- pages -----------------------------------------------------------------------------------

def test_ballot_page_approval_cast_receipt_and_change(app, client, auth, approval, make_user):
    cycle_id, (p1, p2, p3) = approval
    _, iin = make_user()
    auth.login(iin)
    page = client.get(f"/ru/cycles/{cycle_id}/ballot")
    assert page.status_code == 200
    assert page.data.count(b'type="checkbox" name="proposals"') == 3
    assert b"<script>" not in page.data  # CSP: only the external ballot.js
    response = client.post(f"/ru/cycles/{cycle_id}/ballot", data={
        "csrf_token": csrf_token(page), "proposals": [str(p1), str(p3)], "action": "cast"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/ru/cycles/{cycle_id}/ballot/receipt")
    receipt_page = client.get(f"/ru/cycles/{cycle_id}/ballot/receipt")
    ((_, receipt, items, _),) = stored(app, cycle_id)
    assert items == [p1, p3] and receipt.encode() in receipt_page.data
    page = client.get(f"/ru/cycles/{cycle_id}/ballot")
    assert page.data.count(b"checked") == 2
    client.post(f"/ru/cycles/{cycle_id}/ballot", data={
        "csrf_token": csrf_token(page), "proposals": [str(p2)], "action": "cast"})
    assert stored(app, cycle_id)[0][1:3] == (receipt, [p2])


def test_ballot_page_over_limit_is_refused_and_nothing_stored(app, client, auth, approval, make_user):
    cycle_id, ps = approval
    _, iin = make_user()
    auth.login(iin)
    page = client.get(f"/en/cycles/{cycle_id}/ballot")
    response = client.post(f"/en/cycles/{cycle_id}/ballot", data={
        "csrf_token": csrf_token(page), "proposals": [str(p) for p in ps]})
    assert response.status_code == 422
    assert b"You can choose at most 2 projects." in response.data
    assert stored(app, cycle_id) == []


def test_ballot_page_needs_csrf(app, client, auth, approval, make_user):
    cycle_id, (p1, _, _) = approval
    _, iin = make_user()
    auth.login(iin)
    response = client.post(f"/en/cycles/{cycle_id}/ballot", data={"proposals": [str(p1)]})
    assert response.status_code == 400
    assert stored(app, cycle_id) == []


def test_single_choice_page_confirms_before_the_final_cast(app, client, auth, make_cycle, proposal, make_user):
    cycle_id = make_cycle(phase="voting", ballot_style="single", max_choices=None)
    p1, p2 = proposal(cycle_id), proposal(cycle_id)
    _, iin = make_user()
    auth.login(iin)
    page = client.get(f"/kk/cycles/{cycle_id}/ballot")
    assert page.data.count(b'type="radio" name="proposals"') == 2
    confirm = client.post(f"/kk/cycles/{cycle_id}/ballot", data={
        "csrf_token": csrf_token(page), "proposals": str(p2), "action": "review"})
    assert confirm.status_code == 200 and b'value="confirm"' in confirm.data
    assert stored(app, cycle_id) == []  # nothing cast before the confirmation
    done = client.post(f"/kk/cycles/{cycle_id}/ballot", data={
        "csrf_token": csrf_token(confirm), "proposals": str(p2), "action": "confirm"})
    assert done.status_code == 302
    assert stored(app, cycle_id)[0][2] == [p2]
    again = client.get(f"/kk/cycles/{cycle_id}/ballot")  # final: the receipt, saying why
    final = catalogue_translation("Your ballot has been cast and is final: in this cycle it cannot be changed.", "kk")
    assert again.status_code == 200 and final in again.get_data(as_text=True)
    assert 'id="receipt"' in again.get_data(as_text=True) and b'value="confirm"' not in again.data
    late = client.post(f"/kk/cycles/{cycle_id}/ballot", data={
        "csrf_token": csrf_token(confirm), "proposals": str(p1), "action": "confirm"})
    assert late.status_code == 409 and final in late.get_data(as_text=True)
    assert stored(app, cycle_id)[0][2] == [p2]


def test_knapsack_page_adds_up_without_javascript(app, client, auth, make_cycle, proposal, make_user):
    cycle_id = make_cycle(phase="voting", ballot_style="knapsack", max_choices=None, budget=50_000_000)
    a, b = proposal(cycle_id, cost=30_000_000), proposal(cycle_id, cost=25_000_000)
    _, iin = make_user()
    auth.login(iin)
    page = client.get(f"/en/cycles/{cycle_id}/ballot")
    assert b'data-cost="30000000"' in page.data and b"ballot.js" in page.data
    total = client.post(f"/en/cycles/{cycle_id}/ballot", data={
        "csrf_token": csrf_token(page), "proposals": [str(a), str(b)], "action": "total"})
    assert total.status_code == 200 and b"55,000,000" in total.data and b"Over the budget" in total.data
    assert stored(app, cycle_id) == []
    over = client.post(f"/en/cycles/{cycle_id}/ballot", data={
        "csrf_token": csrf_token(page), "proposals": [str(a), str(b)], "action": "cast"})
    assert over.status_code == 422 and stored(app, cycle_id) == []


@pytest.mark.parametrize("lang, territory, phase, status", [
    ("en", "710000000", "voting", 403), ("ru", "751410000", "review", 409), ("kk", "751410000", "closed", 409)])
def test_ballot_page_refusals(client, auth, make_cycle, proposal, make_user, lang, territory, phase, status):
    cycle_id = make_cycle(phase=phase)
    proposal(cycle_id)
    _, iin = make_user(territory=territory)
    auth.login(iin, lang=lang)
    assert client.get(f"/{lang}/cycles/{cycle_id}/ballot").status_code == status
    assert client.get(f"/{lang}/cycles/999999/ballot").status_code == 404


def test_ballot_page_needs_login(client, approval):
    cycle_id, _ = approval
    response = client.get(f"/en/cycles/{cycle_id}/ballot")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_demo_ballots_are_cast_inside_the_territory_and_idempotent(app, make_cycle, proposal):
    from app.demo.voting import seed_ballots

    cycle_id = make_cycle(territory="195231000", phase="voting", ballot_style="approval", max_choices=2)
    for cost in (1_000_000, 2_000_000, 3_000_000):
        proposal(cycle_id, cost=cost)
    with app.app_context():
        assert seed_ballots(cycle_id, 3) == 3
        assert seed_ballots(cycle_id, 3) == 0
    rows = stored(app, cycle_id)
    assert len(rows) == 3 and all(code.startswith("19523") for *_, code in rows)
    assert all(1 <= len(items) <= 2 for _, _, items, _ in rows)


# --- the ballot PUT's fast path: statements instead of the unit of work, the kept ballot ------

def test_a_proposal_changed_during_voting_reaches_the_next_ballot_at_once(app, approval, voter_id):
    """Each worker keeps a voting cycle's admitted proposals; a change to a proposal flushed in
    the process (by hand: the domain never changes them once voting is open) drops that copy."""
    from app.models import Proposal

    cycle_id, (p1, p2, p3) = approval
    assert cast(app, voter_id(), cycle_id, [p3])[1] == [p3]  # the cycle's ballot is now kept
    with app.app_context():
        db.session.get(Proposal, p3).status = "rejected"
        db.session.commit()
    with pytest.raises(DomainError) as refused:
        cast(app, voter_id(), cycle_id, [p3])
    assert refused.value.code == "unknown_proposal"
    with app.app_context():
        db.session.get(Proposal, p3).status = "admitted"
        db.session.commit()
    assert cast(app, voter_id(), cycle_id, [p1, p3])[1] == [p1, p3]


def test_the_kept_ballot_is_per_cycle_and_only_while_voting(app, make_cycle, proposal, voter_id):
    first = make_cycle(phase="voting", ballot_style="approval", max_choices=2)
    second = make_cycle(phase="voting", ballot_style="approval", max_choices=2)
    a, b = proposal(first), proposal(second)
    assert cast(app, voter_id(), first, [a])[1] == [a]
    with pytest.raises(DomainError) as refused:
        cast(app, voter_id(), first, [b])  # the other cycle's proposal is not on this ballot
    assert refused.value.code == "unknown_proposal"
    assert cast(app, voter_id(), second, [b])[1] == [b]
    with app.app_context():
        cycle = db.session.get(Cycle, first)
        assert voting.on_ballot_costs(cycle) == {a: 5_000_000}
        voting.forget_ballot_cache()
        cycle.phase = "review"  # not voting (as read in this transaction): read, never kept
        assert voting.on_ballot_costs(cycle) == {a: 5_000_000}
        assert voting._ballot_cache_key(cycle) not in voting._on_ballot_cache
        cycle.phase = "voting"
        voting.on_ballot_costs(cycle)
        assert voting._ballot_cache_key(cycle) in voting._on_ballot_cache
        db.session.rollback()


def test_ballot_inserts_through_the_session_are_refused_in_a_published_cycle(app, published_cycle):
    """The freeze guard sees INSERT statements too (cast_ballot writes ballots with them)."""
    from sqlalchemy import insert

    from app.domain.publication import ResultsFrozen

    ids = published_cycle()
    with app.app_context():
        ballot_id = db.session.scalar(select(Ballot.id).where(Ballot.cycle_id == ids["cycle"]))
        voter = db.session.scalar(select(User.id).where(User.role == "resident"))
        with pytest.raises(ResultsFrozen):
            db.session.execute(insert(BallotItem).values(ballot_id=ballot_id,
                                                         proposal_id=next(iter(ids["proposals"].values()))))
        db.session.rollback()
        with pytest.raises(ResultsFrozen):
            db.session.execute(insert(Ballot).values(cycle_id=ids["cycle"], voter_id=voter, territory_id=1,
                                                     receipt="X", secret="s"))
        db.session.rollback()
        cycle = db.session.get(Cycle, ids["cycle"])  # held, but published: naming it does not help
        with pytest.raises(ResultsFrozen):
            db.session.execute(insert(Ballot.__table__).values(cycle_id=cycle.id, voter_id=voter, territory_id=1,
                                                               receipt="Y", secret="s"),
                               execution_options={"within_cycle": cycle.id})
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.receipt.in_(["X", "Y"]))) == 0


def test_a_token_ballot_sets_no_session_cookie(app, client, approval, make_user, api_token):
    cycle_id, (p1, _p2, _p3) = approval
    _voter, iin = make_user(territory="751410000")
    headers = api_token(iin)
    response = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [p1]}, headers=headers)
    assert response.status_code == 200 and response.get_json()["proposals"] == [p1]
    assert response.get_json()["secret"]
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
