"""What staff write, in kk, ru and en: the Expert Council's reasons and implementation notes
stored per language, shown with `lang` and a fallback note in the page's language, entered on
staff forms that say which languages are missing, and given through the API."""
from datetime import date, datetime, timezone

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.domain import conclusions as conclusions_domain
from app.domain import proposals as proposal_domain
from app.domain import texts
from app.domain.errors import ValidationFailed
from app.extensions import db
from app.models import ImplementationUpdate, Proposal, User
from config import TestingConfig
from tests.helpers import ROOT, catalogue_translation, conclude_all, csrf_token, login, publish

NOW = datetime(2026, 4, 20, 6, 0, tzinfo=timezone.utc)
IN_RUSSIAN = "There is no text in this language; it is shown in Russian."
IN_KAZAKH = "There is no text in this language; it is shown in Kazakh."
REASON_RU = "Участок находится в частной собственности."


@pytest.fixture
def in_review(app, make_cycle, make_proposal, make_user):
    cycle_id = make_cycle(phase="review")
    author_id, _ = make_user(territory="751410000")
    first = make_proposal(cycle_id, author_id=author_id, status="submitted", title="Сквер на Тимирязева")
    second = make_proposal(cycle_id, author_id=author_id, status="submitted", title="Фонари на Байзакова")
    staff_id, staff_iin = make_user(role="staff", territory="750000000")
    return dict(cycle=cycle_id, proposals=[first, second], staff=staff_id, staff_iin=staff_iin)


def _review(app, setup, proposal_id, decision, reason, **kwargs):
    with app.app_context():
        proposal_domain.review_proposal(db.session.get(User, setup["staff"]), db.session.get(Proposal, proposal_id),
                                        decision, reason, now=NOW, **kwargs)
        db.session.commit()


# --- the domain ------------------------------------------------------------------------------

@pytest.mark.parametrize("sample, lang", [
    ("Жер учаскесі жеке меншікте.", "kk"), ("Участок в частной собственности.", "ru"),
    ("The plot is privately owned.", "en"), ("", "en")])
def test_a_single_text_goes_to_the_language_its_letters_show(sample, lang):
    assert texts.guess_language(sample) == lang


def test_reader_gets_their_language_else_russian_kazakh_english():
    both = {"kk": "Қазақша", "ru": "По-русски", "en": None}
    assert texts.localized(both, "kk") == ("Қазақша", "kk")
    assert texts.localized(both, "en") == ("По-русски", "ru")
    assert texts.localized({"kk": "Қазақша", "ru": "", "en": None}, "ru") == ("Қазақша", "kk")
    assert texts.localized({"kk": None, "ru": None, "en": None}, "kk") == ("", "kk")
    assert texts.missing_languages(both) == ["en"]


def test_review_stores_the_reason_in_each_language(app, in_review):
    first, second = in_review["proposals"]
    _review(app, in_review, first, "rejected", {"kk": " Жеке меншік. ", "ru": REASON_RU, "en": ""})
    # An older caller's single string lands in the language of its letters.
    _review(app, in_review, second, "rejected", "Жер учаскесі жеке меншікте.")
    with app.app_context():
        p = db.session.get(Proposal, first)
        assert p.review_reason_i18n == {"kk": "Жеке меншік.", "ru": REASON_RU, "en": None}
        q = db.session.get(Proposal, second)
        assert q.review_reason_i18n == {"kk": "Жер учаскесі жеке меншікте.", "ru": None, "en": None}


@pytest.mark.parametrize("decision", ["rejected", "revision_requested"])
def test_rejection_and_revision_need_a_reason_in_at_least_one_language(app, in_review, decision):
    deadline = datetime(2026, 5, 1, tzinfo=timezone.utc)
    with pytest.raises(ValidationFailed) as caught:
        _review(app, in_review, in_review["proposals"][0], decision, {"kk": "  ", "ru": "", "en": None},
                revision_deadline=deadline)
    assert "reason" in caught.value.fields
    # English alone is enough for the rule (the form asks for both state languages).
    _review(app, in_review, in_review["proposals"][0], decision, {"en": "Attach a site plan."},
            revision_deadline=deadline)


def test_a_reason_too_long_or_of_the_wrong_type_names_its_language(app, in_review):
    with pytest.raises(ValidationFailed) as caught:
        _review(app, in_review, in_review["proposals"][0], "rejected", {"kk": "ә" * 5001, "ru": 5})
    assert set(caught.value.fields) == {"reason_kk", "reason_ru"}
    with pytest.raises(ValidationFailed) as caught:
        _review(app, in_review, in_review["proposals"][0], "rejected", ["ru", "нет"])
    assert "reason" in caught.value.fields


def _approved(app, counted_cycle, staff):
    ids = counted_cycle()
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])
    return ids


def test_implementation_notes_by_language_and_a_cancellation_needs_one(app, counted_cycle, staff):
    ids = _approved(app, counted_cycle, staff)
    with app.app_context():
        user, proposal = db.session.get(User, staff[0]), db.session.get(Proposal, ids["proposals"]["A"])
        with pytest.raises(ValidationFailed) as caught:
            conclusions_domain.add_implementation_update(user, proposal, "cancelled", date(2027, 1, 5),
                                                         {"kk": "", "ru": " "})
        assert "note" in caught.value.fields
        db.session.rollback()
        update = conclusions_domain.add_implementation_update(
            user, proposal, "works", date(2027, 1, 5), {"kk": "Жұмыс басталды.", "ru": "Работы начаты."})
        db.session.commit()
        assert db.session.get(ImplementationUpdate, update.id).note_i18n == {
            "kk": "Жұмыс басталды.", "ru": "Работы начаты.", "en": None}


# --- the migration ---------------------------------------------------------------------------

def test_migration_moves_existing_text_into_the_language_it_was_written_in(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(Config)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="73a4ba0f0966")
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO proposal (id, cycle_id, author_id, territory_id, language, title, description, "
                "category, cost, address, status, review_reason) VALUES "
                "(1, 1, 1, 1, 'ru', 't', 'd', 'parks', 1, '', 'rejected', 'Жеке меншікте.'),"
                "(2, 1, 1, 1, 'ru', 't', 'd', 'parks', 1, '', 'rejected', 'В частной собственности.'),"
                "(3, 1, 1, 1, 'ru', 't', 'd', 'parks', 1, '', 'rejected', 'Privately owned.'),"
                "(4, 1, 1, 1, 'ru', 't', 'd', 'parks', 1, '', 'admitted', '')"))
            conn.execute(text("INSERT INTO implementation_update (id, proposal_id, status, note) VALUES "
                              "(1, 1, 'works', 'Работы начаты.')"))
        upgrade(directory=str(ROOT / "migrations"))
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, review_reason_kk, review_reason_ru, review_reason_en "
                                     "FROM proposal ORDER BY id")).all()
            notes = conn.execute(text("SELECT note_kk, note_ru, note_en FROM implementation_update")).all()
        assert [tuple(r) for r in rows] == [(1, "Жеке меншікте.", "", ""), (2, "", "В частной собственности.", ""),
                                            (3, "", "", "Privately owned."), (4, "", "", "")]
        assert [tuple(n) for n in notes] == [("", "Работы начаты.", "")]
        engine.dispose()
        db.engine.dispose()


# --- pages -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_reason_is_shown_with_lang_and_a_note_in_the_page_language(app, client, in_review, lang):
    first = in_review["proposals"][0]
    _review(app, in_review, first, "rejected", {"ru": REASON_RU})
    page = client.get(f"/{lang}/proposals/{first}").get_data(as_text=True)
    assert f'<span lang="ru">{REASON_RU}</span>' in page
    if lang == "ru":
        assert 'class="fallback-note"' not in page
    else:
        note = IN_RUSSIAN if lang == "en" else catalogue_translation(IN_RUSSIAN, lang)
        assert note in page
        assert "Русский" not in page.split('<main', 1)[-1].split("</main>")[0]
    if lang == "kk":
        assert "орыс тілінде" in catalogue_translation(IN_RUSSIAN, "kk")
    # The same text on the cycle's list and the admission protocol.
    listing = client.get(f"/{lang}/cycles/{in_review['cycle']}").get_data(as_text=True)
    assert f'<span lang="ru">{REASON_RU}</span>' in listing


def test_the_readers_own_language_wins(app, client, in_review):
    first = in_review["proposals"][0]
    _review(app, in_review, first, "rejected", {"kk": "Жеке меншік.", "ru": REASON_RU})
    kk = client.get(f"/kk/proposals/{first}").get_data(as_text=True)
    assert '<span lang="kk">Жеке меншік.</span>' in kk and REASON_RU not in kk
    assert 'class="fallback-note"' not in kk


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_implementation_note_on_the_results_page(app, client, counted_cycle, staff, lang):
    ids = _approved(app, counted_cycle, staff)
    with app.app_context():
        conclusions_domain.add_implementation_update(
            db.session.get(User, staff[0]), db.session.get(Proposal, ids["proposals"]["A"]), "planned",
            date(2026, 11, 1), {"kk": "Жоспарға енгізілді."})
        db.session.commit()
    page = client.get(f"/{lang}/cycles/{ids['cycle']}/results").get_data(as_text=True)
    assert '<span lang="kk">Жоспарға енгізілді.</span>' in page
    note = catalogue_translation(IN_KAZAKH, lang)
    assert (note in page) == (lang == "ru")


def test_staff_review_form_takes_three_languages_and_shows_what_is_missing(app, client, in_review):
    first = in_review["proposals"][0]
    login(client, in_review["staff_iin"], lang="ru")
    url = f"/ru/staff/proposals/{first}/review"
    page = client.get(url)
    html = page.get_data(as_text=True)
    for lang in ("kk", "ru", "en"):
        assert f'name="reason_{lang}"' in html and f'lang="{lang}"' in html
    response = client.post(url, data={"csrf_token": csrf_token(page), "decision": "rejected",
                                      "reason_kk": "Жеке меншік.", "reason_ru": REASON_RU, "reason_en": ""})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Proposal, first).review_reason_i18n == {"kk": "Жеке меншік.", "ru": REASON_RU,
                                                                      "en": None}
    html = client.get(url).get_data(as_text=True)
    missing = html[html.index(catalogue_translation("Missing languages", "ru")):]
    missing = missing[:missing.index("</p>")]
    assert "English" in missing and "Қазақша" not in missing and "Русский" not in missing
    assert f"{REASON_RU}</textarea>" in html


def test_staff_implementation_form_takes_three_languages(app, client, auth, counted_cycle, staff):
    ids = _approved(app, counted_cycle, staff)
    auth.login(staff[1], lang="kk")
    url = f"/kk/staff/proposals/{ids['proposals']['A']}/implementation"
    page = client.get(url)
    # A cancellation without any note: refused, the form says which languages are missing.
    response = client.post(url, data={"status": "cancelled", "on_date": "2026-12-01", "note_ru": "",
                                      "csrf_token": csrf_token(page)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert catalogue_translation("Give the reason for cancelling.", "kk") in html
    response = client.post(url, data={"status": "works", "on_date": "2026-12-01", "note_ru": "Работы начаты.",
                                      "note_kk": "Жұмыс басталды.", "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    with app.app_context():
        update = db.session.scalar(db.select(ImplementationUpdate))
        assert update.note_i18n == {"kk": "Жұмыс басталды.", "ru": "Работы начаты.", "en": None}


# --- the API ---------------------------------------------------------------------------------

def test_api_review_takes_reason_in_the_request_language_or_reason_i18n(app, client, in_review, api_token):
    first, second = in_review["proposals"]
    headers = api_token(in_review["staff_iin"])
    response = client.post(f"/api/v1/proposals/{first}/review", headers={**headers, "Accept-Language": "kk"},
                           json={"decision": "rejected", "reason": "Жеке меншік."})
    assert response.status_code == 200, response.get_json()
    review = response.get_json()["review"]
    assert review["reason_i18n"] == {"kk": "Жеке меншік.", "ru": None, "en": None}
    assert review["reason"] == "Жеке меншік." and review["reason_language"] == "kk"
    response = client.post(f"/api/v1/proposals/{second}/review", headers={**headers, "Accept-Language": "en"},
                           json={"decision": "rejected", "reason_i18n": {"ru": REASON_RU, "kk": "Жеке меншік."}})
    review = response.get_json()["review"]
    assert review["reason_i18n"] == {"kk": "Жеке меншік.", "ru": REASON_RU, "en": None}
    # No English text: the reader of en gets Russian, and is told so.
    assert review["reason"] == REASON_RU and review["reason_language"] == "ru"
    bad = client.post(f"/api/v1/proposals/{second}/review", headers=headers,
                      json={"decision": "rejected", "reason_i18n": {"ru": "  "}})
    assert bad.status_code == 422 and "reason" in bad.get_json()["error"]["fields"]
    wrong = client.post(f"/api/v1/proposals/{second}/review", headers=headers,
                        json={"decision": "rejected", "reason_i18n": "текст"})
    assert wrong.status_code == 422 and "reason_i18n" in wrong.get_json()["error"]["fields"]


def test_api_results_give_note_i18n(app, client, counted_cycle, staff):
    ids = _approved(app, counted_cycle, staff)
    with app.app_context():
        conclusions_domain.add_implementation_update(
            db.session.get(User, staff[0]), db.session.get(Proposal, ids["proposals"]["A"]), "planned",
            date(2026, 11, 1), {"ru": "Включено в план."})
        db.session.commit()
    document = client.get(f"/api/v1/cycles/{ids['cycle']}/results", headers={"Accept-Language": "kk"}).get_json()
    item = next(p for p in document["proposals"] if p["id"] == ids["proposals"]["A"])
    assert item["implementation"] == [{"status": "planned", "date": "2026-11-01", "note": "Включено в план.",
                                       "note_language": "ru",
                                       "note_i18n": {"kk": None, "ru": "Включено в план.", "en": None}}]


def test_openapi_describes_the_texts_by_language(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    review = spec["paths"]["/proposals/{proposal_id}/review"]["post"]
    body = review["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert "reason_i18n" in body and "Accept-Language" in body["reason"]["description"]
    proposal = spec["components"]["schemas"]["Proposal"]["properties"]["review"]["properties"]
    assert {"reason", "reason_language", "reason_i18n"} <= set(proposal)
    results = spec["components"]["schemas"]["Results"]["properties"]["proposals"]["items"]["properties"]
    assert "note_i18n" in results["implementation"]["items"]["properties"]
