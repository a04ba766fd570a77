"""Anyone recounts a published cycle from its own public files and gets the stored count:
winners and eligibility, with Qatysu's counting program and with pabutools, and the seal of its
ballots checks against the database (`flask cycles verify`)."""
import json
import subprocess
import sys

import pytest
from sqlalchemy import select

from app.domain import lifecycle, open_data
from app.extensions import db
from app.models import BallotSeal, Cycle, Phase, ProposalResult, User
from app.tally import parse
from tests.helpers import ROOT, residents, write_ballot


def stored_count(app, cycle_id):
    with app.app_context():
        rows = db.session.scalars(select(ProposalResult).where(ProposalResult.cycle_id == cycle_id)).all()
        return ({str(r.proposal_id) for r in rows if r.selected},
                {str(r.proposal_id): r.eligible for r in rows},
                {str(r.proposal_id): r.votes for r in rows})


def cli_count(tmp_path, text, *args):
    path = tmp_path / "ballots.pb"
    path.write_text(text, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "app.tally", str(path), "--json", *args], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    result = json.loads(run.stdout)
    return (set(result["winners"]), {p["id"]: p["eligible"] for p in result["projects"]},
            {p["id"]: p["votes"] for p in result["projects"]})


def pabutools_count(text):
    """pabutools 1.2.3 on the same file: eligibility counted from the voters the file marks as
    counting for the minimum (META threshold_scope), then the file's rule over eligible projects
    only (an ineligible project is never funded, so leaving it out changes no rule's outcome)."""
    from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance
    from pabutools.election.pabulib import parse_pabulib_from_string
    from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    instance, profile = parse_pabulib_from_string(text)
    meta = instance.meta
    threshold, scope = int(meta["min_project_score_threshold"]), meta["threshold_scope"]
    inside = {p: 0 for p in instance}
    votes = {p: 0 for p in instance}
    for ballot in profile:
        for p in ballot:
            votes[p] += 1
            inside[p] += ballot.meta.get(scope) == "1"
    eligible = {p.name: inside[p] >= threshold for p in instance}
    kept = Instance([p for p in instance if eligible[p.name]], budget_limit=instance.budget_limit)
    ballots = ApprovalProfile([ApprovalBallot([p for p in b if eligible[p.name]]) for b in profile],
                              instance=kept)
    tie = TieBreakingRule(lambda inst, prof, p: (p.cost, -votes[p], p.name))
    if meta["rule"] == "greedy":
        chosen = greedy_utilitarian_welfare(kept, ballots, sat_class=Cost_Sat, tie_breaking=tie)
    else:
        chosen = method_of_equal_shares(kept, ballots, sat_class=Cost_Sat, tie_breaking=tie,
                                        voter_budget_increment=1)
    return {p.name for p in chosen}, eligible, {p.name: v for p, v in votes.items()}


def test_every_published_demo_cycle_recounts_from_its_public_files(app, client, runner, tmp_path):
    pytest.importorskip("pabutools")
    seeded = runner.invoke(args=["demo", "seed"])
    assert seeded.exit_code == 0, seeded.output
    with app.app_context():
        published = db.session.scalars(select(Cycle.id).where(Cycle.phase == Phase.PUBLISHED.value)).all()
        sealed_phases = [c.id for c in db.session.scalars(select(Cycle).where(
            Cycle.phase.in_([Phase.CLOSED.value, Phase.PUBLISHED.value])))]
    assert published, "the demo has a published cycle"
    for cycle_id in published:
        text = client.get(f"/cycles/{cycle_id}/ballots.pb").get_data(as_text=True)
        stored = stored_count(app, cycle_id)
        assert stored[0], "the demo's count selects projects"
        assert cli_count(tmp_path, text) == stored, cycle_id  # the file's own recipe
        election = parse(text)
        rule = {"greedy": "greedy", "equalshares/add1": "mes"}[election.meta["rule"]]
        assert cli_count(tmp_path, text, "--rule", rule, "--threshold",
                         election.meta["min_project_score_threshold"]) == stored
        assert pabutools_count(text) == stored, cycle_id
        # The published seal covers every ballot in the file, and its root is in the checksum.
        seal = client.get(f"/api/v1/cycles/{cycle_id}/seal").get_json()
        document = client.get(f"/api/v1/cycles/{cycle_id}/results").get_json()
        assert seal["leaves"] == len(election.ballots) == document["voters"]
        assert document["seal"]["root"] == seal["root"]
    for cycle_id in sealed_phases:
        with app.app_context():
            assert db.session.get(BallotSeal, cycle_id) is not None
        checked = runner.invoke(args=["cycles", "verify", str(cycle_id)])
        assert checked.exit_code == 0, checked.output


def test_voters_from_outside_count_as_votes_but_not_for_the_minimum_in_the_recount(
        app, make_cycle, make_proposal, make_user, tmp_path):
    """A voter who has since moved away keeps their vote, but not their place among the ten:
    the recount of ballots.pb applies the same rule as the count (the issue this fixes: the
    old recipe applied the threshold to every vote and found the proposal eligible)."""
    staff_id, _ = make_user(role="staff", territory="750000000")
    author_id, _ = make_user(territory="751410000")
    cycle_id = make_cycle(phase="voting", budget=10_000_000)
    short, full = (make_proposal(cycle_id, author_id=author_id, cost=cost) for cost in (2_000_000, 3_000_000))
    inside, moved, one_more = (residents(app, "751410000", n) for n in (9, 3, 1))
    with app.app_context():
        for voter in inside:
            write_ballot(voter, cycle_id, [short, full])
        for voter in moved:
            write_ballot(voter, cycle_id, [short, full], territory_code="710000000")  # homes in Astana
        for voter in one_more:
            write_ballot(voter, cycle_id, [full])
        db.session.commit()
        cycle = db.session.get(Cycle, cycle_id)
        lifecycle.advance(cycle, db.session.get(User, staff_id), "closed")
        db.session.commit()
        text = open_data.ballots_pb(db.session.get(Cycle, cycle_id), "key")
    stored = stored_count(app, cycle_id)
    assert stored == ({str(full)}, {str(short): False, str(full): True}, {str(short): 12, str(full): 13})
    assert "threshold_scope;in_territory" in text
    assert cli_count(tmp_path, text) == stored
    assert pabutools_count(text) == stored
    # Without the column's rule, 12 votes would have passed the minimum of ten.
    unscoped = text.replace("threshold_scope;in_territory\n", "")
    assert cli_count(tmp_path, unscoped)[1][str(short)] is True
