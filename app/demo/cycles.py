"""Demo cycles, built through the domain functions as staff and residents would.

Almaty takes proposals; Aytey rural district has been reviewed and is voting. Idempotent: a
cycle that already exists (same territory, year and Russian title) is left as it is."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.demo import _account
from app.demo.pictures import vacant_lot_png
from app.domain import cycles as cycle_domain
from app.domain import proposals as proposal_domain
from app.extensions import db
from app.models import Cycle, Territory

MRP_2026 = 4_325  # tenge; caps in the akimats' rules are stated in MRP

ALMATY_PROPOSALS = [
    (10, {"title": "Сквер у школы № 54 в Орбите", "category": "parks", "cost": 48_000_000,
          "address": "мкр. Орбита-1, между домами 12 и 14", "latitude": 43.1963, "longitude": 76.8781,
          "description": "Пустырь за школой превратить в сквер: дорожки, скамейки, 40 деревьев, освещение."}),
    (11, {"title": "Освещение улицы Жандосова от Саина до Отеген батыра", "category": "lighting",
          "cost": 36_500_000, "address": "ул. Жандосова", "latitude": 43.2208, "longitude": 76.8612,
          "description": "Вечером участок совершенно тёмный. Предлагаем 28 светодиодных фонарей."}),
    (10, {"title": "Балалар ойын алаңы, Әл-Фараби даңғылы 77", "category": "playgrounds", "cost": 22_000_000,
          "address": "пр. аль-Фараби, 77, двор", "language": "kk",
          "latitude": 43.2183, "longitude": 76.9012,
          "description": "Аулада балаларға арналған қауіпсіз ойын алаңы жоқ. Жұмсақ жабын, әткеншектер, орындықтар."}),
]

AYTEY_PROPOSALS = [
    (12, "admitted", {"title": "Освещение улицы Абая в селе Айтей", "category": "lighting", "cost": 14_500_000,
                      "address": "с. Айтей, ул. Абая", "latitude": 43.2702, "longitude": 76.4751,
                      "description": "Установить 20 фонарей на солнечных батареях вдоль улицы Абая."}),
    (20, "admitted", {"title": "Детская площадка возле сельского клуба", "category": "playgrounds",
                      "cost": 11_800_000, "address": "с. Енбекши, ул. Мектеп, 3",
                      "latitude": 43.2371, "longitude": 76.4378,
                      "description": "Горка, качели, песочница и резиновое покрытие для детей до 12 лет."}),
    (21, "admitted", {"title": "Тротуар к школе в селе Кумарал", "category": "sidewalks", "cost": 17_200_000,
                      "address": "с. Кумарал, от ул. Бейбітшілік до школы",
                      "latitude": 43.2925, "longitude": 76.5118,
                      "description": "Дети идут к школе по обочине трассы. Нужен тротуар 600 метров."}),
    (22, "admitted", {"title": "Әйтей ауылындағы саябақты көгалдандыру", "category": "greening",
                      "cost": 6_400_000, "address": "Әйтей а., орталық саябақ", "language": "kk",
                      "latitude": 43.2688, "longitude": 76.4702,
                      "description": "Саябаққа 150 көшет отырғызу және суару жүйесін орнату."}),
    (12, "admitted", {"title": "Спортивная площадка с тренажёрами в Уштереке", "category": "sports",
                      "cost": 19_000_000, "address": "с. Уштерек, ул. Жастар",
                      "latitude": 43.3021, "longitude": 76.4195,
                      "description": "Уличные тренажёры, турники и площадка для мини-футбола."}),
    (20, "admitted", {"title": "Благоустройство двора многоквартирных домов", "category": "yards",
                      "cost": 9_300_000, "address": "с. Айтей, ул. Жибек жолы, 5–7",
                      "latitude": 43.2734, "longitude": 76.4812,
                      "description": "Лавочки, урны, освещение подъездов и ремонт дорожек во дворе."}),
    (21, "rejected", {"title": "Ремонт крыши частного дома", "category": "other", "cost": 3_000_000,
                      "address": "с. Сауыншы",
                      "description": "Прошу отремонтировать крышу моего дома."}),
]
AYTEY_REJECTION = {
    "kk": "Нысан жеке меншікте: халық қатысатын бюджет тек қоғамдық аумақтарды абаттандыруды қаржыландырады.",
    "ru": "Объект находится в частной собственности: бюджет народного участия финансирует только "
          "благоустройство общественных территорий.",
    "en": "The property is privately owned: the participatory budget funds only improvements of public "
          "spaces."}
DEMO_RESIDENTS = {10: ("Дана Ахметова", "751410000"), 11: ("Иван Петров", "751710000"),
                  12: ("Асель Нурланова", "195231100"), 20: ("Гүлнар Есенова", "195231300"),
                  21: ("Марат Құдайбергенов", "195231400"), 22: ("Нұрлан Әбенов", "195231700")}


def _unit(code):
    return db.session.scalar(select(Territory).where(Territory.code == code))


def _existing(territory, year, title_ru):
    return db.session.scalar(select(Cycle).where(Cycle.territory_id == territory.id, Cycle.year == year,
                                                 Cycle.title_ru == title_ru))


def _resident(n):
    name, code = DEMO_RESIDENTS[n]
    return _account(n, name, code)[0]


def seed_cycles(now=None):
    """Create the demo cycles; returns their ids (existing ones included)."""
    now = now or datetime.now(timezone.utc)
    ids = []
    almaty, aytey = _unit("750000000"), _unit("195231000")
    almaty_staff, _ = _account(2, "Айгүл Сапарова", "750000000", "staff")
    aytey_staff, _ = _account(3, "Ержан Тоқтаров", "195231000", "staff")

    cycle = _existing(almaty, now.year, "БНУ г. Алматы")
    if cycle is None:
        cycle = cycle_domain.create_cycle(almaty_staff, almaty, {
            "year": now.year, "title_kk": "Алматы қ. ХҚБ", "title_ru": "БНУ г. Алматы",
            "title_en": "Almaty participatory budget",
            "description_kk": "Қала тұрғындары аулалар мен скверлерді абаттандыру жобаларын ұсынады.",
            "description_ru": "Жители города предлагают проекты благоустройства дворов, скверов и улиц.",
            "description_en": "Residents propose improvements for yards, squares and streets.",
            "budget": 2_000_000_000, "max_project_cost": 25_000 * MRP_2026,
            "categories": ["greening", "parks", "sports", "playgrounds", "lighting", "sidewalks", "yards"],
            "ballot_style": "approval", "max_choices": 3, "rule": "greedy", "min_voters": 50,
            "proposals_open": now - timedelta(days=10), "proposals_close": now + timedelta(days=32),
            "voting_open": now + timedelta(days=60), "voting_close": now + timedelta(days=80)})
        cycle.created_at = now - timedelta(days=14)
        cycle_domain.move_phase(almaty_staff, cycle, "proposals", now=now - timedelta(days=10))
        for number, (n, values) in enumerate(ALMATY_PROPOSALS):
            values = dict(values)
            language = values.pop("language", "ru")
            photos = [vacant_lot_png()] if number == 0 else []
            proposal = proposal_domain.submit_proposal(_resident(n), cycle, values, photos=photos,
                                                       language=language)
            proposal.created_at = proposal.updated_at = now - timedelta(days=8 - 3 * number)
        db.session.flush()
    ids.append(cycle.id)

    cycle = _existing(aytey, now.year, "БНУ Айтейского сельского округа")
    if cycle is None:
        cycle = cycle_domain.create_cycle(aytey_staff, aytey, {
            "year": now.year, "title_kk": "Әйтей ауылдық округінің ХҚБ",
            "title_ru": "БНУ Айтейского сельского округа", "title_en": "Aytey rural district participatory budget",
            "description_kk": "Әйтей, Еңбекші, Құмарал, Сауыншы және Үштерек ауылдарына арналған жобалар.",
            "description_ru": "Проекты для сёл Айтей, Енбекши, Кумарал, Сауыншы и Уштерек.",
            "description_en": "Projects for the villages of Aytey, Enbekshi, Kumaral, Sauynshy and Ushterek.",
            "budget": 60_000_000, "max_project_cost": 20_000_000,
            "ballot_style": "single", "max_choices": None, "rule": "greedy", "min_voters": 10,
            "proposals_open": now - timedelta(days=70), "proposals_close": now - timedelta(days=28),
            "voting_open": now - timedelta(days=3), "voting_close": now + timedelta(days=18)})
        cycle.created_at = now - timedelta(days=80)
        cycle_domain.move_phase(aytey_staff, cycle, "proposals", now=now - timedelta(days=70))
        decided = []
        for number, (n, decision, values) in enumerate(AYTEY_PROPOSALS):
            values = dict(values)
            language = values.pop("language", "ru")
            proposal = proposal_domain.submit_proposal(_resident(n), cycle, values, language=language)
            # Submitted inside the proposal window (now-70 .. now-28 days), not today.
            proposal.created_at = now - timedelta(days=66 - 5 * number)
            decided.append((proposal, decision))
        cycle_domain.move_phase(aytey_staff, cycle, "review", now=now - timedelta(days=28))
        for proposal, decision in decided:
            proposal_domain.review_proposal(aytey_staff, proposal, decision,
                                            AYTEY_REJECTION if decision == "rejected" else "",
                                            now=now - timedelta(days=10))
        proposal_domain.publish_protocol(aytey_staff, cycle, now=now - timedelta(days=7))
        cycle_domain.move_phase(aytey_staff, cycle, "voting", now=now - timedelta(days=3))
        db.session.flush()
        for proposal, _decision in decided:
            proposal.updated_at = proposal.reviewed_at
    ids.append(cycle.id)
    db.session.commit()
    return ids
