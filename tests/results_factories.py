"""Test data for the results area: a counted, closed cycle with ballots, written directly.

Voters are inserted as rows (no password hashing) so that a cycle with 25 voters costs
milliseconds. The stored count follows greedy with the ten-voter minimum:

    A  8 000 000 ₸  25 voters  eligible, selected (rank 1)
    B  7 000 000 ₸  15 voters  eligible, selected (rank 2)
    C  9 000 000 ₸  12 voters  eligible, not selected (does not fit: 15 M + 9 M > 20 M)
    D  3 000 000 ₸   9 voters  below the minimum (fits, but is not eligible)
"""
import secrets
from datetime import datetime, timezone

import pytest

from app.extensions import db

PLAN = {"A": (8_000_000, 25, True, 1), "B": (7_000_000, 15, True, 2),
        "C": (9_000_000, 12, False, None), "D": (3_000_000, 9, False, None)}
TITLES = {"A": "Сквер на Абая", "B": "Освещение двора", "C": "Спортивная площадка",
          "D": "Тротуар у школы"}


def ballot_choices(k):
    """The projects voter k approves (at most three)."""
    chosen = ["A"]
    if k < 15:
        chosen.append("B")
    if 10 <= k < 22:
        chosen.append("C")
    if k < 9:
        chosen.append("D")
    return chosen


@pytest.fixture
def counted_cycle(app, make_cycle, make_proposal, make_user):
    """counted_cycle(territory="750000000", phase="closed", rule="greedy") -> dict of ids."""
    from app.models import (Ballot, BallotItem, Cycle, ProposalResult, Territory, User)

    def factory(territory="750000000", phase="closed", rule="greedy", author_locale="ru",
                author_email="author@example.kz", **fields):
        author_id, _ = make_user(territory="751410000" if territory == "750000000" else territory,
                                 email=author_email, locale=author_locale)
        values = dict(budget=20_000_000, max_project_cost=10_000_000, rule=rule, min_voters=10,
                      voting_open=datetime(2026, 9, 1, 4, tzinfo=timezone.utc),
                      voting_close=datetime(2026, 9, 30, 15, tzinfo=timezone.utc))
        values.update(fields)
        cycle_id = make_cycle(territory=territory, phase=phase, **values)
        proposals = {key: make_proposal(cycle_id, author_id=author_id, cost=cost, title=TITLES[key])
                     for key, (cost, *_rest) in PLAN.items()}
        with app.app_context():
            cycle = db.session.get(Cycle, cycle_id)
            home = cycle.territory
            for k in range(25):
                voter = User(iin_hmac=secrets.token_hex(32), full_name=f"Voter {k}", territory=home,
                             role="resident", password_hash="!", locale="kk")
                db.session.add(voter)
                db.session.flush()
                ballot = Ballot(cycle=cycle, voter=voter, territory=home,
                                receipt=secrets.token_hex(16))
                ballot.items = [BallotItem(proposal_id=proposals[key]) for key in ballot_choices(k)]
                db.session.add(ballot)
            for key, (cost, votes, selected, rank) in PLAN.items():
                db.session.add(ProposalResult(proposal_id=proposals[key], cycle_id=cycle_id,
                                              votes=votes, voters_in_territory=votes,
                                              eligible=votes >= 10, selected=selected, rank=rank))
            cycle.voters_count = 25
            cycle.counted_at = datetime(2026, 10, 1, tzinfo=timezone.utc)
            db.session.commit()
        return {"cycle": cycle_id, "proposals": proposals, "author": author_id}

    return factory


@pytest.fixture
def staff(make_user):
    """(id, iin) of Almaty city akimat staff."""
    return make_user(role="staff", territory="750000000")


@pytest.fixture
def admin(make_user):
    return make_user(role="admin", territory="750000000")


JUSTIFICATIONS = {
    "A": ("approved", {"kk": "Жоба іске асыруға мақұлданды.", "ru": "Проект одобрен к реализации.",
                       "en": "Approved for implementation."}),
    "B": ("approved", {"ru": "Одобрено: средства предусмотрены в бюджете."}),
    "C": ("not_approved", {"ru": "Не вошло в бюджет по итогам голосования.",
                           "en": "Did not fit the budget after the vote."}),
    "D": ("not_approved", {"kk": "Оннан аз адам дауыс берді.", "ru": "Менее десяти проголосовавших."}),
}


def conclude_all(app, ids, staff_id, skip=()):
    from app.domain.conclusions import record_conclusion
    from app.models import Proposal, User

    with app.app_context():
        user = db.session.get(User, staff_id)
        for key, (decision, texts) in JUSTIFICATIONS.items():
            if key in skip:
                continue
            record_conclusion(user, db.session.get(Proposal, ids["proposals"][key]), decision, texts)
        db.session.commit()


def publish(app, ids, staff_id):
    from app.domain.lifecycle import publish as do_publish
    from app.models import Cycle, User

    with app.app_context():
        do_publish(db.session.get(Cycle, ids["cycle"]), db.session.get(User, staff_id))
        db.session.commit()


@pytest.fixture
def published_cycle(app, counted_cycle, staff):
    def factory(publisher=None, **kwargs):
        ids = counted_cycle(**kwargs)
        conclude_all(app, ids, publisher or staff[0])
        publish(app, ids, publisher or staff[0])
        return ids

    return factory
