"""The resident's and the journalist's journeys, by links from the home page (issue 12, 1–3):
vote from home, sign in and come back to the ballot, "you voted", refusals explained before
trying, the receipt check (page and API), and a published cycle's results from home."""
import re
from datetime import datetime, timezone
from html import unescape

import pytest
from sqlalchemy import select

from app.domain import voting
from app.extensions import db
from app.models import Ballot, BallotItem, Proposal
from tests.helpers import PASSWORD, catalogue_translation, conclude_all, csrf_token, publish, residents

CLOSES = datetime(2026, 12, 20, 13, 0, tzinfo=timezone.utc)  # 18:00 in Almaty
OPENS = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)


def text(response):
    return unescape(response.get_data(as_text=True))


def voting_cycle(make_cycle, make_proposal, app, style="approval", phase="voting", **fields):
    """An Almaty cycle with two admitted proposals; returns (cycle id, [proposal ids])."""
    values = dict(voting_open=OPENS, voting_close=CLOSES, max_choices=2 if style == "approval" else None)
    values.update(fields)
    cycle_id = make_cycle(phase=phase, ballot_style=style, **values)
    author = residents(app, "751410000", 1)[0]
    return cycle_id, [make_proposal(cycle_id, author_id=author, cost=c) for c in (1_000_000, 2_000_000)]


def login_at(client, iin, lang, next_url=None):
    url = f"/{lang}/login" + (f"?next={next_url}" if next_url else "")
    page = client.get(url)
    return client.post(url, data={"iin": iin, "password": PASSWORD, "csrf_token": csrf_token(page)})


def cast(client, lang, cycle_id, proposal_ids):
    page = client.get(f"/{lang}/cycles/{cycle_id}/ballot")
    return client.post(f"/{lang}/cycles/{cycle_id}/ballot", data={
        "csrf_token": csrf_token(page), "proposals": [str(p) for p in proposal_ids], "action": "confirm"})


def plural(app, lang, singular, plural_, n):
    """The catalogue's plural form for n, as the page renders it."""
    from flask_babel import force_locale, ngettext

    with app.test_request_context(), force_locale(lang):
        return ngettext(singular, plural_, n)


def set_receipt(app, cycle_id, receipt, proposal_id=None):
    """Give one ballot of the cycle a known receipt (the fixtures write random hex ones)."""
    with app.app_context():
        query = select(Ballot).where(Ballot.cycle_id == cycle_id)
        if proposal_id is not None:
            query = query.join(BallotItem).where(BallotItem.proposal_id == proposal_id)
        ballot = db.session.scalars(query.order_by(Ballot.id)).first()
        ballot.receipt = receipt
        db.session.commit()


# --- 1. The resident ----------------------------------------------------------------------------

@pytest.mark.parametrize("lang, date", [("kk", "20 желтоқсан 2026\u00a0ж., 18:00"),
                                        ("ru", "20 декабря 2026\u00a0г., 18:00")])
def test_resident_finds_the_vote_button_with_its_closing_date_on_home_and_cycle_page(
        app, client, make_cycle, make_proposal, make_user, lang, date):
    cycle_id, _ = voting_cycle(make_cycle, make_proposal, app)
    _, iin = make_user()
    login_at(client, iin, lang)
    closes = catalogue_translation("Voting closes on %(date)s.", lang, date=date)
    vote = catalogue_translation("Vote", lang)
    for page in (client.get(f"/{lang}/"), client.get(f"/{lang}/cycles/{cycle_id}")):
        body = text(page)
        assert page.status_code == 200
        assert f'<a class="button" href="/{lang}/cycles/{cycle_id}/ballot">{vote}</a>' in body
        assert closes in body


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_visitor_signs_in_to_vote_and_lands_on_the_ballot(app, client, make_cycle, make_proposal, make_user, lang):
    cycle_id, _ = voting_cycle(make_cycle, make_proposal, app)
    _, iin = make_user()
    ballot = f"/{lang}/cycles/{cycle_id}/ballot"
    home = text(client.get(f"/{lang}/"))
    sign_in = catalogue_translation("Sign in to vote", lang)
    link = re.search(r'<a class="button" href="([^"]+)">' + re.escape(sign_in) + "</a>", home)
    assert link, "the home card offers to sign in to vote"
    assert link.group(1) == f"/{lang}/login?next=/{lang}/cycles/{cycle_id}/ballot"
    # The ballot URL itself sends a visitor to the login page, which comes back to it.
    to_login = client.get(ballot)
    assert to_login.status_code == 302 and "/login?next=" in to_login.headers["Location"]
    page = client.get(link.group(1))
    done = client.post(link.group(1), data={"iin": iin, "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert done.status_code == 302 and done.headers["Location"] == ballot
    assert client.get(ballot).status_code == 200


def test_an_already_signed_in_resident_following_sign_in_to_vote_goes_straight_on(
        app, client, make_cycle, make_proposal, make_user):
    cycle_id, _ = voting_cycle(make_cycle, make_proposal, app)
    _, iin = make_user()
    login_at(client, iin, "kk")
    again = client.get(f"/kk/login?next=/kk/cycles/{cycle_id}/ballot")
    assert again.status_code == 302 and again.headers["Location"] == f"/kk/cycles/{cycle_id}/ballot"
    assert client.get("/kk/login?next=//evil.example/").headers["Location"] == "/kk/"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example", "javascript:alert(1)",
    "http:/evil.example", " /kk/", "/kk/\r\nSet-Cookie:x=1"])
def test_login_goes_back_only_to_a_path_on_this_site(client, make_user, target):
    _, iin = make_user(locale="en")  # without a safe target: home, in the account's language
    page = client.get("/en/login")
    done = client.post("/en/login", query_string={"next": target},
                       data={"iin": iin, "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert done.status_code == 302 and done.headers["Location"] == "/en/"


def test_registration_from_sign_in_to_vote_also_returns_to_the_ballot(app, client, make_cycle, make_proposal,
                                                                      new_iin):
    cycle_id, _ = voting_cycle(make_cycle, make_proposal, app)
    ballot = f"/ru/cycles/{cycle_id}/ballot"
    login_page = text(client.get(f"/ru/login?next={ballot}"))
    assert f'href="/ru/register?next=/ru/cycles/{cycle_id}/ballot"' in login_page
    url = f"/ru/register?next={ballot}"
    page = client.get(url)
    iin = new_iin()
    done = client.post(url, data={"iin": iin, "full_name": "Айгуль Нурланова", "territory": "751410000",
                                  "password": PASSWORD, "password2": PASSWORD, "csrf_token": csrf_token(page)})
    # Registration answers alike whether or not the IIN had an account: sign in next, and the
    # sign-in still leads back to the ballot.
    assert done.status_code == 302 and done.headers["Location"] == f"/ru/login?next={ballot}"
    page = client.get(done.headers["Location"])
    signed_in = client.post(done.headers["Location"],
                            data={"iin": iin, "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == ballot


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_after_voting_home_and_cycle_page_say_you_voted_with_the_receipt(
        app, client, make_cycle, make_proposal, make_user, lang):
    cycle_id, (p1, _p2) = voting_cycle(make_cycle, make_proposal, app)
    _, iin = make_user()
    login_at(client, iin, lang)
    assert cast(client, lang, cycle_id, [p1]).status_code == 302
    with app.app_context():
        receipt = db.session.scalar(select(Ballot.receipt).where(Ballot.cycle_id == cycle_id))
    for page in (client.get(f"/{lang}/"), client.get(f"/{lang}/cycles/{cycle_id}")):
        body = text(page)
        assert catalogue_translation("You voted", lang) in body
        assert catalogue_translation("Your ballot is stored. Receipt code: %(code)s", lang, code=receipt) in body
        see = catalogue_translation("See your receipt", lang)
        assert f'href="/{lang}/cycles/{cycle_id}/ballot/receipt">{see}' in body
        assert f'href="/{lang}/cycles/{cycle_id}/ballot">{catalogue_translation("Change your vote", lang)}' in body
        assert f'<a class="button" href="/{lang}/cycles/{cycle_id}/ballot">' not in body  # no second "Vote"


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_final_ballot_offers_no_change_and_reopening_it_shows_the_receipt_with_why(
        app, client, make_cycle, make_proposal, make_user, lang):
    cycle_id, (p1, _p2) = voting_cycle(make_cycle, make_proposal, app, style="single")
    _, iin = make_user()
    login_at(client, iin, lang)
    assert cast(client, lang, cycle_id, [p1]).status_code == 302
    cycle_page = text(client.get(f"/{lang}/cycles/{cycle_id}"))
    assert catalogue_translation("You voted", lang) in cycle_page
    assert catalogue_translation("Change your vote", lang) not in cycle_page
    again = client.get(f"/{lang}/cycles/{cycle_id}/ballot")
    body = text(again)
    assert again.status_code == 200 and 'id="receipt"' in body
    assert catalogue_translation(
        "Your ballot has been cast and is final: in this cycle it cannot be changed.", lang) in body


@pytest.mark.parametrize("lang, cycle_unit, your_unit", [("kk", "Алматы қ.", "Астана қ."),
                                                         ("ru", "г.Алматы", "г.Астана")])
def test_a_resident_of_another_unit_learns_why_before_trying(
        app, client, make_cycle, make_proposal, make_user, lang, cycle_unit, your_unit):
    cycle_id, _ = voting_cycle(make_cycle, make_proposal, app)
    _, iin = make_user(territory="710000000")
    login_at(client, iin, lang)
    why = catalogue_translation(
        "Only residents of %(cycle_unit)s can vote in this cycle. Your account is registered in %(your_unit)s.",
        lang, cycle_unit=cycle_unit, your_unit=your_unit)
    for page in (client.get(f"/{lang}/"), client.get(f"/{lang}/cycles/{cycle_id}")):
        body = text(page)
        assert why in body
        assert f'href="/{lang}/cycles/{cycle_id}/ballot"' not in body
    # Typing the ballot URL gives the same reason on a page with a way back, not a bare 403.
    refused = client.get(f"/{lang}/cycles/{cycle_id}/ballot")
    body = text(refused)
    assert refused.status_code == 403 and why in body
    assert catalogue_translation("You cannot vote in this cycle", lang) in body
    assert f'href="/{lang}/cycles/{cycle_id}">{catalogue_translation("Back to the cycle", lang)}' in body


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_staff_are_told_that_staff_accounts_do_not_vote(app, client, make_cycle, make_proposal, staff, lang):
    cycle_id, _ = voting_cycle(make_cycle, make_proposal, app)
    login_at(client, staff[1], lang)
    why = catalogue_translation("Staff accounts do not vote. Sign in with your resident account to vote.", lang)
    assert why in text(client.get(f"/{lang}/cycles/{cycle_id}"))


@pytest.mark.parametrize("lang, date", [("kk", "1 желтоқсан 2026\u00a0ж., 09:00"),
                                        ("ru", "1 декабря 2026\u00a0г., 09:00")])
def test_before_voting_opens_the_page_says_when_it_opens(app, client, make_cycle, make_proposal, lang, date):
    cycle_id, _ = voting_cycle(make_cycle, make_proposal, app, phase="review")
    page = text(client.get(f"/{lang}/cycles/{cycle_id}"))
    assert catalogue_translation("Voting has not opened yet: it opens on %(date)s.", lang, date=date) in page
    assert catalogue_translation("Sign in to vote", lang) not in page


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_after_voting_closes_the_page_says_so_and_the_ballot_url_explains(
        app, client, make_cycle, make_proposal, make_user, lang):
    cycle_id, _ = voting_cycle(make_cycle, make_proposal, app, phase="closed")
    _, iin = make_user()
    login_at(client, iin, lang)
    closed = catalogue_translation("Voting in this cycle has closed.", lang)
    assert closed in text(client.get(f"/{lang}/"))
    assert closed in text(client.get(f"/{lang}/cycles/{cycle_id}"))
    refused = client.get(f"/{lang}/cycles/{cycle_id}/ballot")
    assert refused.status_code == 409 and closed in text(refused)


def test_the_domain_refusal_is_the_one_the_page_shows(app, make_cycle, make_proposal, make_user):
    """The cycle page asks voting.require_can_vote: a check that passes there lets the cast through."""
    cycle_id, (p1, _p2) = voting_cycle(make_cycle, make_proposal, app)
    user_id, _ = make_user()
    from app.domain import access
    from app.models import Cycle, User

    with app.app_context():
        voter, cycle = db.session.get(User, user_id), db.session.get(Cycle, cycle_id)
        assert access.ask(voting.require_can_vote, voter, cycle).allowed
        assert access.ask(voting.require_can_vote, None, cycle).sign_in
        voting.cast_ballot(voter, cycle, [p1])
        db.session.commit()


# --- 2. The receipt check --------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["K7QX-3M9P-WT2R-8HZA", "k7qx3m9pwt2r8hza", " k7qx 3m9p – wt2r—8hza ",
                                   "K7QX_3M9P_WT2R_8HZA", "к7qх-3м9р-wт2r-8нzа"])
def test_receipt_codes_are_normalised(typed):
    assert voting.normalise_receipt(typed) == "K7QX-3M9P-WT2R-8HZA"


@pytest.mark.parametrize("typed", ["", "K7QX-3M9P-WT2R", "K7QX-3M9P-WT2R-8HZA-AAAA", "O0I1-3M9P-WT2R-8HZA", None, 42])
def test_impossible_receipt_codes_are_none(typed):
    assert voting.normalise_receipt(typed) is None


def test_receipt_api_stored_and_counted_only_once_published(app, client, counted_cycle, staff):
    ids = counted_cycle()
    set_receipt(app, ids["cycle"], "AAAA-BBBB-CCCC-DDDD")
    before = client.get("/api/v1/receipts/aaaa bbbb cccc dddd")
    assert before.status_code == 200
    assert before.get_json() == {"cycle": ids["cycle"], "stored": True, "counted": None, "channel": "online",
                                 "sealed": None, "proof": None}  # this cycle was closed unsealed
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])  # seals it
    after = client.get("/api/v1/receipts/AAAABBBBCCCCDDDD").get_json()
    proof = after.pop("proof")
    assert after == {"cycle": ids["cycle"], "stored": True, "counted": True, "channel": "online", "sealed": True}
    assert set(proof) == {"algorithm", "leaf_hash", "index", "leaves", "audit_path", "root"}
    assert proof["leaves"] == 25
    body = client.get("/api/v1/receipts/AAAABBBBCCCCDDDD").get_data(as_text=True)
    assert "proposals" not in body and "voter" not in body and "secret" not in body


def test_receipt_api_a_ballot_with_nothing_counted_is_not_counted(app, client, counted_cycle, staff):
    ids = counted_cycle()
    with app.app_context():
        # A proposal withdrawn after someone chose it: the count has no figure for it.
        ballot = db.session.scalars(select(Ballot).where(Ballot.cycle_id == ids["cycle"])).first()
        gone = Proposal(cycle_id=ids["cycle"], author_id=ids["author"], territory_id=ballot.territory_id,
                        status="withdrawn", cost=1_000_000, title="Снято", description="", category="parks")
        db.session.add(gone)
        db.session.flush()
        ballot.items = [BallotItem(proposal_id=gone.id)]
        ballot.receipt = "EEEE-FFFF-GGGG-HHHH"
        db.session.commit()
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])
    assert client.get("/api/v1/receipts/EEEE-FFFF-GGGG-HHHH").get_json()["counted"] is False


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_receipt_api_unknown_code_is_404_receipt_unknown(client, lang):
    for code in ("ZZZZ-ZZZZ-ZZZZ-ZZZZ", "not-a-code", "%20"):
        response = client.get(f"/api/v1/receipts/{code}", headers={"Accept-Language": lang})
        assert response.status_code == 404
        error = response.get_json()["error"]
        assert error["code"] == "receipt_unknown"
        assert error["message"] == catalogue_translation(
            "No ballot has this receipt code. Check the code and try again.", lang)


def test_receipt_checks_are_rate_limited_per_address_page_and_api_together(make_app, territories):
    app = make_app(RECEIPT_CHECKS_PER_ADDRESS="3 per minute")
    client = app.test_client()
    for _ in range(2):
        assert client.get("/api/v1/receipts/ZZZZ-ZZZZ-ZZZZ-ZZZZ").status_code == 404
    assert client.get("/ru/receipts?code=ZZZZ-ZZZZ-ZZZZ-ZZZZ").status_code == 404
    limited = client.get("/api/v1/receipts/ZZZZ-ZZZZ-ZZZZ-ZZZZ", headers={"Accept-Language": "kk"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert limited.get_json()["error"]["message"] == catalogue_translation(
        "Too many attempts. Please try again later.", "kk")
    page = client.get("/ru/receipts?code=ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert page.status_code == 429 and int(page.headers["Retry-After"]) >= 1
    assert catalogue_translation("Too many attempts. Please try again later.", "ru") in text(page)
    other = app.test_client()  # another address has its own count
    elsewhere = other.get("/api/v1/receipts/ZZZZ-ZZZZ-ZZZZ-ZZZZ", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 404


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_receipt_page_from_the_receipt_stored_then_counted(app, client, make_cycle, make_proposal, make_user, lang):
    cycle_id, (p1, _p2) = voting_cycle(make_cycle, make_proposal, app)
    _, iin = make_user()
    login_at(client, iin, lang)
    receipt_page = client.get(cast(client, lang, cycle_id, [p1]).headers["Location"])
    link = re.search(r'href="(/%s/receipts\?code=[^"]+)">%s' % (lang, re.escape(
        catalogue_translation("Check this code", lang))), text(receipt_page))
    assert link, "the receipt links to the check"
    checked = text(client.get(unescape(link.group(1))))
    assert catalogue_translation("This ballot is stored", lang) in checked
    assert catalogue_translation("Not known yet: this is shown once the results are published.", lang) in checked
    assert "Сквер на Абая" not in checked  # never the choices


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_receipt_page_unknown_code_and_the_links_that_lead_there(app, client, counted_cycle, staff, lang):
    ids = counted_cycle()
    set_receipt(app, ids["cycle"], "JJJJ-KKKK-LLLL-MMMM")
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])
    check = catalogue_translation("Check a receipt code", lang)
    home = text(client.get(f"/{lang}/"))
    assert f'<a href="/{lang}/receipts">{check}</a>' in home  # the footer and the latest results
    assert f'<a href="/{lang}/receipts">{check}</a>' in text(client.get(f"/{lang}/cycles/{ids['cycle']}"))
    unknown = client.get(f"/{lang}/receipts?code=ABCD-EFGH-JKLM-NPQR")
    assert unknown.status_code == 404
    unknown_text = catalogue_translation("No ballot has this receipt code. Check the code and try again.", lang)
    assert unknown_text in text(unknown)
    known = text(client.get(f"/{lang}/receipts?code=jjjj kkkk llll mmmm"))
    assert catalogue_translation("Yes: this ballot is part of the published results.", lang) in known
    assert f'href="/{lang}/cycles/{ids["cycle"]}/results"' in known


def test_receipt_check_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    responses = paths["/receipts/{code}"]["get"]["responses"]
    assert {"200", "404", "429"} <= set(responses)


# --- 3. The journalist -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_results_protocol_and_open_data_are_one_click_from_home(app, client, published_cycle, lang):
    ids = published_cycle()
    cycle_id = ids["cycle"]
    home = text(client.get(f"/{lang}/"))
    assert catalogue_translation("Latest results", lang) in home
    for target in (f"/{lang}/cycles/{cycle_id}/results", f"/{lang}/cycles/{cycle_id}/results/protocol",
                   f"/cycles/{cycle_id}/results.csv"):
        assert f'href="{target}"' in home
        assert client.get(target).status_code == 200
    cycle_page = text(client.get(f"/{lang}/cycles/{cycle_id}"))
    assert catalogue_translation("Results of the vote", lang) in cycle_page
    see = catalogue_translation("See the results", lang)
    assert f'<a class="button" href="/{lang}/cycles/{cycle_id}/results">{see}</a>' in cycle_page


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_published_proposal_shows_votes_minimum_selection_and_conclusion(app, client, published_cycle, lang):
    ids = published_cycle()
    selected = text(client.get(f"/{lang}/proposals/{ids['proposals']['A']}"))
    assert catalogue_translation("Admitted to voting", lang) in selected
    votes = {"kk": "25 дауыс", "ru": "25 голосов"}[lang]
    assert votes in selected
    assert catalogue_translation("Reached: at least %(num)s resident voted for it.", lang, num=10)  # translated
    assert plural(app, lang, "Reached: at least %(num)s resident voted for it.",
                  "Reached: at least %(num)s residents voted for it.", 10) in selected
    assert catalogue_translation("Approved for implementation", lang) in selected
    justification = {"kk": "Жоба іске асыруға мақұлданды.", "ru": "Проект одобрен к реализации."}[lang]
    assert f'<p lang="{lang}">{justification}</p>' in selected
    below = text(client.get(f"/{lang}/proposals/{ids['proposals']['D']}"))
    assert plural(app, lang, "Not reached: fewer than %(num)s resident voted for it, so it may not be implemented.",
                  "Not reached: fewer than %(num)s residents voted for it, so it may not be implemented.", 10) in below
    assert catalogue_translation("Not approved", lang) in below


def test_a_justification_in_another_language_carries_a_note_in_the_page_language(app, client, published_cycle):
    ids = published_cycle()
    page = text(client.get(f"/kk/proposals/{ids['proposals']['B']}"))  # written in Russian only
    assert '<p lang="ru">Одобрено: средства предусмотрены в бюджете.</p>' in page
    assert catalogue_translation("No text in this language. Shown in: %(language)s", "kk",
                                 language="орыс тілі") in page


def test_counts_stay_hidden_on_a_proposal_until_published_except_for_staff(app, client, counted_cycle, staff):
    ids = counted_cycle(phase="closed")
    url = f"/ru/proposals/{ids['proposals']['A']}"
    heading = catalogue_translation("Results of the vote", "ru")
    assert heading not in text(client.get(url))
    login_at(client, staff[1], "ru")
    assert heading in text(client.get(url)) and "25 голосов" in text(client.get(url))
