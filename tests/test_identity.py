"""Issue 14: EDS sign-in end to end, identity levels and residence checked at cast time,
registration that cannot be farmed, and sessions that really end."""
from datetime import date

import pytest
from sqlalchemy import func, select

from app.domain import accounts, assurance
from app.domain.errors import NotAllowed, ValidationFailed
from app.domain.iin import make_iin
from app.extensions import db
from app.models import ApiToken, Ballot, Cycle, User
from tests.helpers import PASSWORD, EdsPki, catalogue_translation, conclude_all, csrf_token, login, publish, residents

EDS_IIN = make_iin(date(1987, 6, 2), serial="0555")


def eds_token(client, pki, iin=EDS_IIN, name="ТЕСТОВ ТЕСТ ТЕСТОВИЧ"):
    challenge = client.post("/api/v1/auth/eds/challenge").get_json()["challenge"]
    response = client.post("/api/v1/auth/eds", json={
        "challenge": challenge, "cms": pki.sign(challenge, pki.person(iin, name))})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


# --- (a) EDS sign-in ---------------------------------------------------------------------------

def test_first_eds_sign_in_creates_the_account_and_later_ones_match_it(eds_app, eds_pki, territories):
    client = eds_app.test_client()
    challenge = client.post("/api/v1/auth/eds/challenge")
    assert challenge.status_code == 200 and {"challenge", "expires_at"} <= set(challenge.get_json())
    me = client.get("/api/v1/me", headers=eds_token(client, eds_pki)).get_json()
    assert me["full_name"] == "Тестов Тест Тестович"  # NCA's capitals, title-cased
    assert (me["assurance"], me["residence"], me["territory"], me["role"]) == ("eds", "declared", None, "resident")
    again = client.get("/api/v1/me", headers=eds_token(client, eds_pki)).get_json()
    assert again["id"] == me["id"]
    with eds_app.app_context():
        user = db.session.get(User, me["id"])
        assert EDS_IIN not in user.iin_hmac and user.password_hash == ""
        assert db.session.scalar(select(func.count(User.id))) == 1


def test_replayed_or_self_made_signatures_are_refused_with_a_translated_reason(eds_app, eds_pki, eds_keys,
                                                                              territories):
    client = eds_app.test_client()
    challenge = client.post("/api/v1/auth/eds/challenge").get_json()["challenge"]
    cms = eds_pki.sign(challenge, eds_pki.person(EDS_IIN))
    assert client.post("/api/v1/auth/eds", json={"challenge": challenge, "cms": cms}).status_code == 200
    replay = client.post("/api/v1/auth/eds", json={"challenge": challenge, "cms": cms},
                         headers={"Accept-Language": "ru"})
    assert replay.status_code == 401 and replay.get_json()["error"]["code"] == "challenge_invalid"
    assert replay.get_json()["error"]["message"] == catalogue_translation(
        "This sign-in request has expired. Please try again.", "ru")
    forger = EdsPki(list(reversed(eds_keys)))  # its own root, not the trusted one
    challenge = client.post("/api/v1/auth/eds/challenge").get_json()["challenge"]
    forged = client.post("/api/v1/auth/eds", headers={"Accept-Language": "kk"}, json={
        "challenge": challenge, "cms": forger.sign(challenge, forger.person(EDS_IIN))})
    assert forged.status_code == 401 and forged.get_json()["error"]["code"] == "certificate_untrusted"
    assert forged.get_json()["error"]["message"] == catalogue_translation(
        "The certificate is not trusted: it was not issued by the National Certification "
        "Authority of Kazakhstan.", "kk")


def test_eds_challenges_are_rate_limited_per_address(make_app, territories):
    client = make_app(EDS_CHALLENGES_PER_ADDRESS="2 per minute").test_client()
    assert [client.post("/api/v1/auth/eds/challenge").status_code for _ in range(2)] == [200, 200]
    third = client.post("/api/v1/auth/eds/challenge")
    assert third.status_code == 429 and int(third.headers["Retry-After"]) >= 1


def test_eds_sign_in_takes_over_a_password_account_of_the_same_iin(eds_app, eds_pki, make_user, auth):
    _, iin = make_user(name="Impostor")
    client = eds_app.test_client()
    password_token = client.post("/api/v1/auth/token", json={"iin": iin, "password": PASSWORD}).get_json()
    me = client.get("/api/v1/me", headers=eds_token(client, eds_pki, iin=iin)).get_json()
    assert me["assurance"] == "eds" and me["full_name"] == "Тестов Тест Тестович"
    old = {"Authorization": f"Bearer {password_token['token']}"}
    assert client.get("/api/v1/me", headers=old).status_code == 401  # the old token is revoked
    assert client.post("/api/v1/auth/token", json={"iin": iin, "password": PASSWORD}).status_code == 401


@pytest.mark.parametrize("lang, text", [
    ("en", "NCALayer is not running on this computer."),
    ("ru", None), ("kk", None)])
def test_login_page_offers_eds_and_explains_ncalayer(client, territories, lang, text):
    page = client.get(f"/{lang}/login")
    body = page.get_data(as_text=True)
    text = text or catalogue_translation("NCALayer is not running on this computer.", lang)
    assert text in body and "pki.gov.kz" in body and "js/ncalayer.js" in body
    assert "connect-src 'self' wss://127.0.0.1:13579" in page.headers["Content-Security-Policy"]
    assert 'action="/%s/login/eds/demo"' % lang in body  # development/demo only


def test_demo_certificate_signs_in_then_asks_for_home(client, territories):
    page = client.get("/kk/login")
    response = client.post("/kk/login/eds/demo", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/kk/home")
    home = client.get("/kk/home")
    assert catalogue_translation("Where you live", "kk") in home.get_data(as_text=True)
    saved = client.post("/kk/home", data={"csrf_token": csrf_token(home), "territory": "751410000"})
    assert saved.status_code == 302
    account = client.get("/kk/account").get_data(as_text=True)
    assert "Демонов Демо Демонович" in account
    assert catalogue_translation("an electronic digital signature (EDS)", "kk") in account


@pytest.mark.parametrize("target, lands", [("/kk/cycles", "/kk/cycles"),
                                           ("https://evil.example/kk/", "/kk/account")])
def test_first_eds_sign_in_goes_on_to_where_the_resident_was_going(client, territories, target, lands):
    """"Sign in to vote" → a first EDS sign-in → where you live → the ballot, not the account
    page; a target off the site is dropped at each step."""
    page = client.get(f"/kk/login?next={target}")
    response = client.post("/kk/login/eds/demo", data={"csrf_token": csrf_token(page), "next": target})
    home_url = response.headers["Location"]
    assert response.status_code == 302 and "/kk/home" in home_url
    home = client.get(home_url)
    saved = client.post(home_url, data={"csrf_token": csrf_token(home), "territory": "751410000"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(lands)


def test_demo_certificate_is_refused_without_the_demo_setting(eds_app, territories):
    client = eds_app.test_client()
    page = client.get("/en/login")
    assert b"/login/eds/demo" not in page.data
    assert client.post("/en/login/eds/demo", data={"csrf_token": csrf_token(page)}).status_code == 404


def test_eds_page_sign_in_posts_the_signed_challenge(eds_app, eds_pki, territories):
    client = eds_app.test_client()
    page = client.get("/ru/login")
    challenge = client.post("/api/v1/auth/eds/challenge").get_json()["challenge"]
    response = client.post("/ru/login/eds", data={
        "csrf_token": csrf_token(page), "challenge": challenge, "next": "",
        "cms": eds_pki.sign(challenge, eds_pki.person(EDS_IIN))})
    assert response.status_code == 302 and response.headers["Location"].endswith("/ru/home")
    replayer = eds_app.test_client()  # the same signed challenge, sent again from elsewhere
    page = replayer.get("/ru/login")
    refused = replayer.post("/ru/login/eds", data={
        "csrf_token": csrf_token(page), "challenge": challenge,
        "cms": eds_pki.sign(challenge, eds_pki.person(EDS_IIN))})
    assert refused.status_code == 401
    assert catalogue_translation("This sign-in request has expired. Please try again.", "ru") in \
        refused.get_data(as_text=True)


# --- (b) assurance and residence at cast time ----------------------------------------------------

@pytest.fixture
def voting_cycle(app, make_cycle, make_proposal):
    def factory(**fields):
        author = residents(app, "751410000", 1)[0]
        cycle_id = make_cycle(phase="voting", **fields)
        return cycle_id, make_proposal(cycle_id, author_id=author)
    return factory


def test_vote_below_the_cycles_assurance_is_refused_with_what_to_do(client, voting_cycle, make_user, api_token):
    cycle_id, proposal = voting_cycle(min_assurance_vote="eds")
    _, iin = make_user()
    headers = {**api_token(iin), "Accept-Language": "ru"}
    response = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal]}, headers=headers)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "assurance_required"
    assert response.get_json()["error"]["message"] == catalogue_translation(
        "This cycle accepts only residents who signed in with an electronic digital signature (EDS). "
        "Log out, then choose “Sign in with EDS” on the login page.", "ru")
    login(client, iin, lang="kk")
    page = client.get(f"/kk/cycles/{cycle_id}/ballot")
    assert page.status_code == 403
    assert catalogue_translation(
        "This cycle accepts only residents who signed in with an electronic digital signature (EDS). "
        "Log out, then choose “Sign in with EDS” on the login page.", "kk") in page.get_data(as_text=True)


def test_eds_resident_votes_where_eds_is_required(eds_app, eds_pki, voting_cycle, territories):
    cycle_id, proposal = voting_cycle(min_assurance_vote="eds")
    client = eds_app.test_client()
    headers = eds_token(client, eds_pki)
    with eds_app.app_context():
        user = db.session.scalar(select(User).where(User.assurance == "eds"))
        accounts.choose_home(user, "751410000")
        db.session.commit()
    response = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal]}, headers=headers)
    assert response.status_code == 200, response.get_json()


def test_residence_must_be_verified_where_the_cycle_says_so(app, voting_cycle, make_user):
    cycle_id, _ = voting_cycle(residence_verified_to_vote=True)
    user_id, _ = make_user()
    from app.domain import voting
    with app.app_context():
        user, cycle = db.session.get(User, user_id), db.session.get(Cycle, cycle_id)
        with pytest.raises(NotAllowed) as refused:
            voting.require_can_vote(user, cycle)
        assert refused.value.code == "assurance_required" and "verified" in str(refused.value)
        user.residence = "verified"
        voting.require_can_vote(user, cycle)


def test_proposals_need_the_cycles_assurance_to_propose(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals", min_assurance_propose="phone")
    user_id, _ = make_user()
    from app.domain import proposals
    with app.app_context():
        user, cycle = db.session.get(User, user_id), db.session.get(Cycle, cycle_id)
        with pytest.raises(NotAllowed, match="identity is confirmed"):
            proposals.require_can_submit(user, cycle)
        user.assurance = "eds"  # stronger than phone: enough
        proposals.require_can_submit(user, cycle)


def test_cycle_json_and_api_carry_the_requirements(client, make_user, api_token, territories):
    _, iin = make_user(role="staff", territory="750000000")
    body = {"territory": "750000000", "title": {"kk": "Қ", "ru": "Р", "en": "E"}, "budget": 1_000_000,
            "max_project_cost": 500_000, "min_assurance": {"propose": "phone", "vote": "eds"},
            "residence_verified_to_vote": True}
    created = client.post("/api/v1/cycles", json=body, headers=api_token(iin))
    assert created.status_code == 201, created.get_json()
    got = client.get(f"/api/v1/cycles/{created.get_json()['id']}", headers=api_token(iin)).get_json()
    assert got["min_assurance"] == {"propose": "phone", "vote": "eds"} and got["residence_verified_to_vote"] is True
    bad = client.post("/api/v1/cycles", json={**body, "min_assurance": {"vote": "fingerprint"}},
                      headers=api_token(iin))
    assert bad.status_code == 422 and "min_assurance_vote" in bad.get_json()["error"]["fields"]


def test_production_defaults_to_eds_to_vote_and_development_to_password(make_app):
    make_app(DEFAULT_MIN_ASSURANCE_VOTE="eds")
    assert assurance.defaults()["min_assurance_vote"] == "eds"
    make_app()
    assert assurance.defaults()["min_assurance_vote"] == "password"
    import config
    assert config.ProductionConfig.DEFAULT_MIN_ASSURANCE_VOTE == "eds"
    assert config.DevelopmentConfig.DEFAULT_MIN_ASSURANCE_VOTE == "password"


def test_results_page_states_the_requirement_the_cycle_used(app, client, counted_cycle, staff):
    ids = counted_cycle()
    cycle_id = ids["cycle"]
    with app.app_context():
        db.session.get(Cycle, cycle_id).min_assurance_vote = "eds"
        db.session.commit()
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])
    page = client.get(f"/ru/cycles/{cycle_id}/results").get_data(as_text=True)
    assert catalogue_translation("an electronic digital signature (EDS)", "ru") in page


def test_moving_home_is_a_new_declaration_and_keeps_one_ballot(app, voting_cycle, make_user):
    cycle_id, proposal = voting_cycle()
    user_id, _ = make_user(territory="751410000")
    from app.domain import voting
    with app.app_context():
        user, cycle = db.session.get(User, user_id), db.session.get(Cycle, cycle_id)
        user.residence = "verified"
        voting.cast_ballot(user, cycle, [proposal])
        db.session.commit()
        accounts.choose_home(user, "751710000")  # another district of the same city
        assert user.residence == "declared"
        voting.cast_ballot(user, cycle, [proposal])
        db.session.commit()
        assert db.session.scalar(select(func.count(Ballot.id)).where(Ballot.cycle_id == cycle_id)) == 1
        with pytest.raises(ValidationFailed):
            accounts.choose_home(user, "999999999")


# --- (c) registration cannot be farmed -----------------------------------------------------------

def test_registration_is_rate_limited_per_address(make_app, new_iin, territories):
    app = make_app(REGISTRATIONS_PER_ADDRESS="2 per hour")
    client = app.test_client()
    answers = [client.post("/api/v1/residents", json={
        "iin": new_iin(), "full_name": "Ф", "territory": "751410000", "password": PASSWORD}).status_code
        for _ in range(3)]
    assert answers[2] == 429


# --- (d) accounts people expect ------------------------------------------------------------------

@pytest.mark.parametrize("password", ["1234567890", "password12", " " * 10, "aaaaaaaaaa", "Qwertyuiop"])
def test_common_passwords_are_refused(app, territories, new_iin, password):
    with app.app_context():
        with pytest.raises(ValidationFailed) as refused:
            accounts.register_resident(iin=new_iin(), full_name="Ф", territory_code="751410000",
                                       password=password, iin_key="k")
        assert "password" in refused.value.fields


def test_common_password_message_is_translated(client, territories, new_iin):
    page = client.get("/ru/register")
    response = client.post("/ru/register", data={
        "csrf_token": csrf_token(page), "iin": new_iin(), "full_name": "Дана", "territory": "751410000",
        "password": "password12", "password2": "password12"})
    assert response.status_code == 422
    assert catalogue_translation("This password is among the most common ones and is easy to guess. "
                                 "Choose another.", "ru") in response.get_data(as_text=True)


def test_a_copied_session_cookie_stops_working_after_logout(app, client, make_user, auth):
    _, iin = make_user()
    login(client, iin)
    cookie = client.get_cookie("session").value
    assert client.get("/en/account").status_code == 200
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", cookie, domain="localhost")
    assert thief.get("/en/account").status_code == 302  # to the login page


def test_sign_out_everywhere_ends_sessions_and_revokes_tokens(app, client, make_user, api_token):
    user_id, iin = make_user()
    headers = api_token(iin)
    other = app.test_client()
    login(other, iin)
    login(client, iin)
    page = client.get("/en/account")
    assert b"Log out on every device" in page.data
    response = client.post("/en/logout/everywhere", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert other.get("/en/account").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == user_id)) == 0


# --- (e) residence verified by staff and by the register ------------------------------------------

def test_staff_verify_a_residents_home_from_the_page(app, client, make_user, staff):
    resident_id, resident_iin = make_user(territory="751410000")
    _, staff_iin = staff
    login(client, staff_iin, lang="ru")
    dashboard = client.get("/ru/staff/")
    assert b"/ru/staff/residents" in dashboard.data  # the console links to the page
    page = client.get("/ru/staff/residents")
    response = client.post("/ru/staff/residents", data={
        "csrf_token": csrf_token(page), "iin": resident_iin, "document": "id_card"})
    assert response.status_code == 302
    assert resident_iin not in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, resident_id)
        assert (user.residence, user.residence_document) == ("verified", "id_card")
        from app.models import AuditEntry
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "resident.verify"))
        assert entry.object_id == resident_id and entry.after["residence"] == "verified"
        assert resident_iin not in str(entry.before) + str(entry.after)


def test_staff_of_another_territory_cannot_verify(app, client, make_user):
    _, resident_iin = make_user(territory="751410000")  # Almaty
    _, staff_iin = make_user(role="staff", territory="710000000")  # Astana
    login(client, staff_iin, lang="kk")
    page = client.get("/kk/staff/residents")
    response = client.post("/kk/staff/residents", data={
        "csrf_token": csrf_token(page), "iin": resident_iin, "document": "passport"})
    assert response.status_code == 404
    assert catalogue_translation("No resident with this IIN lives in your territory.", "kk") in \
        response.get_data(as_text=True)


def test_register_import_verifies_matching_accounts_and_stores_no_iin(app, runner, make_user, new_iin,
                                                                      tmp_path):
    here_id, here_iin = make_user(territory="751410000")
    elsewhere_id, elsewhere_iin = make_user(territory="751710000")
    later_iin = new_iin()
    register = tmp_path / "register.csv"
    register.write_text(f"iin,kato\n{here_iin},751410000\n{elsewhere_iin},751410000\n{later_iin},751410000\n")
    result = runner.invoke(args=["residents", "import", str(register)])
    assert result.exit_code == 0, result.output
    assert "3 residents in the register; 1 accounts verified" in result.output
    with app.app_context():
        assert db.session.get(User, here_id).residence == "verified"
        assert db.session.get(User, elsewhere_id).residence == "declared"  # listed at another home
        from app.models import RegisteredResident
        stored = " ".join(r.iin_hmac for r in db.session.scalars(select(RegisteredResident)))
        assert here_iin not in stored and later_iin not in stored
        user = accounts.register_resident(iin=later_iin, full_name="Later", territory_code="751410000",
                                          password=PASSWORD, iin_key=app.config["IIN_HMAC_KEY"])
        assert user.residence == "verified"  # registering where the register lists them
        moved = db.session.get(User, elsewhere_id)
        accounts.choose_home(moved, "751410000")
        assert moved.residence == "verified"


def test_register_import_with_a_bad_row_changes_nothing(app, runner, make_user, tmp_path):
    user_id, iin = make_user(territory="751410000")
    register = tmp_path / "register.csv"
    register.write_text(f"iin,kato\n{iin},751410000\n123456789012,751410000\n{iin},999999999\n")
    result = runner.invoke(args=["residents", "import", str(register)])
    assert result.exit_code != 0 and "line 3" in result.output and "line 4" in result.output
    assert "123456789012" not in result.output
    with app.app_context():
        assert db.session.get(User, user_id).residence == "declared"


def test_change_password_needs_the_current_one_and_ends_other_sessions(app, client, make_user):
    _, iin = make_user()
    other = app.test_client()
    login(other, iin)
    login(client, iin, lang="ru")
    assert b"/ru/account/password" in client.get("/ru/account").data
    page = client.get("/ru/account/password")
    wrong = client.post("/ru/account/password", data={"csrf_token": csrf_token(page), "current": "nope",
                                                      "new": "a-fresh-long-phrase", "new2": "a-fresh-long-phrase"})
    assert wrong.status_code == 422
    assert catalogue_translation("The current password is incorrect.", "ru") in wrong.get_data(as_text=True)
    done = client.post("/ru/account/password", data={"csrf_token": csrf_token(page), "current": PASSWORD,
                                                     "new": "a-fresh-long-phrase", "new2": "a-fresh-long-phrase"})
    assert done.status_code == 302
    assert client.get("/ru/account").status_code == 200  # this browser stays signed in
    assert other.get("/ru/account").status_code == 302  # the other session has ended
    fresh = app.test_client()
    page = fresh.get("/en/login")
    assert fresh.post("/en/login", data={"csrf_token": csrf_token(page), "iin": iin,
                                         "password": "a-fresh-long-phrase"}).status_code == 302


def test_password_reset_link_works_once_and_the_answer_never_tells(app, client, make_user, new_iin):
    _, iin = make_user(email="dana@example.kz", locale="ru")
    page = client.get("/en/password/forgot")
    assert b"/en/password/forgot" in client.get("/en/login").data
    known = client.post("/en/password/forgot", data={"csrf_token": csrf_token(page), "iin": iin})
    unknown = client.post("/en/password/forgot", data={"csrf_token": csrf_token(page), "iin": new_iin()})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    (mail,) = [m for m in app.extensions["outbox"] if m.recipients == ["dana@example.kz"]]
    link = next(word for word in mail.body.split() if "/password/reset/" in word)
    path = link[link.index("/ru/"):]
    with app.app_context():
        from app.models import PasswordReset
        token = path.rsplit("/", 1)[1]
        assert all(token not in r.token_hash for r in db.session.scalars(select(PasswordReset)))
    form = client.get(path)
    data = {"csrf_token": csrf_token(form), "new": "another-long-phrase", "new2": "another-long-phrase"}
    assert client.post(path, data=data).status_code == 302
    again = client.post(path, data=data)
    assert again.status_code == 404
    assert catalogue_translation("This password reset link has expired or was already used. Ask for a new one.",
                                 "ru") in again.get_data(as_text=True)
    fresh = app.test_client()
    page = fresh.get("/en/login")
    assert fresh.post("/en/login", data={"csrf_token": csrf_token(page), "iin": iin,
                                         "password": "another-long-phrase"}).status_code == 302


def test_password_reset_link_expires(app, make_user):
    from datetime import datetime, timedelta, timezone
    user_id, iin = make_user(email="a@example.kz")
    with app.app_context():
        start = datetime.now(timezone.utc)
        _, token = accounts.request_password_reset(iin, app.config["IIN_HMAC_KEY"], now=start)
        db.session.commit()
        with pytest.raises(Exception) as refused:
            accounts.reset_password(token, "yet-another-phrase", now=start + accounts.RESET_TTL + timedelta(seconds=1))
        assert getattr(refused.value, "code", None) == "reset_link_invalid"
