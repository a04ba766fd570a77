"""Demo: the akimat's conclusions on a counted cycle, its publication, and implementation updates.

`seed_conclusions(cycle_id)` expects a cycle in `closed` (counted by the voting area); it is
idempotent: a cycle already published is left as it is. Every text is in kk, ru and en, and
every date follows from the cycle's own schedule: conclusions ten days after the vote closed,
publication a week later, implementation updates after that (all in the past for last year's
round).
"""
from datetime import timedelta

from sqlalchemy import select

from app.domain.conclusions import add_implementation_update, record_conclusion
from app.domain.lifecycle import publish
from app.domain.open_data import counted_proposals
from app.domain.permissions import is_staff_of
from app.extensions import db
from app.models import Cycle, Phase, Role, User

TEXTS = {
    "approved": {
        "kk": "Жоба дауыс беру қорытындысы бойынша іріктелді және бюджетте қаражат көзделген. "
              "Әкімдік жобаны іске асыруға мақұлдады.",
        "ru": "Проект отобран по итогам голосования, средства предусмотрены в бюджете. "
              "Акимат одобряет проект к реализации.",
        "en": "The project was selected by the vote and the budget provides for it. "
              "The akimat approves it for implementation.",
    },
    "below_minimum": {
        "kk": "Жоба үшін оннан аз адам дауыс берді, сондықтан оны іске асыруға болмайды.",
        "ru": "За проект проголосовали менее десяти жителей, поэтому он не может быть реализован.",
        "en": "Fewer than ten residents voted for the project, so it may not be implemented.",
    },
    "no_budget": {
        "kk": "Жоба қажетті дауыс санын жинады, бірақ ХҚБ конкурсының бюджетіне кірмеді: іріктелген "
              "жобалардан кейін қаражат жеткіліксіз.",
        "ru": "Проект набрал необходимое число голосов, но не вошёл в бюджет конкурса: средств "
              "недостаточно после отобранных проектов.",
        "en": "The project reached the minimum number of voters but did not fit the cycle's "
              "budget after the selected projects.",
    },
}
NOTES = {
    "planned": {"kk": "Әкімдіктің жұмыс жоспарына енгізілді.",
                "ru": "Включено в план работ акимата.",
                "en": "Included in the akimat's work plan."},
    "procurement": {"kk": "Мемлекеттік сатып алу жарияланды.",
                    "ru": "Объявлены государственные закупки.",
                    "en": "Public procurement has been announced."},
}


def _staff_for(cycle):
    users = db.session.scalars(select(User).where(User.role.in_([Role.STAFF.value, Role.ADMIN.value]))
                               .order_by(User.role.desc(), User.id)).all()
    # Territory staff first (role "staff" sorts after "admin" in descending order).
    return next((u for u in users if is_staff_of(u, cycle.territory)), None)


def seed_conclusions(cycle_id):
    cycle = db.session.get(Cycle, cycle_id)
    close = cycle.voting_close or cycle.counted_at if cycle is not None else None
    if cycle is None or cycle.phase != Phase.CLOSED.value:
        return f"results: cycle {cycle_id} is not closed, nothing to conclude"
    staff = _staff_for(cycle)
    if staff is None:
        return f"results: no staff account for {cycle.territory.name_en}"
    approved = []
    for number, proposal in enumerate(sorted(counted_proposals(cycle), key=lambda p: p.id), start=1):
        result = proposal.result
        if not result.eligible:
            decision, texts = "not_approved", TEXTS["below_minimum"]
        elif result.selected:
            decision, texts = "approved", TEXTS["approved"]
        else:
            decision, texts = "not_approved", TEXTS["no_budget"]
        record_conclusion(staff, proposal, decision, texts, document_number=f"{cycle.year}-{number:03d}",
                          document_date=(close + timedelta(days=10)).date(), now=close + timedelta(days=10))
        if decision == "approved":
            approved.append(proposal)
    publish(cycle, staff, now=close + timedelta(days=17))
    for index, proposal in enumerate(approved[:2]):
        start = cycle.published_at + timedelta(days=3)
        add_implementation_update(staff, proposal, "planned", start.date(), NOTES["planned"], now=start)
        if index == 0:
            later = start + timedelta(days=20)
            add_implementation_update(staff, proposal, "procurement", later.date(), NOTES["procurement"],
                                      now=later)
    db.session.flush()
    return f"results: {cycle.title_en or cycle.id} published with {len(approved)} approved"
