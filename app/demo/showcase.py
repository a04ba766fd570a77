"""The demo's published cycle: last year's round in Bostandyk district of Almaty, run from
announcement to publication through the same domain functions staff and residents use.
Every step is dated inside last year's schedule (March to June), so nothing in it happened today."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.demo import _account
from app.demo.results import seed_conclusions
from app.demo.voting import seed_ballots
from app.domain import cycles as cycle_domain
from app.domain import proposals as proposal_domain
from app.domain import voting
from app.extensions import db
from app.models import Cycle, Territory

TITLE_RU = "БНУ Бостандыкского района"
AUTHORS = {40: "Гүлнар Сейітова", 41: "Андрей Ким", 42: "Мадина Оспанова", 43: "Серік Жұмабаев"}
PROPOSALS = [
    (40, "admitted", {"title": "Сквер на углу Тимирязева и Маркова", "category": "parks",
                      "cost": 38_000_000, "address": "ул. Тимирязева / ул. Маркова",
                      "latitude": 43.2265, "longitude": 76.9155,
                      "description": "Дорожки, 30 деревьев, скамейки и питьевой фонтанчик."}),
    (41, "admitted", {"title": "Освещение пешеходной дорожки вдоль реки Есентай", "category": "lighting",
                      "cost": 24_500_000, "address": "набережная Есентай, от Аль-Фараби до Тимирязева",
                      "latitude": 43.2195, "longitude": 76.9290,
                      "description": "Вечером дорожка не освещена. 40 светодиодных опор."}),
    (42, "admitted", {"title": "Ауладағы спорт алаңы, Жандосов к-сі 58", "category": "sports",
                      "cost": 19_000_000, "address": "ул. Жандосова, 58, двор", "language": "kk",
                      "latitude": 43.2262, "longitude": 76.8995,
                      "description": "Воркаут және баскетбол алаңы, резеңке жабын."}),
    (43, "admitted", {"title": "Детская площадка в мкр. Коктем-2", "category": "playgrounds",
                      "cost": 16_000_000, "address": "мкр. Коктем-2, дом 15",
                      "latitude": 43.2235, "longitude": 76.9170,
                      "description": "Безопасное покрытие, качели и горка для детей 3–10 лет."}),
    (40, "admitted", {"title": "Тротуар по улице Ходжанова", "category": "sidewalks",
                      "cost": 27_000_000, "address": "ул. Ходжанова, от Сатпаева до Бухар жырау",
                      "latitude": 43.2310, "longitude": 76.9085,
                      "description": "Сейчас пешеходы идут по проезжей части. 600 метров тротуара."}),
    (41, "admitted", {"title": "Озеленение двора на Розыбакиева 247", "category": "greening",
                      "cost": 6_500_000, "address": "ул. Розыбакиева, 247",
                      "latitude": 43.2045, "longitude": 76.8920,
                      "description": "Газон, кустарники и 12 деревьев во дворе."}),
    (42, "rejected", {"title": "Ремонт крыши дома по Сатпаева 30", "category": "other",
                      "cost": 12_000_000, "address": "ул. Сатпаева, 30",
                      "latitude": 43.2370, "longitude": 76.9260,
                      "description": "Протекает крыша подъезда."}),
]
REJECTION = {
    "kk": "Көппәтерлі үйдің ортақ мүлкін жөндеу халық қатысатын бюджеттен емес, үй иелерінің "
          "(пәтер иелері бірлестігінің) қаражатынан қаржыландырылады.",
    "ru": "Ремонт общего имущества многоквартирного дома финансируется его собственниками "
          "(ОСИ), а не бюджетом народного участия.",
    "en": "Repairs to the common property of an apartment building are paid for by its owners "
          "(the owners' association), not by the participatory budget."}


def seed_published_cycle(n_voters=70, now=None):
    """Create (once) a published cycle with ballots, a count and conclusions; returns its id."""
    now = now or datetime.now(timezone.utc)
    year = now.year - 1
    district = db.session.scalar(select(Territory).where(Territory.code == "751410000"))
    cycle = db.session.scalar(select(Cycle).where(Cycle.territory_id == district.id,
                                                  Cycle.year == year, Cycle.title_ru == TITLE_RU))
    if cycle is not None:
        return cycle.id
    staff, _ = _account(2, "Айгүл Сапарова", "750000000", "staff")
    start = datetime(year, 3, 2, 4, 0, tzinfo=timezone.utc)  # last year's round: March to June
    cycle = cycle_domain.create_cycle(staff, district, {
        "year": year, "title_kk": "Бостандық ауданының ХҚБ", "title_ru": TITLE_RU,
        "title_en": "Bostandyk district participatory budget",
        "description_kk": "Аудан тұрғындары аулалар мен көшелерді абаттандыру жобаларын ұсынды.",
        "description_ru": "Жители района предложили проекты благоустройства дворов и улиц.",
        "description_en": "Residents of the district proposed improvements for yards and streets.",
        "budget": 100_000_000, "max_project_cost": 40_000_000, "ballot_style": "approval",
        "max_choices": 3, "rule": "greedy", "min_voters": 10,
        "proposals_open": start, "proposals_close": start + timedelta(days=42),
        "voting_open": start + timedelta(days=70), "voting_close": start + timedelta(days=90)})
    cycle.created_at = start - timedelta(days=14)
    cycle_domain.move_phase(staff, cycle, "proposals", now=start)
    submitted = []
    for number, (n, decision, values) in enumerate(PROPOSALS):
        values = dict(values)
        language = values.pop("language", "ru")
        author = _account(n, AUTHORS[n], "751410000")[0]
        proposal = proposal_domain.submit_proposal(author, cycle, values, language=language)
        proposal.created_at = start + timedelta(days=3 + 5 * number, hours=number)
        submitted.append((proposal, decision))
    cycle_domain.move_phase(staff, cycle, "review", now=start + timedelta(days=42))
    for proposal, decision in submitted:
        proposal_domain.review_proposal(staff, proposal, decision,
                                        REJECTION if decision == "rejected" else "",
                                        now=start + timedelta(days=55))
    proposal_domain.publish_protocol(staff, cycle, now=start + timedelta(days=60))
    cycle_domain.move_phase(staff, cycle, "voting", now=start + timedelta(days=70))
    db.session.commit()
    seed_ballots(cycle.id, n_voters, now=now)
    # Дана Ахметова, a demo account, voted too: her receipt shows her ballot in the seal.
    dana = _account(10, "Дана Ахметова", "751410000")[0]
    admitted = [p.id for p, decision in submitted if decision == "admitted"]
    voting.cast_ballot(dana, cycle, admitted[:2], now=start + timedelta(days=80))
    db.session.commit()
    cycle_domain.move_phase(staff, cycle, "closed", now=start + timedelta(days=90))
    db.session.commit()
    seed_conclusions(cycle.id)
    for proposal, _decision in submitted:
        proposal.updated_at = proposal.reviewed_at or proposal.created_at  # not "today"
    db.session.commit()
    return cycle.id
