"""The count at close, computed by the database (counting.compute_count), against the count as
first written (counting.compute_count_reference) on random cycles: same figures, same winners,
same prices, for both rules and every ballot style's shape of ballots."""
import random
import secrets

import pytest
from sqlalchemy import insert, select

from app.domain import counting
from app.extensions import db
from app.models import Ballot, BallotItem, Cycle, Territory, User
from app.tally import Ballot as EngineBallot
from app.tally import Election, Project, count


def _unit_ids(codes):
    return [db.session.scalar(select(Territory.id).where(Territory.code == code)) for code in codes]


def _random_cycle(app, make_cycle, make_proposal, seed, proposals, voters, style, rule):
    """A voting cycle with random costs and ballots written as rows: voters at home in the
    territory, in a unit inside it and outside it (Astana); some ballots empty, some listing a
    proposal later rejected (no longer on the ballot)."""
    rng = random.Random(seed)
    cycle_id = make_cycle(phase="closed", rule=rule, ballot_style=style, budget=rng.choice([5, 20, 60]) * 1_000_000,
                          min_voters=rng.choice([10, 12, 20]))
    author = None
    ids = []
    for k in range(proposals):
        status = "rejected" if k == proposals - 1 else "admitted"
        ids.append(make_proposal(cycle_id, author_id=author, status=status,
                                 cost=rng.choice([1, 2, 3, 5, 8]) * 1_000_000))
    with app.app_context():
        inside, nested, outside = _unit_ids(["750000000", "751410000", "710000000"])
        users = [{"iin_hmac": secrets.token_hex(32), "full_name": f"V{i}", "territory_id": inside,
                  "role": "resident", "password_hash": "!"} for i in range(voters)]
        db.session.execute(insert(User), users)
        user_ids = db.session.scalars(select(User.id).order_by(User.id.desc()).limit(voters)).all()
        popular = rng.sample(ids, min(2, len(ids)))  # some proposals far above the ten-voter line
        ballots, items = [], []
        for number, user_id in enumerate(user_ids):
            home = rng.choices([inside, nested, outside], weights=[3, 5, 2])[0]
            ballots.append({"id": 10_000_000 + seed * 10_000 + number, "cycle_id": cycle_id, "voter_id": user_id,
                            "territory_id": home, "receipt": secrets.token_hex(16)})
            if rng.random() < 0.05:
                continue  # an empty ballot: a voter all the same
            if style == "single":
                chosen = [rng.choice(popular if rng.random() < 0.6 else ids)]
            else:
                size = rng.randint(1, 3 if style == "approval" else 6)
                chosen = rng.sample(ids, min(size, len(ids)))
                if rng.random() < 0.5:
                    chosen = list(set(chosen) | {rng.choice(popular)})
            items += [{"ballot_id": ballots[-1]["id"], "proposal_id": pid} for pid in chosen]
        db.session.execute(insert(Ballot), ballots)
        if items:
            db.session.execute(insert(BallotItem), items)
        db.session.commit()
    return cycle_id


def _both(app, cycle_id):
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        fast, reference = counting.compute_count(cycle), counting.compute_count_reference(cycle)
        return ((fast.voters, [(p.proposal_id, p.cost) + p.as_tuple() for p in fast.proposals]),
                (reference.voters, [(p.proposal_id, p.cost) + p.as_tuple() for p in reference.proposals]))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_fast_count_equals_the_reference_on_random_cycles(app, make_cycle, make_proposal, make_user, seed, rule):
    style = ["single", "approval", "knapsack"][seed % 3]
    cycle_id = _random_cycle(app, make_cycle, make_proposal, seed, proposals=random.Random(seed).randint(3, 9),
                             voters=random.Random(seed).randint(20, 160), style=style, rule=rule)
    fast, reference = _both(app, cycle_id)
    assert fast == reference
    voters, proposals = fast
    assert voters > 0 and any(p[4] for p in proposals)  # the ten-voter line is met by some: not a trivial cycle


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_more_proposals_than_one_bit_mask_holds(app, make_cycle, make_proposal, make_user, rule):
    """70 proposals: two masks per ballot (MASK_BITS = 62), bits at both ends of each."""
    cycle_id = _random_cycle(app, make_cycle, make_proposal, 7, proposals=70, voters=120, style="knapsack", rule=rule)
    fast, reference = _both(app, cycle_id)
    assert fast == reference
    assert sum(p[2] for p in fast[1]) > 120  # votes spread over many proposals


def test_a_cycle_without_ballots(app, make_cycle, make_proposal, make_user):
    cycle_id = make_cycle(phase="closed")
    make_proposal(cycle_id)
    fast, reference = _both(app, cycle_id)
    assert fast == reference and fast[0] == 0


def test_listed_decodes_both_masks():
    ids = list(range(100, 170))
    assert counting._listed((1 | 1 << 61, 1 << 7), ids) == [100, 161, 169]


@pytest.mark.parametrize("seed", range(20))
def test_weighted_ballots_count_as_the_same_ballots_one_by_one(seed):
    """The engine's weights: a ballot cast by w voters counts as w copies of it (both rules)."""
    rng = random.Random(seed)
    projects = [Project(id=str(k), cost=rng.choice([1, 2, 3, 5]) * 100, eligible=rng.random() > 0.2)
                for k in range(rng.randint(2, 8))]
    distinct = [(tuple(sorted(rng.sample([p.id for p in projects], rng.randint(0, len(projects))))),
                 rng.randint(1, 9)) for _ in range(rng.randint(1, 12))]
    budget = rng.choice([300, 700, 1000])
    one_by_one = Election(projects=projects, ballots=[list(ids) for ids, w in distinct for _ in range(w)],
                          budget=budget)
    weighted = Election(projects=projects, ballots=[EngineBallot(projects=list(ids), weight=w) for ids, w in distinct],
                        budget=budget)
    for rule, options in (("greedy", {}), ("mes", {}), ("mes", {"engine": "reference"})):
        expected, got = count(one_by_one, rule, **options), count(weighted, rule, **options)
        assert got.winners == expected.winners
        assert {k: (v.votes, v.price_per_voter) for k, v in got.projects.items()} == \
               {k: (v.votes, v.price_per_voter) for k, v in expected.projects.items()}


def test_a_weight_must_be_a_positive_whole_number():
    with pytest.raises(ValueError):
        EngineBallot(projects=["1"], weight=0)
