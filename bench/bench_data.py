"""The voting cycle both load benchmarks vote in (bench/web.py, bench/vote_load.py): Almaty, an
approval ballot of up to 3, admitted proposals, and residents spread over Almaty's districts.
Run inside the app's context, after the territories exist; nothing is committed here."""
from datetime import date

from sqlalchemy import select

from app.domain import accounts
from app.domain.iin import iin_digest, make_iin
from app.extensions import db
from app.models import Cycle, Proposal, Territory, User


def voting_cycle(key, password, voters, proposals, first_birth_year, years, first_serial, serials):
    """Returns (cycle, users, iins, proposal ids). Each voter's IIN is made from a birth date in
    `years` years from `first_birth_year` and a serial in `serials` from `first_serial`, so two
    benchmarks (or two runs) can keep their residents apart."""
    units = db.session.scalars(select(Territory).where(Territory.path.startswith("750000000/"))).all()
    almaty = next(u for u in units if u.code == "750000000")
    password_hash = accounts.hash_password(password)
    iins, users = [], []
    for n in range(voters):
        iin = make_iin(date(first_birth_year + n % years, 1 + n % 12, 1 + n % 28),
                       serial=f"{first_serial + n % serials:04d}")
        iins.append(iin)
        users.append(User(iin_hmac=iin_digest(iin, key), full_name=f"Bench voter {n}",
                          territory=units[n % len(units)], role="resident", password_hash=password_hash))
    db.session.add_all(users)
    cycle = Cycle(territory=almaty, year=2026, title_en="Bench PB", title_ru="Бенчмарк БНУ",
                  title_kk="Бенчмарк ХҚБ", budget=100_000_000, max_project_cost=30_000_000,
                  ballot_style="approval", max_choices=3, rule="greedy", min_voters=10, phase="voting")
    db.session.add(cycle)
    db.session.flush()
    ids = []
    for n in range(proposals):
        proposal = Proposal(cycle=cycle, author=users[0], territory=users[0].territory, status="admitted",
                            cost=1_000_000 * (n + 1), title=f"Project {n}", description="", category="parks")
        db.session.add(proposal)
        db.session.flush()
        ids.append(proposal.id)
    return cycle, users, iins, ids
