"""Staff run a cycle from the console: the to-do list, each phase's actions on the cycle page,
the guards on phase moves (pages and API alike), titles in the state languages, and the emails
that tell staff when a cycle needs them."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.domain import console, lifecycle
from app.domain.errors import Conflict
from app.extensions import db
from app.models import AuditEntry, Cycle, Proposal, ProposalPhoto, User
from tests.helpers import catalogue_translation, csrf_token, login

NOW = datetime(2026, 4, 20, 6, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(days=5)


def _staff_email(app, user_id, email="akimat@example.kz", locale="ru"):
    with app.app_context():
        user = db.session.get(User, user_id)
        user.email, user.locale = email, locale
        db.session.commit()


@pytest.fixture
def review_cycle(app, make_cycle, make_proposal, staff):
    """A cycle in review: one admitted, one submitted, one returned for a revision due later."""
    cycle_id = make_cycle(phase="review")
    admitted = make_proposal(cycle_id, status="admitted", title="Сквер на Тимирязева", reviewed_at=NOW)
    waiting = make_proposal(cycle_id, status="submitted", title="Фонари на Байзакова")
    revising = make_proposal(cycle_id, status="revision_requested", title="Тротуар на Сатпаева",
                             revision_deadline=LATER, reviewed_at=NOW)
    return {"cycle": cycle_id, "admitted": admitted, "waiting": waiting, "revising": revising}


def _decide_all(app, ids, protocol_at):
    with app.app_context():
        for key in ("waiting", "revising"):
            proposal = db.session.get(Proposal, ids[key])
            proposal.status, proposal.reviewed_at, proposal.revision_deadline = "admitted", NOW, None
        db.session.get(Cycle, ids["cycle"]).protocol_published_at = protocol_at
        db.session.commit()


# --- Guards: one place, pages and API alike ---------------------------------------------------

def test_api_voting_cannot_open_while_proposals_are_undecided(client, review_cycle, staff, api_token):
    headers = {**api_token(staff[1]), "Accept-Language": "ru"}
    response = client.post(f"/api/v1/cycles/{review_cycle['cycle']}/phase", json={"phase": "voting"},
                           headers=headers)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "proposals_undecided"
    assert f"№{review_cycle['waiting']}" in error["message"] and f"№{review_cycle['revising']}" in error["message"]
    assert f"№{review_cycle['admitted']}" not in error["message"]
    assert len(error["fields"]["proposals"]) == 2 and "Тротуар на Сатпаева" in " ".join(error["fields"]["proposals"])
    assert error["message"].startswith(catalogue_translation(
        "Voting cannot open while proposals wait for a decision or a revision: %(list)s.", "ru", list="")[:20])


def test_voting_needs_the_final_protocol_published_after_the_last_decision(app, client, review_cycle, staff,
                                                                           api_token):
    headers = api_token(staff[1])
    url = f"/api/v1/cycles/{review_cycle['cycle']}/phase"
    _decide_all(app, review_cycle, protocol_at=None)
    missing = client.post(url, json={"phase": "voting"}, headers=headers)
    assert missing.status_code == 409 and missing.get_json()["error"]["code"] == "protocol_missing"
    _decide_all(app, review_cycle, protocol_at=NOW - timedelta(days=1))  # before the last decision
    stale = client.post(url, json={"phase": "voting"}, headers=headers)
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "protocol_missing"
    _decide_all(app, review_cycle, protocol_at=NOW + timedelta(hours=1))
    opened = client.post(url, json={"phase": "voting"}, headers=headers)
    assert opened.status_code == 200 and opened.get_json()["phase"] == "voting"


def test_a_move_off_schedule_needs_a_confirmation_and_is_audited(app, client, make_cycle, staff, api_token):
    future = datetime.now(timezone.utc) + timedelta(days=60)
    cycle_id = make_cycle(phase="draft", proposals_open=future, proposals_close=future + timedelta(days=30))
    headers = api_token(staff[1])
    url = f"/api/v1/cycles/{cycle_id}/phase"
    refused = client.post(url, json={"phase": "proposals"}, headers=headers)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "off_schedule"
    refused = client.post(url, json={"phase": "proposals", "confirm_off_schedule": False}, headers=headers)
    assert refused.status_code == 409
    moved = client.post(url, json={"phase": "proposals", "confirm_off_schedule": True}, headers=headers)
    assert moved.status_code == 200 and moved.get_json()["phase"] == "proposals"
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cycle.phase"))
        assert entry.after["phase"] == "proposals" and entry.after["off_schedule"] == "early"
        assert entry.after["confirmed"] is True and entry.after["scheduled"].startswith(future.date().isoformat())


def test_a_move_on_schedule_needs_no_confirmation_and_a_late_one_does(app, make_cycle, staff):
    cycle_id = make_cycle(phase="voting", voting_open=NOW - timedelta(days=20), voting_close=NOW)
    with app.app_context():
        cycle, user = db.session.get(Cycle, cycle_id), db.session.get(User, staff[0])
        # closing late is fine: the vote has no end to miss
        assert lifecycle.off_schedule(cycle, lifecycle.Phase.CLOSED, NOW + timedelta(days=90)) is None
        with pytest.raises(Conflict) as early:
            lifecycle.advance(cycle, user, "closed", now=NOW - timedelta(days=1))
        assert early.value.code == "off_schedule"
        lifecycle.advance(cycle, user, "closed", now=NOW + timedelta(minutes=1))
        assert cycle.phase == "closed"
        db.session.rollback()
    late = make_cycle(phase="review", proposals_close=NOW - timedelta(days=40), voting_open=NOW - timedelta(days=10),
                      voting_close=NOW + timedelta(days=10))
    with app.app_context():
        cycle, user = db.session.get(Cycle, late), db.session.get(User, staff[0])
        cycle.protocol_published_at = NOW - timedelta(days=30)
        assert lifecycle.off_schedule(cycle, lifecycle.Phase.VOTING, NOW) is None
        assert lifecycle.off_schedule(cycle, lifecycle.Phase.VOTING, NOW + timedelta(days=11))[0] == "late"


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_page_move_off_schedule_shows_the_warning_and_needs_the_checkbox(app, client, make_cycle, staff, lang):
    future = datetime.now(timezone.utc) + timedelta(days=60)
    cycle_id = make_cycle(phase="draft", proposals_open=future)
    login(client, staff[1], lang=lang)
    page = client.get(f"/{lang}/staff/cycles/{cycle_id}").get_data(as_text=True)
    assert 'name="confirm_off_schedule"' in page
    assert catalogue_translation("The cycle's schedule sets this move for %(date)s or later: this would be early.",
                                 lang, date="")[:25] in page
    data = {"csrf_token": csrf_token(client.get(f"/{lang}/staff/cycles/{cycle_id}")), "phase": "proposals",
            "confirm": "y"}
    refused = client.post(f"/{lang}/staff/cycles/{cycle_id}/phase", data=data, follow_redirects=True)
    assert catalogue_translation("The cycle's schedule sets this move for %(moment)s or later; confirm to move "
                                 "it early.", lang, moment="")[:25] in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Cycle, cycle_id).phase == "draft"
    client.post(f"/{lang}/staff/cycles/{cycle_id}/phase", data={**data, "confirm_off_schedule": "y"})
    with app.app_context():
        assert db.session.get(Cycle, cycle_id).phase == "proposals"


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_cycle_page_in_review_names_what_blocks_voting_with_links(client, review_cycle, staff, lang):
    login(client, staff[1], lang=lang)
    page = client.get(f"/{lang}/staff/cycles/{review_cycle['cycle']}").get_data(as_text=True)
    assert catalogue_translation("Not yet possible.", lang) in page
    for key in ("waiting", "revising"):
        assert f'href="/{lang}/staff/proposals/{review_cycle[key]}/review"' in page
    assert 'action="/%s/staff/cycles/%s/phase"' % (lang, review_cycle["cycle"]) not in page  # no move offered
    assert catalogue_translation("Review", lang) in page


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_cycle_page_in_proposals_says_review_opens_in_the_review_phase(client, make_cycle, make_proposal, staff,
                                                                      lang):
    cycle_id = make_cycle(phase="proposals")
    proposal_id = make_proposal(cycle_id, status="submitted")
    login(client, staff[1], lang=lang)
    page = client.get(f"/{lang}/staff/cycles/{cycle_id}").get_data(as_text=True)
    review_phase = catalogue_translation("Expert Council review", lang)
    assert catalogue_translation("Submitted proposals", lang) in page
    assert review_phase in page and f"/{lang}/staff/proposals/{proposal_id}/review" in page
    assert ">proposals<" not in page and ">review<" not in page  # phases in words, never codes


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_closed_cycle_page_links_the_count_turnout_and_each_missing_conclusion(client, counted_cycle, staff, lang):
    ids = counted_cycle()
    login(client, staff[1], lang=lang)
    page = client.get(f"/{lang}/staff/cycles/{ids['cycle']}").get_data(as_text=True)
    assert f"/{lang}/staff/cycles/{ids['cycle']}/turnout" in page
    assert f"/{lang}/staff/cycles/{ids['cycle']}/conclusions" in page
    for proposal_id in ids["proposals"].values():
        assert f"/{lang}/staff/proposals/{proposal_id}/conclusion" in page
    assert catalogue_translation("Voting closed", lang) in page and ">closed<" not in page
    assert catalogue_translation("The count", lang) in page
    conclusions = client.get(f"/{lang}/staff/cycles/{ids['cycle']}/conclusions").get_data(as_text=True)
    assert catalogue_translation("Voting closed", lang) in conclusions and ">closed<" not in conclusions


def test_published_cycle_page_links_implementation_updates(client, published_cycle, staff):
    ids = published_cycle()
    login(client, staff[1], lang="ru")
    page = client.get(f"/ru/staff/cycles/{ids['cycle']}").get_data(as_text=True)
    for key in ("A", "B"):  # approved
        assert f"/ru/staff/proposals/{ids['proposals'][key]}/implementation" in page
    assert f"/ru/staff/proposals/{ids['proposals']['C']}/implementation" not in page
    assert catalogue_translation("update due", "ru") in page


# --- The console: a to-do list ----------------------------------------------------------------

def test_console_lists_what_each_cycle_needs(app, review_cycle, counted_cycle, published_cycle, make_cycle, staff):
    closed = counted_cycle()
    published = published_cycle()
    draft = make_cycle(phase="draft")
    with app.app_context():
        user = db.session.get(User, staff[0])
        todos = {t.cycle.id: t for t in console.console(user, db.session.scalars(select(Cycle)).all(), now=NOW)}
        review = todos[review_cycle["cycle"]]
        kinds = {t.kind: t for t in review.tasks}
        assert kinds["review"].count == 1 and kinds["revisions_due"].count == 1
        assert kinds["revisions_due"].date == LATER and review.blocker.code == "proposals_undecided"
        assert todos[closed["cycle"]].tasks[0].kind == "conclusions_missing"
        assert todos[closed["cycle"]].tasks[0].count == 4
        assert todos[closed["cycle"]].blocker.code == "conclusions_missing"
        assert [t.kind for t in todos[published["cycle"]].tasks] == ["implementation_due"]
        assert todos[published["cycle"]].tasks[0].count == 2 and todos[published["cycle"]].next_phase is None
        assert todos[draft].tasks[0].kind == "open_proposals" and todos[draft].ready
        overdue = console.cycle_todo(user, db.session.get(Cycle, review_cycle["cycle"]),
                                     now=LATER + timedelta(hours=1))
        assert "revisions_overdue" in [t.kind for t in overdue.tasks]


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_console_page_words_the_tasks_with_links(client, review_cycle, counted_cycle, staff, lang):
    closed = counted_cycle()
    login(client, staff[1], lang=lang)
    page = client.get(f"/{lang}/staff/").get_data(as_text=True)
    assert f'href="/{lang}/staff/proposals/{review_cycle["waiting"]}/review"' in page
    assert f'href="/{lang}/staff/cycles/{closed["cycle"]}/conclusions"' in page
    four = "%(num)s conclusions missing"
    from babel.messages.pofile import read_po  # the plural form for 4 differs in kk and ru

    from tests.helpers import ROOT
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale=lang)
    forms = catalog.get(("%(num)s conclusion missing", four)[0]).string
    assert (forms[1] % {"num": 4}) in page  # 4: kk "other", ru "few"
    assert catalogue_translation("Blocked", lang) in page


# --- Titles in the state languages, rules in plain words --------------------------------------

def _cycle_body(**title):
    return {"territory": "750000000", "year": 2027, "title": title, "budget": 100_000_000,
            "max_project_cost": 20_000_000, "ballot": {"style": "single"}, "rule": "greedy", "min_voters": 10}


def test_titles_are_required_in_kk_and_ru_and_english_is_optional(client, staff, api_token):
    headers = api_token(staff[1])
    no_kk = client.post("/api/v1/cycles", json=_cycle_body(ru="БНУ 2027"), headers=headers)
    assert no_kk.status_code == 422 and "title_kk" in str(no_kk.get_json()["error"]["fields"])
    created = client.post("/api/v1/cycles", json=_cycle_body(kk="ХҚБ 2027", ru="БНУ 2027"), headers=headers)
    assert created.status_code == 201, created.get_json()
    cycle_id = created.get_json()["id"]
    data = client.get(f"/api/v1/cycles/{cycle_id}", headers={**headers, "Accept-Language": "en"}).get_json()
    assert data["title_i18n"]["en"] == "" and data["title"] == "БНУ 2027"
    login(client, staff[1], lang="en")
    page = client.get(f"/en/staff/cycles/{cycle_id}").get_data(as_text=True)
    assert '<span lang="ru">БНУ 2027</span>' in page and "no title in English; shown in Russian" in page
    public = client.get(f"/en/cycles/{cycle_id}").get_data(as_text=True)  # a draft: its staff see it
    assert '<h1><span lang="ru">БНУ 2027</span> <small class="muted">(no title in English' in public
    assert "no title in English" not in client.get(f"/ru/cycles/{cycle_id}").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_cycle_form_explains_rules_and_styles_in_plain_words(client, staff, lang):
    login(client, staff[1], lang=lang)
    page = client.get(f"/{lang}/staff/cycles/new").get_data(as_text=True)
    for msgid in ("By number of votes, while the budget lasts", "One project, final once cast",
                  "A set of projects within the budget"):
        assert catalogue_translation(msgid, lang) in page
    assert catalogue_translation("Each resident chooses projects whose total cost fits within the budget.",
                                 lang) in page
    for jargon in ("greedy", "Greedy", "knapsack", "Knapsack", "Жадный", "Рюкзак"):
        assert f">{jargon}" not in page
    form = {"csrf_token": csrf_token(client.get(f"/{lang}/staff/cycles/new")), "territory": "750000000",
            "year": "2027", "title_kk": "ХҚБ", "title_ru": "БНУ", "title_en": "", "budget": "1000000",
            "max_project_cost": "100000", "categories": ["parks"], "ballot_style": "single", "rule": "greedy",
            "min_voters": "10"}
    created = client.post(f"/{lang}/staff/cycles/new", data=form)
    assert created.status_code == 302


# --- The review page shows everything the resident sent ----------------------------------------

def test_review_page_shows_photos_location_and_cost_against_the_cap(app, client, review_cycle, staff):
    with app.app_context():
        proposal = db.session.get(Proposal, review_cycle["waiting"])
        proposal.latitude, proposal.longitude = 43.2208, 76.8612
        proposal.photos.append(ProposalPhoto(filename="abc123.jpg", width=640, height=480))
        db.session.commit()
    login(client, staff[1], lang="ru")
    page = client.get(f"/ru/staff/proposals/{review_cycle['waiting']}/review").get_data(as_text=True)
    assert f"/ru/proposals/{review_cycle['waiting']}/photos/abc123.jpg" in page
    assert "43.220800, 76.861200" in page and "openstreetmap.org" in page
    assert "пр. Абая, 10" in page and "30 000 000" in page.replace("\xa0", " ")
    assert catalogue_translation("What the resident sent", "ru") in page


# --- Staff are told when a cycle needs them -----------------------------------------------------

def test_staff_are_emailed_in_their_language_when_a_proposal_is_submitted(app, client, make_cycle, make_user, staff,
                                                                          api_token):
    _staff_email(app, staff[0], locale="ru")
    cycle_id = make_cycle(phase="proposals")
    _, iin = make_user(territory="751410000")
    response = client.post(f"/api/v1/cycles/{cycle_id}/proposals", headers=api_token(iin), json={
        "title": "Скамейки во дворе", "description": "Пять скамеек.", "category": "parks", "cost": 1_000_000})
    assert response.status_code == 201
    mail = app.extensions["outbox"][-1]
    assert mail.recipients == ["akimat@example.kz"]
    assert mail.subject == catalogue_translation('New proposal in "%(cycle)s"', "ru", cycle="БНУ Алматы 2026")
    assert f"/ru/staff/cycles/{cycle_id}#proposals" in mail.body


def test_staff_are_emailed_when_voting_closes_and_is_counted(app, client, make_cycle, make_proposal, staff, api_token):
    _staff_email(app, staff[0], locale="kk")
    cycle_id = make_cycle(phase="voting", voting_close=datetime.now(timezone.utc) - timedelta(hours=1))
    make_proposal(cycle_id, status="admitted")
    response = client.post(f"/api/v1/cycles/{cycle_id}/phase", json={"phase": "closed"}, headers=api_token(staff[1]))
    assert response.status_code == 200
    mail = app.extensions["outbox"][-1]
    assert mail.recipients == ["akimat@example.kz"]
    assert mail.subject == catalogue_translation("Voting is closed and counted", "kk")
    assert f"/kk/staff/cycles/{cycle_id}/conclusions" in mail.body


def test_notify_due_reports_each_passed_revision_deadline_once(app, runner, review_cycle, staff):
    _staff_email(app, staff[0], locale="ru")
    with app.app_context():
        db.session.get(Proposal, review_cycle["revising"]).revision_deadline = NOW - timedelta(days=1)
        db.session.commit()
    first = runner.invoke(args=["cycles", "notify-due"])
    assert first.exit_code == 0 and "1 passed revision deadlines reported, 1 emails sent" in first.output
    mail = app.extensions["outbox"][-1]
    assert mail.subject == catalogue_translation("A revision deadline has passed", "ru")
    assert f"/ru/staff/proposals/{review_cycle['revising']}/review" in mail.body
    again = runner.invoke(args=["cycles", "notify-due"])
    assert "0 passed revision deadlines reported" in again.output
