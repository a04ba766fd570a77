"""The count at close: the ten-voter rule, voters from the territory, reproducibility."""
import pytest
from sqlalchemy import select

from app.domain import access, counting, lifecycle
from app.extensions import db
from app.models import Ballot, Cycle, Proposal, ProposalResult, User
from tests.helpers import residents, unit, write_ballot


@pytest.mark.parametrize("voters, min_voters, eligible", [
    (9, 10, False), (10, 10, True), (0, 10, False), (49, 50, False), (50, 50, True),
    (9, 5, False), (10, 5, True), (10, None, True)])
def test_is_eligible_never_below_ten(voters, min_voters, eligible):
    assert counting.is_eligible(voters, min_voters) is eligible


@pytest.fixture
def author(app, territories):
    return residents(app, "751410000", 1)[0]


def close(app, cycle_id, staff_id):
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        lifecycle.advance(cycle, db.session.get(User, staff_id), "closed")
        db.session.commit()


def results(app, cycle_id):
    with app.app_context():
        rows = db.session.scalars(select(ProposalResult).where(ProposalResult.cycle_id == cycle_id)
                                  .order_by(ProposalResult.proposal_id)).all()
        return {r.proposal_id: (r.votes, r.voters_in_territory, r.eligible, r.selected) for r in rows}


def vote(app, cycle_id, voters, proposal_ids, territory_code=None):
    with app.app_context():
        for voter in voters:
            write_ballot(voter, cycle_id, proposal_ids, territory_code)
        db.session.commit()


def independent_recount(app, cycle_id):
    """The count done again here, from the raw rows, with greedy and the documented ties
    (more votes first; then lower cost; then proposal id as text)."""
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        admitted = {p.id: p.cost for p in db.session.scalars(
            select(Proposal).where(Proposal.cycle_id == cycle_id, Proposal.status == "admitted"))}
        votes = dict.fromkeys(admitted, 0)
        inside = dict.fromkeys(admitted, 0)
        for ballot in db.session.scalars(select(Ballot).where(Ballot.cycle_id == cycle_id)):
            from_territory = ballot.territory.path.startswith(cycle.territory.path)
            for item in ballot.items:
                votes[item.proposal_id] += 1
                inside[item.proposal_id] += from_territory
        eligible = {pid: inside[pid] >= max(cycle.min_voters, 10) for pid in admitted}
        left, selected = cycle.budget, set()
        for pid in sorted((p for p in admitted if eligible[p]), key=lambda p: (-votes[p], admitted[p], str(p))):
            if admitted[pid] <= left:
                selected.add(pid)
                left -= admitted[pid]
        return {pid: (votes[pid], inside[pid], eligible[pid], pid in selected) for pid in admitted}


@pytest.fixture
def closing(app, make_cycle, make_proposal, make_user, author):
    """Staff of Almaty and a factory for proposals of a voting cycle."""
    staff_id, _ = make_user(role="staff", territory="750000000")

    def proposals(cycle_id, *costs):
        return [make_proposal(cycle_id, author_id=author, cost=cost) for cost in costs]

    return staff_id, proposals


def test_nine_is_not_enough_ten_is(app, make_cycle, closing):
    staff_id, proposals = closing
    cycle_id = make_cycle(phase="voting", budget=100_000_000)
    cheap, dear = proposals(cycle_id, 1_000, 20_000_000)
    people = residents(app, "751410000", 10)
    vote(app, cycle_id, people[:9], [cheap])
    vote(app, cycle_id, people[9:], [cheap, dear])
    close(app, cycle_id, staff_id)
    got = results(app, cycle_id)
    assert got[cheap] == (10, 10, True, True)
    assert got[dear] == (1, 1, False, False)
    assert got == independent_recount(app, cycle_id)


def test_exactly_nine_voters_never_selected_even_if_cheap(app, make_cycle, closing):
    staff_id, proposals = closing
    cycle_id = make_cycle(phase="voting", budget=50_000_000)
    nine, ten, unvoted = proposals(cycle_id, 1, 40_000_000, 5)
    people = residents(app, "751410000", 10)
    vote(app, cycle_id, people[:9], [nine, ten])
    vote(app, cycle_id, people[9:], [ten])
    close(app, cycle_id, staff_id)
    got = results(app, cycle_id)
    assert got[nine] == (9, 9, False, False)  # cheap, fits, plenty of budget left: still not selected
    assert got[ten] == (10, 10, True, True)
    assert got[unvoted] == (0, 0, False, False)
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        assert cycle.phase == "closed" and cycle.voters_count == 10 and cycle.counted_at is not None


def test_votes_from_outside_the_territory_count_as_votes_not_as_voters_from_it(app, make_cycle, closing):
    staff_id, proposals = closing
    cycle_id = make_cycle(phase="voting")
    partly_outside, = proposals(cycle_id, 1_000_000)
    inside = residents(app, "751410000", 9)
    moved = residents(app, "751410000", 3)
    vote(app, cycle_id, inside, [partly_outside])
    vote(app, cycle_id, moved, [partly_outside], territory_code="710000000")  # homes were in Astana
    close(app, cycle_id, staff_id)
    assert results(app, cycle_id)[partly_outside] == (12, 9, False, False)
    assert results(app, cycle_id) == independent_recount(app, cycle_id)


def test_rural_district_counts_villagers_as_its_own(app, make_cycle, make_proposal, make_user, author):
    staff_id, _ = make_user(role="staff", territory="195231000")
    cycle_id = make_cycle(territory="195231000", phase="voting")
    p = make_proposal(cycle_id, author_id=author)
    vote(app, cycle_id, residents(app, "195231100", 6), [p])
    vote(app, cycle_id, residents(app, "195231000", 4), [p])
    close(app, cycle_id, staff_id)
    assert results(app, cycle_id)[p] == (10, 10, True, True)


def test_cycle_minimum_of_fifty(app, make_cycle, closing):
    staff_id, proposals = closing
    cycle_id = make_cycle(phase="voting", min_voters=50)
    a, b = proposals(cycle_id, 1_000_000, 2_000_000)
    people = residents(app, "751410000", 50)
    vote(app, cycle_id, people[:49], [a, b])
    vote(app, cycle_id, people[49:], [b])
    close(app, cycle_id, staff_id)
    got = results(app, cycle_id)
    assert got[a] == (49, 49, False, False) and got[b] == (50, 50, True, True)


def test_ties_are_broken_the_same_way_every_time(app, make_cycle, closing):
    staff_id, proposals = closing
    cycle_id = make_cycle(phase="voting", budget=10_000_000)
    # Equal votes; only one fits. Lower cost wins; at equal cost the lower id (as text).
    dear, cheap, twin_a, twin_b = proposals(cycle_id, 10_000_000, 9_000_000, 9_000_000, 9_000_000)
    vote(app, cycle_id, residents(app, "751410000", 12), [dear, cheap, twin_a, twin_b])
    close(app, cycle_id, staff_id)
    first = results(app, cycle_id)
    assert [pid for pid, row in first.items() if row[3]] == [min((cheap, twin_a, twin_b), key=str)]
    assert first == independent_recount(app, cycle_id)
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        for _ in range(3):
            counting.count_cycle(cycle)
            db.session.commit()
        assert counting.recount(cycle) == []
    assert results(app, cycle_id) == first


def test_stored_count_matches_an_independent_recount(app, make_cycle, closing):
    staff_id, proposals = closing
    cycle_id = make_cycle(phase="voting", budget=60_000_000)
    ps = proposals(cycle_id, 25_000_000, 20_000_000, 15_000_000, 10_000_000, 5_000_000, 30_000_000)
    people = residents(app, "751410000", 40)
    outsiders = residents(app, "710000000", 5)
    import random

    rng = random.Random(7)
    with app.app_context():
        for voter in people:
            write_ballot(voter, cycle_id, rng.sample(ps, rng.randint(1, 3)))
        for voter in outsiders:
            write_ballot(voter, cycle_id, rng.sample(ps, 2), territory_code="710000000")
        db.session.commit()
    close(app, cycle_id, staff_id)
    assert results(app, cycle_id) == independent_recount(app, cycle_id)


def test_mes_never_selects_an_ineligible_proposal(app, make_cycle, closing):
    staff_id, proposals = closing
    cycle_id = make_cycle(phase="voting", rule="mes", budget=30_000_000)
    popular, niche, eligible_small = proposals(cycle_id, 20_000_000, 100, 5_000_000)
    people = residents(app, "751410000", 20)
    vote(app, cycle_id, people[:11], [popular, eligible_small])
    vote(app, cycle_id, people[11:], [niche])  # 9 voters: the whole group backs one cheap project
    close(app, cycle_id, staff_id)
    got = results(app, cycle_id)
    assert got[niche] == (9, 9, False, False)
    assert got[popular][2:] == (True, True) and got[eligible_small][2] is True
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        assert counting.recount(cycle) == []
        ranks = {pid: db.session.get(ProposalResult, pid).rank for pid in (popular, eligible_small)}
        assert sorted(ranks.values()) == [1, 2]
        assert db.session.get(ProposalResult, popular).price_per_voter is not None


def test_recount_names_tampering_and_the_cli_fails(app, runner, make_cycle, closing):
    staff_id, proposals = closing
    cycle_id = make_cycle(phase="voting")
    p, = proposals(cycle_id, 1_000_000)
    vote(app, cycle_id, residents(app, "751410000", 10), [p])
    close(app, cycle_id, staff_id)
    ok = runner.invoke(args=["cycles", "recount", str(cycle_id)])
    assert ok.exit_code == 0 and "matches" in ok.output
    with app.app_context():
        db.session.get(ProposalResult, p).votes = 11
        db.session.commit()
    bad = runner.invoke(args=["cycles", "recount", str(cycle_id)])
    assert bad.exit_code != 0
    assert f"proposal {p}: votes stored 11, recounted 10" in bad.output
    assert runner.invoke(args=["cycles", "recount", "999999"]).exit_code != 0


def test_counts_are_visible_to_staff_from_closed_and_to_everyone_once_published(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="voting")
    staff_id, _ = make_user(role="staff", territory="750000000")
    other_staff, _ = make_user(role="staff", territory="710000000")
    resident = residents(app, "751410000", 1)[0]
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        staff, other, person = (db.session.get(User, i) for i in (staff_id, other_staff, resident))
        seen = {}
        for phase in ("voting", "closed", "published"):
            cycle.phase = phase
            seen[phase] = tuple(access.counts_visible_to(u, cycle) for u in (staff, other, person, None))
        assert seen == {"voting": (False, False, False, False), "closed": (True, False, False, False),
                        "published": (True, True, True, True)}


def test_turnout_page_for_staff_only_from_closed(app, client, auth, make_cycle, make_user, closing):
    staff_id, proposals = closing
    _, staff_iin = make_user(role="staff", territory="750000000")
    cycle_id = make_cycle(phase="voting")
    p, = proposals(cycle_id, 1_000_000)
    vote(app, cycle_id, residents(app, "751410000", 7), [p])
    vote(app, cycle_id, residents(app, "751710000", 3), [p])
    with app.app_context():
        unit("751410000").population = 1000
        db.session.commit()
    auth.login(staff_iin)
    assert client.get(f"/en/staff/cycles/{cycle_id}/turnout").status_code == 409  # hidden while voting
    close(app, cycle_id, staff_id)
    page = client.get(f"/en/staff/cycles/{cycle_id}/turnout")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "751410000" in text and "751710000" in text and "0.7%" in text  # Babel percent for the locale


def test_closing_waits_for_a_ballot_in_flight_and_counts_it(app, make_cycle, closing):
    import threading
    import time

    from app.domain import voting

    staff_id, proposals = closing
    cycle_id = make_cycle(phase="voting")
    p, = proposals(cycle_id, 1_000_000)
    voter = residents(app, "751410000", 1)[0]
    flushed, may_commit, closed = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def ballot_in_flight():
        with app.app_context():
            try:
                voting.cast_ballot(db.session.get(User, voter), db.session.get(Cycle, cycle_id), [p])
                flushed.set()
                may_commit.wait(10)
                db.session.commit()
            except Exception as error:  # noqa: BLE001  (reported below)
                errors.append(error)
                flushed.set()
            finally:
                db.session.remove()

    def close_cycle():
        flushed.wait(10)
        try:
            close(app, cycle_id, staff_id)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        closed.set()

    threads = [threading.Thread(target=ballot_in_flight), threading.Thread(target=close_cycle)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    assert not closed.is_set()  # the close waits for the ballot's transaction
    may_commit.set()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert results(app, cycle_id)[p][0] == 1


def test_no_ballot_after_close(app, make_cycle, closing):
    from app.domain import voting
    from app.domain.errors import Conflict

    staff_id, proposals = closing
    cycle_id = make_cycle(phase="voting")
    p, = proposals(cycle_id, 1_000_000)
    voter = residents(app, "751410000", 1)[0]
    with app.app_context():
        stale = db.session.get(Cycle, cycle_id)  # loaded while voting was open
        close(app, cycle_id, staff_id)
        with pytest.raises(Conflict):
            voting.cast_ballot(db.session.get(User, voter), stale, [p])
