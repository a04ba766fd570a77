"""Demo paper ballots: a polling point in the Aytey rural district akimat, with elderly residents
who voted on paper, each ballot entered by two staff members, and one ballot whose entries
differ, waiting in the resolution queue for a third staff member (Ержан Тоқтаров).

Idempotent: a cycle that already has the point is left as it is."""
from datetime import date, datetime, timedelta, timezone

from flask import current_app

from app.demo import _account
from app.domain import paper, voting
from app.domain.iin import make_iin
from app.extensions import db
from app.models import Cycle

PLACE = {"place_kk": "Әйтей ауылдық округі әкімінің аппараты, Әйтей а., Абай к-сі, 12",
         "place_ru": "Аппарат акима Айтейского сельского округа, с. Айтей, ул. Абая, 12",
         "place_en": "Aytey rural district akim's office, 12 Abay St, Aytey village"}
# (name, home KATO code, year of birth, number of the proposal on the paper ballot)
PAPER_VOTERS = [
    ("Зәуре Әбдіқадырова", "195231100", 1948, 1), ("Мұхтар Сейітқалиев", "195231300", 1951, 2),
    ("Валентина Ким", "195231100", 1946, 1), ("Тұрсын Жұмағалиев", "195231400", 1953, 4),
    ("Күләш Омарова", "195231700", 1950, 1),
]
MISMATCHED = ("Бақытжан Ерғалиев", "195231100", 1949)  # entered as No. 2, then as No. 3
SERIAL_BASE = 8000


def seed_paper(cycle_id, now=None):
    """Open the demo polling point and enter the demo paper ballots; returns how many were stored."""
    now = now or datetime.now(timezone.utc)
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None or paper.points(cycle) or not voting.ballot_proposals(cycle):
        return 0
    ertan, saule, bakyt = (_account(n, name, "195231000", "staff")[0]
                           for n, name in ((3, "Ержан Тоқтаров"), (4, "Сәуле Жақсыбекова"), (5, "Бақыт Омаров")))
    point = paper.save_point(ertan, cycle, {**PLACE, "opens_at": "09:00", "closes_at": "18:00",
                                            "staff_ids": [saule.id, bakyt.id]})
    on_ballot = voting.ballot_proposals(cycle)
    key = current_app.config["IIN_HMAC_KEY"]
    stored = 0
    for n, (name, home, year, number) in enumerate(PAPER_VOTERS):
        iin = make_iin(date(year, 1 + n, 10 + n), serial=f"{SERIAL_BASE + n:04d}")
        moment = now - timedelta(days=2, hours=-n)
        newcomer = paper.Newcomer(name, home, "id_card")
        choice = [on_ballot[number - 1].id]
        paper.enter_ballot(saule, cycle, iin, choice, key, point_id=point.id, newcomer=newcomer, now=moment)
        paper.enter_ballot(bakyt, cycle, iin, choice, key, point_id=point.id,
                           now=moment + timedelta(minutes=20))
        stored += 1
    name, home, year = MISMATCHED
    iin = make_iin(date(year, 9, 9), serial=f"{SERIAL_BASE + 50:04d}")
    paper.enter_ballot(saule, cycle, iin, [on_ballot[1].id], key, point_id=point.id,
                       newcomer=paper.Newcomer(name, home, "passport"), now=now - timedelta(hours=3))
    paper.enter_ballot(bakyt, cycle, iin, [on_ballot[2].id], key, point_id=point.id,
                       now=now - timedelta(hours=2))
    db.session.commit()
    return stored
