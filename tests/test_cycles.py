"""Cycles: creating and editing (domain rules, staff pages), phases, the audit log, public lists."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.domain import cycles as cycle_domain
from app.domain.errors import Conflict, NotAllowed, ValidationFailed
from app.extensions import db
from app.models import AuditEntry, Cycle, Territory, User
from tests.helpers import catalogue_translation, csrf_token, login

NOW = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)


def values(**overrides):
    data = {"title_kk": "Алматы ХҚБ 2026", "title_ru": "БНУ Алматы 2026", "title_en": "Almaty PB 2026",
            "description_ru": "Благоустройство дворов и скверов.", "year": 2026, "budget": 500_000_000,
            "max_project_cost": 98_300_000, "categories": ["parks", "greening", "lighting"],
            "ballot_style": "approval", "max_choices": 3, "rule": "greedy", "min_voters": 10,
            "proposals_open": NOW, "proposals_close": NOW + timedelta(days=42),
            "voting_open": NOW + timedelta(days=60), "voting_close": NOW + timedelta(days=80)}
    data.update(overrides)
    return data


def unit(code):
    return db.session.scalar(select(Territory).where(Territory.code == code))


def test_staff_creates_a_cycle_in_draft_with_an_audit_entry(app, make_user):
    staff_id, _ = make_user(role="staff", territory="750000000")
    with app.app_context():
        staff = db.session.get(User, staff_id)
        cycle = cycle_domain.create_cycle(staff, unit("750000000"), values())
        db.session.commit()
        assert cycle.phase == "draft" and cycle.min_voters == 10 and cycle.max_choices == 3
        assert cycle.categories == ["greening", "parks", "lighting"]  # canonical order
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cycle.create"))
        assert entry.actor_id == staff_id and entry.after["budget"] == 500_000_000


def test_min_voters_defaults_to_the_national_floor(app, make_user):
    staff_id, _ = make_user(role="staff", territory="195231000")
    with app.app_context():
        data = values()
        del data["min_voters"]
        cycle = cycle_domain.create_cycle(db.session.get(User, staff_id), unit("195231000"), data)
        assert cycle.min_voters == 10


@pytest.mark.parametrize("role, home", [("staff", "710000000"), ("staff", "751410000"), ("resident", "750000000")])
def test_only_staff_of_the_territory_create_cycles(app, make_user, role, home):
    user_id, _ = make_user(role=role, territory=home)
    with app.app_context():
        with pytest.raises(NotAllowed):
            cycle_domain.create_cycle(db.session.get(User, user_id), unit("750000000"), values())
        assert db.session.scalar(select(Cycle)) is None


BAD_CYCLES = [
    ({"min_voters": 9}, "min_voters"),
    ({"min_voters": "10"}, "min_voters"),
    ({"ballot_style": "approval", "max_choices": None}, "max_choices"),
    ({"ballot_style": "ranked"}, "ballot_style"),
    ({"rule": "borda"}, "rule"),
    ({"categories": ["parks", "casino"]}, "categories"),
    ({"categories": []}, "categories"),
    ({"max_project_cost": 600_000_000}, "max_project_cost"),
    ({"budget": 0}, "budget"),
    ({"budget": True}, "budget"),
    ({"title_ru": "  "}, "title_ru"),  # kk and ru are required; en is optional
    ({"voting_open": NOW + timedelta(days=10)}, "voting_open"),
    ({"proposals_close": datetime(2026, 4, 1)}, "proposals_close"),  # naive
]


def test_cycle_validation(app, make_user):
    # One staff account for every case: accounts are slow to make (argon2).
    staff_id, _ = make_user(role="staff", territory="750000000")
    with app.app_context():
        for overrides, field in BAD_CYCLES:
            with pytest.raises(ValidationFailed) as caught:
                cycle_domain.create_cycle(db.session.get(User, staff_id), unit("750000000"), values(**overrides))
            assert field in caught.value.fields, overrides
        assert db.session.scalar(select(Cycle)) is None


def test_single_and_knapsack_ballots_need_no_max_choices(app, make_user):
    staff_id, _ = make_user(role="staff", territory="750000000")
    with app.app_context():
        staff = db.session.get(User, staff_id)
        single = cycle_domain.create_cycle(staff, unit("750000000"), values(ballot_style="single", max_choices=None))
        knapsack = cycle_domain.create_cycle(staff, unit("750000000"), values(ballot_style="knapsack", rule="mes"))
        assert single.max_choices is None and knapsack.max_choices is None and knapsack.rule == "mes"


@pytest.mark.parametrize("phase", ["draft", "proposals", "review"])
def test_settings_can_change_before_voting(app, make_cycle, make_user, phase):
    cycle_id = make_cycle(phase=phase)
    staff_id, _ = make_user(role="staff", territory="750000000")
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        cycle_domain.update_cycle(db.session.get(User, staff_id), cycle, {"rule": "mes", "min_voters": 50})
        db.session.commit()
        assert (cycle.rule, cycle.min_voters) == ("mes", 50)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cycle.update"))
        assert entry.before == {"rule": "greedy", "min_voters": 10}
        assert entry.after == {"rule": "mes", "min_voters": 50}


@pytest.mark.parametrize("phase", ["voting", "closed"])
def test_settings_are_locked_once_voting_opens(app, make_cycle, make_user, phase):
    cycle_id = make_cycle(phase=phase)
    staff_id, _ = make_user(role="staff", territory="750000000")
    with app.app_context():
        for change in ({"rule": "mes"}, {"ballot_style": "single"}, {"max_choices": 5}, {"min_voters": 50},
                       {"budget": 1_000}, {"categories": ["parks"]}, {"max_project_cost": 1_000}):
            cycle = db.session.get(Cycle, cycle_id)
            with pytest.raises(Conflict) as caught:
                cycle_domain.update_cycle(db.session.get(User, staff_id), cycle, change)
            assert caught.value.code == "settings_locked", change
            db.session.rollback()
        cycle = db.session.get(Cycle, cycle_id)
        assert (cycle.rule, cycle.ballot_style, cycle.max_choices, cycle.min_voters) == ("greedy", "approval", 3, 10)


def test_texts_stay_editable_in_voting_and_unchanged_settings_pass(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="voting")
    staff_id, _ = make_user(role="staff", territory="750000000")
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        cycle_domain.update_cycle(db.session.get(User, staff_id), cycle,
                                  {"title_en": "Almaty PB 2026 (extended)", "rule": "greedy", "min_voters": 10})
        db.session.commit()
        assert cycle.title_en == "Almaty PB 2026 (extended)"


def test_staff_of_another_territory_cannot_edit(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="draft", territory="750000000")
    other, _ = make_user(role="staff", territory="710000000")
    with app.app_context():
        with pytest.raises(NotAllowed):
            cycle_domain.update_cycle(db.session.get(User, other), db.session.get(Cycle, cycle_id), {"title_en": "x"})


# --- pages -----------------------------------------------------------------------------------

def form_data(page, **overrides):
    data = {"csrf_token": csrf_token(page), "territory": "750000000", "year": "2026",
            "title_kk": "Алматы ХҚБ 2027", "title_ru": "БНУ Алматы 2027", "title_en": "Almaty PB 2027",
            "description_kk": "", "description_ru": "", "description_en": "",
            "budget": "500 000 000", "max_project_cost": "98300000", "categories": ["parks", "lighting"],
            "ballot_style": "approval", "max_choices": "3", "rule": "greedy", "min_voters": "10",
            "proposals_open": "2026-03-01T09:00", "proposals_close": "2026-04-12T18:00",
            "voting_open": "2026-05-01T09:00", "voting_close": "2026-05-20T18:00"}
    data.update(overrides)
    return data


def test_staff_creates_a_cycle_through_the_page(app, client, make_user):
    _, iin = make_user(role="staff", territory="750000000")
    login(client, iin)
    page = client.get("/en/staff/cycles/new")
    assert page.status_code == 200
    response = client.post("/en/staff/cycles/new", data=form_data(page))
    assert response.status_code == 302
    with app.app_context():
        cycle = db.session.scalar(select(Cycle))
        assert cycle.budget == 500_000_000 and cycle.categories == ["parks", "lighting"]
        # 09:00 in Almaty (UTC+5) is 04:00 UTC
        assert cycle.proposals_open == datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)
    assert "Almaty PB 2027" in client.get("/en/staff/").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_cycle_form_errors_are_translated(app, tclient, make_user, lang):
    _, iin = make_user(role="staff", territory="750000000")
    login(tclient, iin, lang=lang)
    page = tclient.get(f"/{lang}/staff/cycles/new")
    response = tclient.post(f"/{lang}/staff/cycles/new", data=form_data(page, min_voters="5", budget="lots"))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    msgid = "The minimum number of voters is at least %(n)s."
    expected = msgid % {"n": 10} if lang == "en" else catalogue_translation(msgid, lang, n=10)
    assert expected in body
    budget = "Enter the budget as a positive whole number of tenge."
    assert (budget if lang == "en" else catalogue_translation(budget, lang)) in body
    with app.app_context():
        assert db.session.scalar(select(Cycle)) is None


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_settings_locked_error_on_the_edit_page_is_translated(app, tclient, make_cycle, make_user, lang):
    cycle_id = make_cycle(phase="voting")
    _, iin = make_user(role="staff", territory="750000000")
    login(tclient, iin, lang=lang)
    page = tclient.get(f"/{lang}/staff/cycles/{cycle_id}/edit")
    assert page.status_code == 200
    data = form_data(page, budget="100000000", max_project_cost="30000000", rule="mes",
                     categories=["greening", "parks", "sports", "playgrounds", "lighting", "sidewalks", "yards",
                                 "other"],
                     title_kk="Алматы ХҚБ 2026", title_ru="БНУ Алматы 2026", title_en="Almaty PB 2026")
    data.pop("territory")
    response = tclient.post(f"/{lang}/staff/cycles/{cycle_id}/edit", data=data)
    assert response.status_code == 409
    msgid = "Ballot and counting settings cannot change once voting has opened."
    assert catalogue_translation(msgid, lang) in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Cycle, cycle_id).rule == "greedy"


def test_phase_moves_through_the_page_need_confirmation(app, client, make_cycle, make_user):
    cycle_id = make_cycle(phase="draft")
    _, iin = make_user(role="staff", territory="750000000")
    login(client, iin)
    page = client.get(f"/en/staff/cycles/{cycle_id}")
    assert page.status_code == 200 and 'value="proposals"' in page.get_data(as_text=True)
    token = csrf_token(page)
    client.post(f"/en/staff/cycles/{cycle_id}/phase", data={"csrf_token": token, "phase": "proposals"})
    with app.app_context():
        assert db.session.get(Cycle, cycle_id).phase == "draft"
    client.post(f"/en/staff/cycles/{cycle_id}/phase", data={"csrf_token": token, "phase": "proposals", "confirm": "y"})
    response = client.post(f"/en/staff/cycles/{cycle_id}/phase",
                           data={"csrf_token": token, "phase": "voting", "confirm": "y"}, follow_redirects=True)
    assert "A cycle moves only to its next phase." in response.get_data(as_text=True)
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        assert cycle.phase == "proposals"
        assert [(c.from_phase, c.to_phase) for c in cycle.phase_changes] == [("draft", "proposals")]


def test_staff_of_another_territory_get_403_on_the_console(client, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals", territory="750000000")
    draft_id = make_cycle(phase="draft", territory="750000000")
    _, iin = make_user(role="staff", territory="195231000")
    login(client, iin)
    assert client.get(f"/en/staff/cycles/{draft_id}").status_code == 404  # another's draft is invisible
    assert client.get(f"/en/staff/cycles/{cycle_id}").status_code == 403
    assert client.get(f"/en/staff/cycles/{cycle_id}/edit").status_code == 403
    page = client.get("/en/staff/")
    assert "Almaty PB 2026" not in page.get_data(as_text=True)
    response = client.post(f"/en/staff/cycles/{cycle_id}/phase",
                           data={"csrf_token": csrf_token(page), "phase": "proposals", "confirm": "y"})
    assert response.status_code == 403


def test_residents_cannot_open_the_console(client, make_user):
    _, iin = make_user()
    login(client, iin)
    assert client.get("/en/staff/").status_code == 403


def test_audit_log_is_for_admins(app, client, make_cycle, make_user):
    cycle_id = make_cycle(phase="draft")
    staff_id, staff_iin = make_user(role="staff", territory="750000000", name="Айгүл Сапарова")
    _, admin_iin = make_user(role="admin", territory="750000000")
    with app.app_context():
        cycle_domain.update_cycle(db.session.get(User, staff_id), db.session.get(Cycle, cycle_id), {"min_voters": 50})
        db.session.commit()
    login(client, staff_iin)
    assert client.get("/en/staff/audit").status_code == 403
    AuthActionsLogout(client)
    login(client, admin_iin)
    page = client.get("/en/staff/audit?action=cycle.update")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Айгүл Сапарова" in body and "Cycle edited" in body
    assert "1 entry" in body
    assert "0 entries" in client.get("/en/staff/audit?action=cycle.phase").get_data(as_text=True)


def AuthActionsLogout(client):
    from tests.helpers import AuthActions

    AuthActions(client).logout()


def test_drafts_are_hidden_from_the_public(client, make_cycle):
    draft = make_cycle(phase="draft", title_en="Secret draft")
    open_ = make_cycle(phase="proposals", title_en="Open cycle")
    assert client.get(f"/en/cycles/{draft}").status_code == 404
    listing = client.get("/en/cycles").get_data(as_text=True)
    assert "Open cycle" in listing and "Secret draft" not in listing
    home = client.get("/en/").get_data(as_text=True)
    assert "Open cycle" in home and "Taking proposals" in home
    assert client.get(f"/en/cycles/{open_}").status_code == 200


def test_demo_cycles_are_built_through_the_domain_and_idempotent(app):
    from app.demo import seed
    from app.demo.cycles import seed_cycles

    with app.app_context():
        seed()
        ids = seed_cycles()
        assert seed_cycles() == ids
        almaty, aytey = (db.session.get(Cycle, i) for i in ids)
        assert almaty.phase == "proposals" and len(almaty.proposals) == 3
        assert almaty.max_project_cost == 25_000 * 4_325  # 25,000 MRP
        assert aytey.phase == "voting" and aytey.protocol_published_at is not None
        statuses = sorted(p.status for p in aytey.proposals)
        assert statuses == ["admitted"] * 6 + ["rejected"]
        assert any(p.territory.code != "195231000" for p in aytey.proposals)  # villagers proposed


def test_every_page_renders_in_every_language_on_the_demo(app, client):
    """A smoke walk over the area's pages as the public, a resident, staff and an admin."""
    from app.demo import demo_iin, seed
    from app.demo.cycles import seed_cycles
    from tests.helpers import AuthActions

    with app.app_context():
        seed()
        almaty, aytey = seed_cycles()
        proposal_id = db.session.get(Cycle, aytey).proposals[-1].id
        own_id = db.session.get(Cycle, almaty).proposals[0].id
    public = ["/{lang}/", "/{lang}/cycles", f"/{{lang}}/cycles/{almaty}", f"/{{lang}}/cycles/{aytey}?status=rejected",
              f"/{{lang}}/proposals/{proposal_id}", f"/{{lang}}/cycles/{aytey}/protocol"]
    resident = [f"/{{lang}}/proposals/{own_id}/edit", f"/{{lang}}/cycles/{almaty}/proposals/new",
                "/{lang}/my/proposals"]
    staff = ["/{lang}/staff/", f"/{{lang}}/staff/cycles/{aytey}", f"/{{lang}}/staff/cycles/{aytey}/edit",
             "/{lang}/staff/cycles/new", f"/{{lang}}/cycles/{aytey}/protocol"]
    for lang in ("kk", "ru", "en"):
        for url in public:
            assert client.get(url.format(lang=lang)).status_code == 200, url
    rejected = client.get(f"/ru/proposals/{proposal_id}").get_data(as_text=True)
    assert "частной собственности" in rejected
    for n, urls in ((10, resident), (3, staff), (1, ["/{lang}/staff/audit", "/{lang}/staff/audit?page=2"])):
        response = AuthActions(client).login(demo_iin(n), password="demo-password")
        assert response.status_code == 302
        for lang in ("kk", "ru", "en"):
            for url in urls:
                assert client.get(url.format(lang=lang)).status_code == 200, (n, url)
        AuthActions(client).logout()
