"""Demo ballots: residents of a cycle's territory casting realistic ballots.

Popularity is skewed (a few favourites, a long tail) so that some proposals stay below the
ten-voter minimum. Deterministic and idempotent: the same cycle gets the same residents and
ballots, and running it again adds nothing."""
import random
from datetime import date, datetime, timezone

from flask import current_app
from sqlalchemy import select

from app.domain import accounts, voting
from app.domain.iin import make_iin
from app.extensions import db
from app.models import BallotStyle, Cycle, Territory

FIRST_NAMES = ["Айгерім", "Нұрлан", "Дана", "Ерлан", "Әсел", "Бауыржан", "Мадина", "Тимур",
               "Жанар", "Серік", "Ольга", "Андрей", "Гүлнар", "Арман", "Камила", "Дмитрий"]
LAST_NAMES = ["Ахметов", "Серікбаев", "Иванов", "Нұрланов", "Қасымов", "Петров", "Жұмабаев",
              "Оспанов", "Ким", "Садықов", "Әбенов", "Смағұлов"]
DEMO_PASSWORD = "demo-password"
SERIAL_BASE = 5000  # demo_iin() in app.demo uses small serials; ours stay clear of them


def _resident(n, cycle, units, rng):
    iin = make_iin(date(1960 + n % 40, 1 + n % 12, 1 + n % 28), serial=f"{(SERIAL_BASE + n) % 10000:04d}")
    key = current_app.config["IIN_HMAC_KEY"]
    user = accounts.find_user_by_iin(iin, key)
    if user is None:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        user = accounts.register_resident(iin=iin, full_name=name, territory_code=rng.choice(units).code,
                                          password=DEMO_PASSWORD, iin_key=key)
    return user


def _choice(cycle, proposals, weights, rng):
    style = cycle.ballot_style
    if style == BallotStyle.SINGLE.value:
        return [rng.choices(proposals, weights)[0].id]
    if style == BallotStyle.APPROVAL.value:
        k = rng.randint(1, voting.max_choices(cycle))
        picked = []
        while len(picked) < min(k, len(proposals)):
            candidate = rng.choices(proposals, weights)[0]
            if candidate.id not in picked:
                picked.append(candidate.id)
        return picked
    picked, total = [], 0  # knapsack: add favourites while they fit
    for candidate in sorted(proposals, key=lambda p: -weights[proposals.index(p)] * rng.random()):
        if total + candidate.cost <= cycle.budget and rng.random() < 0.6:
            picked.append(candidate.id)
            total += candidate.cost
    return picked or [min(proposals, key=lambda p: p.cost).id]


def _moment(cycle, n, n_voters, now):
    """When the n-th demo voter voted: spread evenly from the opening of the vote until now
    (or its close, for a round that has ended)."""
    start = cycle.voting_open or now
    end = min(cycle.voting_close or now, now)
    if end <= start:
        return now
    return start + (end - start) * (n + 1) / (n_voters + 1)


def seed_ballots(cycle_id, n_voters, now=None):
    """Create up to n_voters demo residents inside the cycle's territory and cast their ballots
    through cast_ballot, dated inside the voting window. The cycle must be in `voting` with
    admitted proposals. Returns the number of ballots cast by this call."""
    now = now or datetime.now(timezone.utc)
    cycle = db.session.get(Cycle, cycle_id)
    proposals = voting.ballot_proposals(cycle)
    if cycle is None or not proposals:
        return 0
    rng = random.Random(cycle_id)
    units = db.session.scalars(select(Territory).where(Territory.path.startswith(cycle.territory.path))
                               .order_by(Territory.path)).all()
    # Zipf-like popularity: the last proposals get a handful of votes, below the minimum.
    weights = [1.0 / (rank + 1) ** 1.3 for rank in range(len(proposals))]
    cast = 0
    for n in range(n_voters):
        voter = _resident(cycle_id * 1000 + n, cycle, units, rng)
        if voting.get_ballot(voter, cycle) is None:
            voting.cast_ballot(voter, cycle, _choice(cycle, proposals, weights, rng),
                               now=_moment(cycle, n, n_voters, now))
            cast += 1
    db.session.commit()
    return cast
