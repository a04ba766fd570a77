"""Demonstration data: a realistic slice of Kazakhstan, accounts for every role, and (as the
product grows) cycles in every phase. Idempotent: running it twice changes nothing."""
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.domain import accounts
from app.domain.iin import make_iin
from app.domain.territories import import_territories
from app.extensions import db
from app.models import Territory

KATO_DEMO = Path(__file__).with_name("kato_demo.csv")
DEMO_PASSWORD = "demo-password"
# Rough resident counts for a few units, so turnout shows as a share of population.
POPULATION = {"750000000": 2_300_000, "751410000": 380_000, "751710000": 230_000,
              "710000000": 1_450_000, "195200000": 330_000, "195231000": 14_000}


def demo_iin(n, year=1985):
    return make_iin(date(year, 1 + n % 12, 1 + n % 27), serial=f"{n:04d}")


def _account(n, name, territory_code, role="resident"):
    iin_key = current_app.config["IIN_HMAC_KEY"]
    iin = demo_iin(n)
    existing = accounts.find_user_by_iin(iin, iin_key)
    if existing is not None:
        return existing, iin
    if role == "resident":
        user = accounts.register_resident(iin=iin, full_name=name, territory_code=territory_code,
                                          password=DEMO_PASSWORD, iin_key=iin_key)
    else:
        user = accounts.create_staff(iin=iin, full_name=name, territory_code=territory_code,
                                     password=DEMO_PASSWORD, iin_key=iin_key, admin=role == "admin")
        # Staff are emailed when a cycle needs them (the console mail backend prints it).
        user.email, user.locale = f"staff{n}@demo.qatysu.kz", "ru"
    return user, iin


def _confirm_demo_phone(user, number):
    """A resident whose phone is confirmed, as the profile page does it (code sent, then typed)."""
    from app.domain import phone

    if user.confirmed_phone is None:
        key = current_app.config["SECRET_KEY"]
        _, code = phone.start_confirmation(user, number, key)
        phone.confirm(user, code, key)
        user.email = user.email or "dana@demo.qatysu.kz"


def seed():
    created, updated = import_territories(KATO_DEMO.read_text(encoding="utf-8"))
    for code, population in POPULATION.items():
        unit = db.session.scalar(select(Territory).where(Territory.code == code))
        if unit is not None:
            unit.population = population
    lines = [f"territories: {created} created, {updated} updated"]
    people = [
        (1, "Админ Әкімшілік", "750000000", "admin"),
        (2, "Айгүл Сапарова", "750000000", "staff"),   # Almaty city akimat
        (3, "Ержан Тоқтаров", "195231000", "staff"),   # Aytey rural district
        (4, "Сәуле Жақсыбекова", "195231000", "staff"),  # Aytey: on duty at the polling point
        (5, "Бақыт Омаров", "195231000", "staff"),
        (10, "Дана Ахметова", "751410000", "resident"),
        (11, "Иван Петров", "751710000", "resident"),
        (12, "Асель Нурланова", "195231100", "resident"),
    ]
    lines.append(f"accounts (password for all: {DEMO_PASSWORD}):")
    for n, name, code, role in people:
        user, iin = _account(n, name, code, role)
        # The demo's own made-up IINs are printed so a newcomer can log in; real ones never are.
        lines.append(f"  {role:9} {name:20} IIN {iin}  ({user.territory.name_en})")
        if n == 10:
            _confirm_demo_phone(user, "+77010000010")
    db.session.commit()

    # Imported here: these modules import _account from this one.
    from app.demo.cycles import seed_cycles
    from app.demo.paper import seed_paper
    from app.demo.showcase import seed_published_cycle
    from app.demo.voting import seed_ballots

    taking_proposals, voting_cycle = seed_cycles()
    cast = seed_ballots(voting_cycle, 36)
    on_paper = seed_paper(voting_cycle)
    published = seed_published_cycle()
    lines += [
        f"cycle {taking_proposals}: Almaty, taking proposals",
        f"cycle {voting_cycle}: Aytey rural district, voting ({cast} demo ballots cast now, "
        f"{on_paper} paper ballots entered at its polling point)",
        f"cycle {published}: Bostandyk district, published with conclusions",
    ]
    return lines
