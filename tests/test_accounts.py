"""Accounts people expect (issue 14): the profile page, the phone confirmed by an SMS code, the
staff's second factor, the home chosen by API, and the identity level of each session."""
import re
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from sqlalchemy import func, select

from app import notifications
from app.domain import accounts, phone, second_factor
from app.domain.errors import DomainError
from app.extensions import db
from app.models import ApiToken, Ballot, Cycle, PhoneCode, Proposal, RecoveryCode, User
from tests.helpers import PASSWORD, catalogue_translation, conclude_all, csrf_token, login, residents
from tests.test_identity import EDS_IIN, eds_token

NUMBER = "+77011234567"


def last_sms(app, to=None):
    messages = [m for m in app.extensions["sms_outbox"] if to is None or m["to"] == to]
    assert messages, "no SMS was sent"
    return messages[-1]


def sms_code(app, to=NUMBER):
    return re.search(r"\b(\d{6})\b", last_sms(app, to)["text"]).group(1)


def wrong(code):
    return f"{(int(code) + 1) % 10**6:06d}"


# --- the profile page ------------------------------------------------------------------------------

def test_profile_is_linked_from_the_header_and_saves_contact_language_and_choices(app, client, make_user):
    user_id, iin = make_user(email="old@example.kz")
    login(client, iin)
    home = client.get("/en/").get_data(as_text=True)
    assert 'href="/en/account"' in home
    page = client.get("/en/account")
    text = page.get_data(as_text=True)
    for heading in ("How sure we are that it is you", "Where you live", "Phone", "Email, language and notifications",
                    "Password and sessions"):
        assert heading in text
    assert "You signed in with a password." in text and "bring your identity document" in text
    saved = client.post("/en/account", data={"csrf_token": csrf_token(page), "email": "dana@example.kz",
                                             "locale": "ru", "notify_proposals": "y"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/ru/account")
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.email, user.locale, user.notify_proposals, user.notify_results) == \
            ("dana@example.kz", "ru", True, False)
    ru = client.get("/ru/account").get_data(as_text=True)
    assert catalogue_translation("My account", "ru") in ru


@pytest.mark.parametrize("values, field", [({"email": "not-an-address", "locale": "kk"}, "email"),
                                           ({"email": "", "locale": "de"}, "locale")])
def test_profile_refuses_bad_values_with_a_message(app, client, make_user, values, field):
    user_id, iin = make_user(email="keep@example.kz")
    login(client, iin)
    page = client.get("/en/account")
    response = client.post("/en/account", data={"csrf_token": csrf_token(page), **values})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user_id).email == "keep@example.kz"


def test_sign_in_opens_the_site_in_the_preferred_language(client, make_user):
    _, iin = make_user(locale="ru")
    response = login(client, iin, lang="en")
    assert response.headers["Location"].endswith("/ru/")
    assert catalogue_translation("You are logged in.", "ru") in client.get("/ru/").get_data(as_text=True)


def test_email_choices_are_honoured(app, counted_cycle, staff):
    from tests.helpers import publish

    ids = counted_cycle(author_email="author@example.kz")
    conclude_all(app, ids, staff[0])
    with app.test_request_context("/en/"):
        author = db.session.get(User, ids["author"])
        proposal = db.session.get(Proposal, ids["proposals"]["A"])
        author.notify_proposals = False
        assert not notifications.notify_proposal_reviewed(proposal)
        assert not notifications.notify_proposal_concluded(proposal)
        author.notify_proposals, author.notify_results = True, False
        assert notifications.notify_proposal_reviewed(proposal)
        db.session.commit()
    publish(app, ids, staff[0])
    with app.test_request_context("/en/"):
        cycle = db.session.get(Cycle, ids["cycle"])
        assert notifications.notify_cycle_published(cycle) == 0
        db.session.get(User, ids["author"]).notify_results = True
        assert notifications.notify_cycle_published(cycle) == 4


def test_profile_by_api(client, make_user, api_token):
    _, iin = make_user()
    headers = api_token(iin)
    changed = client.patch("/api/v1/me", json={"email": "a@example.kz", "locale": "en", "notify_results": False},
                           headers=headers)
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["email"], body["locale"], body["notify_results"], body["notify_proposals"]) == \
        ("a@example.kz", "en", False, True)
    bad = client.patch("/api/v1/me", json={"locale": "fr", "notify_results": "yes"}, headers=headers)
    assert bad.status_code == 422 and {"locale", "notify_results"} <= set(bad.get_json()["error"]["fields"])


# --- the phone level ---------------------------------------------------------------------------------

def test_phone_confirmed_by_sms_code_raises_the_level_by_api(app, client, make_user, api_token):
    user_id, iin = make_user()
    headers = api_token(iin)
    sent = client.post("/api/v1/me/phone", json={"phone": "+7 (701) 123-45-67"}, headers=headers)
    assert sent.status_code == 202 and sent.get_json()["phone"] == NUMBER
    code = sms_code(app)
    with app.app_context():
        row = db.session.scalar(select(PhoneCode).where(PhoneCode.user_id == user_id))
        assert code not in row.code_hash and len(row.code_hash) == 64  # only a keyed hash is kept
        assert row.expires_at - row.created_at == timedelta(minutes=10)
    refused = client.post("/api/v1/me/phone/confirm", json={"code": wrong(code)},
                          headers={**headers, "Accept-Language": "ru"})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "phone_code_wrong"
    assert refused.get_json()["error"]["fields"]["code"]
    me = client.post("/api/v1/me/phone/confirm", json={"code": code}, headers=headers)
    assert me.status_code == 200, me.get_json()
    assert (me.get_json()["assurance"], me.get_json()["phone"], me.get_json()["phone_confirmed"]) == \
        ("phone", NUMBER, True)
    again = client.post("/api/v1/me/phone/confirm", json={"code": code}, headers=headers)
    assert again.status_code == 422 and again.get_json()["error"]["code"] == "phone_code_expired"


def test_a_code_dies_after_five_wrong_tries_and_after_ten_minutes(app, make_user):
    user_id, _ = make_user()
    key = app.config["SECRET_KEY"]
    with app.app_context():
        user = db.session.get(User, user_id)
        _, code = phone.start_confirmation(user, NUMBER, key)
        for _try in range(phone.MAX_ATTEMPTS):
            with pytest.raises(phone.WrongCode):
                phone.confirm(user, wrong(code), key)
        with pytest.raises(DomainError, match="expired"):
            phone.confirm(user, code, key)  # the right code, too late
        _, code = phone.start_confirmation(user, NUMBER, key)
        with pytest.raises(DomainError, match="expired"):
            phone.confirm(user, code, key, now=datetime.now(timezone.utc) + timedelta(minutes=11))
        _, older = phone.start_confirmation(user, NUMBER, key)
        _, newer = phone.start_confirmation(user, NUMBER, key)
        if older != newer:
            with pytest.raises(phone.WrongCode):
                phone.confirm(user, older, key)  # a newer code kills the older one
        phone.confirm(user, newer, key)
        assert user.assurance == "phone" and user.confirmed_phone == NUMBER


def test_wrong_tries_are_counted_even_though_the_request_fails(app, client, make_user, api_token):
    user_id, iin = make_user()
    headers = api_token(iin)
    client.post("/api/v1/me/phone", json={"phone": NUMBER}, headers=headers)
    code = sms_code(app)
    for _try in range(phone.MAX_ATTEMPTS):
        client.post("/api/v1/me/phone/confirm", json={"code": wrong(code)}, headers=headers)
    late = client.post("/api/v1/me/phone/confirm", json={"code": code}, headers=headers)
    assert late.status_code == 422 and late.get_json()["error"]["code"] == "phone_code_expired"
    with app.app_context():
        assert db.session.get(User, user_id).confirmed_phone is None


def test_code_sends_are_rate_limited_with_retry_after(make_app, make_user, api_token):
    app = make_app(SMS_CODES_PER_ACCOUNT="2 per hour")
    client = app.test_client()
    _, iin = make_user()
    response = client.post("/api/v1/auth/token", json={"iin": iin, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
    answers = [client.post("/api/v1/me/phone", json={"phone": NUMBER}, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert int(answers[2].headers["Retry-After"]) > 0
    assert len(app.extensions["sms_outbox"]) == 2


def test_one_number_confirms_one_account(app, client, make_user, api_token):
    _, first = make_user()
    _, second = make_user()
    for iin, expected in ((first, 200), (second, 409)):
        headers = api_token(iin)
        assert client.post("/api/v1/me/phone", json={"phone": NUMBER}, headers=headers).status_code == 202
        confirmed = client.post("/api/v1/me/phone/confirm", json={"code": sms_code(app)}, headers=headers)
        assert confirmed.status_code == expected
    assert confirmed.get_json()["error"]["code"] == "phone_taken"


def test_a_malformed_number_or_no_gateway_is_a_clear_refusal(make_app, make_user):
    app = make_app(SMS_GATEWAY="disabled")
    client = app.test_client()
    _, iin = make_user()
    token = client.post("/api/v1/auth/token", json={"iin": iin, "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    unavailable = client.post("/api/v1/me/phone", json={"phone": NUMBER}, headers=headers)
    assert unavailable.status_code == 503 and unavailable.get_json()["error"]["code"] == "sms_unavailable"
    assert "Retry-After" in unavailable.headers
    login(client, iin)
    assert "not available on this site yet" in client.get("/en/account").get_data(as_text=True)
    app2 = make_app()
    client2 = app2.test_client()
    token = client2.post("/api/v1/auth/token", json={"iin": iin, "password": PASSWORD}).get_json()["token"]
    bad = client2.post("/api/v1/me/phone", json={"phone": "12"}, headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 422 and "phone" in bad.get_json()["error"]["fields"]


def test_confirming_a_phone_never_lowers_eds(eds_app, eds_pki, territories):
    client = eds_app.test_client()
    headers = eds_token(client, eds_pki)
    assert client.post("/api/v1/me/phone", json={"phone": NUMBER}, headers=headers).status_code == 202
    me = client.post("/api/v1/me/phone/confirm", json={"code": sms_code(eds_app)}, headers=headers).get_json()
    assert (me["assurance"], me["account_assurance"], me["phone_confirmed"]) == ("eds", "eds", True)


def test_phone_confirmation_on_the_page_in_kazakh(app, client, make_user):
    user_id, iin = make_user()
    login(client, iin, lang="kk")
    page = client.get("/kk/account")
    sent = client.post("/kk/account/phone", data={"csrf_token": csrf_token(page), "phone": "8 701 123 45 67"})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/kk/account/phone/confirm")
    form = client.get("/kk/account/phone/confirm")
    assert NUMBER in form.get_data(as_text=True)
    assert "Qatysu" in last_sms(app)["text"] and last_sms(app)["text"] != sms_code(app)
    bad = client.post("/kk/account/phone/confirm", data={"csrf_token": csrf_token(form), "code": wrong(sms_code(app))})
    assert bad.status_code == 422
    assert catalogue_translation("The code is incorrect. You have %(n)s more try.", "kk", n=4).split("%")[0][:10] \
        in bad.get_data(as_text=True)
    done = client.post("/kk/account/phone/confirm", data={"csrf_token": csrf_token(form), "code": sms_code(app)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/kk/account")
    with app.app_context():
        assert db.session.get(User, user_id).assurance == "phone"
    bad_number = client.post("/kk/account/phone", data={"csrf_token": csrf_token(page), "phone": "abc"})
    assert bad_number.status_code == 422 and 'aria-invalid="true"' in bad_number.get_data(as_text=True)


def test_registration_with_a_taken_iin_tells_the_holder_by_sms(app, client, make_user, new_iin):
    _, iin = make_user(locale="en")  # the holder is told in their own language
    with app.app_context():
        holder = accounts.find_user_by_iin(iin, app.config["IIN_HMAC_KEY"])
        holder.phone = holder.confirmed_phone = NUMBER
        db.session.commit()
    page = client.get("/en/register")
    response = client.post("/en/register", data={
        "csrf_token": csrf_token(page), "iin": iin, "full_name": "Someone Else", "territory": "751410000",
        "password": "another-long-password", "password2": "another-long-password", "phone": "+77019999999"})
    assert response.status_code == 302
    told = last_sms(app, NUMBER)
    assert "already has an account" in told["text"]
    assert not [m for m in app.extensions["sms_outbox"] if m["to"] == "+77019999999"]


# --- the level of each session --------------------------------------------------------------------

@pytest.fixture
def eds_cycle(app, make_cycle, make_proposal):
    author = residents(app, "751410000", 1)[0]
    cycle_id = make_cycle(phase="voting", min_assurance_vote="eds")
    return cycle_id, make_proposal(cycle_id, author_id=author)


def test_a_password_session_of_an_eds_account_counts_as_password(eds_app, eds_pki, territories, make_cycle):
    cycle_id = make_cycle(phase="voting", min_assurance_vote="eds")
    client = eds_app.test_client()
    eds_headers = eds_token(client, eds_pki)
    assert client.put("/api/v1/me/territory", json={"territory": "751410000"}, headers=eds_headers).status_code == 200
    author = residents(eds_app, "751410000", 1)[0]
    with eds_app.app_context():
        user = db.session.scalar(select(User).where(User.assurance == "eds", User.full_name != "Voter 0"))
        accounts.change_password(user, None, PASSWORD)  # an EDS account sets its first password
        proposal = Proposal(cycle_id=cycle_id, author_id=author, territory_id=user.territory_id, status="admitted",
                            cost=1_000_000, title="Сквер", description="x", category="parks", address="a",
                            language="ru")
        db.session.add(proposal)
        db.session.commit()
        proposal_id = proposal.id
    eds_headers = eds_token(client, eds_pki)  # the password change ended the older token
    password = client.post("/api/v1/auth/token", json={"iin": EDS_IIN, "password": PASSWORD}).get_json()
    password_headers = {"Authorization": f"Bearer {password['token']}"}
    me = client.get("/api/v1/me", headers=password_headers).get_json()
    assert (me["assurance"], me["account_assurance"], me["signed_in_with"]) == ("password", "eds", "password")
    refused = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal_id]},
                         headers=password_headers)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "assurance_required"
    cast = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal_id]}, headers=eds_headers)
    assert cast.status_code == 200, cast.get_json()
    with eds_app.app_context():
        kinds = set(db.session.scalars(select(ApiToken.signed_in_with)))
        assert kinds == {"eds", "password"}
    # The same on the pages: a password session is refused where the EDS session was not.
    login(client, EDS_IIN)
    page = client.get(f"/en/cycles/{cycle_id}/ballot")
    assert page.status_code == 403 and "Sign in with EDS" in page.get_data(as_text=True)
    account = client.get("/en/account").get_data(as_text=True)
    assert "only the way you signed in this time counts" in account


def test_demo_eds_session_counts_as_eds_on_the_pages(app, client, territories, eds_cycle):
    cycle_id, proposal = eds_cycle
    page = client.get("/en/login")
    client.post("/en/login/eds/demo", data={"csrf_token": csrf_token(page)})
    home = client.get("/en/home")
    client.post("/en/home", data={"csrf_token": csrf_token(home), "territory": "751410000"})
    account = client.get("/en/account").get_data(as_text=True)
    assert "You signed in with your electronic digital signature" in account
    ballot = client.get(f"/en/cycles/{cycle_id}/ballot")
    assert ballot.status_code == 200


def test_a_confirmed_phone_lifts_a_password_session_to_phone(app, client, make_user, make_cycle, make_proposal):
    cycle_id = make_cycle(phase="voting", min_assurance_vote="phone")
    proposal = make_proposal(cycle_id)
    user_id, iin = make_user()
    token = client.post("/api/v1/auth/token", json={"iin": iin, "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    before = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal]}, headers=headers)
    assert before.status_code == 403
    client.post("/api/v1/me/phone", json={"phone": NUMBER}, headers=headers)
    client.post("/api/v1/me/phone/confirm", json={"code": sms_code(app)}, headers=headers)
    after = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal]}, headers=headers)
    assert after.status_code == 200, after.get_json()


# --- home by API; moving never gives a second vote ----------------------------------------------------

def test_eds_account_chooses_and_changes_home_by_api(eds_app, eds_pki, territories, make_cycle):
    cycle_id = make_cycle(phase="voting", territory="750000000")
    client = eds_app.test_client()
    headers = eds_token(client, eds_pki)
    assert client.get("/api/v1/me", headers=headers).get_json()["territory"] is None
    for bad in ({"territory": "999999999"}, {"territory": 751410000}, {}):
        refused = client.put("/api/v1/me/territory", json=bad, headers=headers)
        assert refused.status_code == 422 and "territory" in refused.get_json()["error"]["fields"]
    chosen = client.put("/api/v1/me/territory", json={"territory": "751410000"}, headers=headers).get_json()
    assert (chosen["territory"], chosen["residence"]) == ("751410000", "declared")
    author = residents(eds_app, "751410000", 1)[0]
    with eds_app.app_context():
        user = db.session.get(User, chosen["id"])
        user.residence = "verified"
        proposal = Proposal(cycle_id=cycle_id, author_id=author, territory_id=user.territory_id, status="admitted",
                            cost=1_000_000, title="Сквер", description="x", category="parks", address="a",
                            language="ru")
        db.session.add(proposal)
        db.session.commit()
        proposal_id, first_unit = proposal.id, user.territory_id
    assert client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal_id]},
                      headers=headers).status_code == 200
    moved = client.put("/api/v1/me/territory", json={"territory": "751710000"}, headers=headers).get_json()
    assert (moved["territory"], moved["residence"]) == ("751710000", "declared")  # a new declaration
    again = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal_id]}, headers=headers)
    assert again.status_code == 200  # the same ballot, replaced: still one
    with eds_app.app_context():
        ballots = db.session.scalars(select(Ballot).where(Ballot.cycle_id == cycle_id)).all()
        assert len(ballots) == 1 and ballots[0].territory_id == first_unit
    away = client.put("/api/v1/me/territory", json={"territory": "711210000"}, headers=headers)  # Astana
    assert away.status_code == 200
    refused = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal_id]}, headers=headers)
    assert refused.status_code == 403
    with eds_app.app_context():
        assert db.session.scalar(select(func.count(Ballot.id)).where(Ballot.cycle_id == cycle_id)) == 1


def test_staff_cannot_declare_a_home_by_api(client, staff, api_token):
    response = client.put("/api/v1/me/territory", json={"territory": "751410000"}, headers=api_token(staff[1]))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "staff_home_fixed"


# --- the staff's second factor ---------------------------------------------------------------------------

def totp_now(app, user_id, offset=0):
    with app.app_context():
        secret = db.session.get(User, user_id).totp_secret
    return pyotp.TOTP(secret).at(datetime.now(timezone.utc) + timedelta(seconds=offset))


def test_staff_enrol_then_give_the_code_at_every_password_login(make_app, make_user):
    app = make_app(STAFF_SECOND_FACTOR_REQUIRED=True)
    client = app.test_client()
    staff_id, iin = make_user(role="staff", territory="750000000")
    first = login(client, iin)
    assert first.headers["Location"].endswith("/login/second-factor")
    assert client.get("/en/staff/").status_code == 302  # not signed in yet
    enrol = client.get("/en/login/second-factor")
    text = enrol.get_data(as_text=True)
    assert 'src="data:image/svg+xml' in text and 'id="totp-secret"' in text
    with app.app_context():
        secret = db.session.get(User, staff_id).totp_secret
        assert secret.replace(" ", "")[:4] in text
    wrong_code = client.post("/en/login/second-factor", data={"csrf_token": csrf_token(enrol), "code": "000000"})
    assert wrong_code.status_code == 422 or totp_now(app, staff_id) == "000000"
    codes_page = client.post("/en/login/second-factor", data={"csrf_token": csrf_token(enrol),
                                                              "code": totp_now(app, staff_id)})
    assert codes_page.status_code == 200
    recovery = re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", codes_page.get_data(as_text=True))
    assert len(recovery) == 10
    assert client.get("/en/staff/").status_code == 200
    with app.app_context():
        hashes = set(db.session.scalars(select(RecoveryCode.code_hash)))
        assert len(hashes) == 10 and not any(c.replace("-", "") in h for c in recovery for h in hashes)
    # Next login: the password alone is not enough; the used code cannot be replayed.
    client.post("/en/logout", data={"csrf_token": csrf_token(client.get("/en/"))})
    assert login(client, iin).headers["Location"].endswith("/login/second-factor")
    step = client.get("/en/login/second-factor")
    assert "Code from your authenticator app" in step.get_data(as_text=True)
    replay = client.post("/en/login/second-factor", data={"csrf_token": csrf_token(step),
                                                          "code": totp_now(app, staff_id, -30)})
    assert replay.status_code == 401
    used = client.post("/en/login/second-factor", data={"csrf_token": csrf_token(step), "code": recovery[0]})
    assert used.status_code == 302 and client.get("/en/staff/").status_code == 200
    client.post("/en/logout", data={"csrf_token": csrf_token(client.get("/en/"))})
    login(client, iin)
    step = client.get("/en/login/second-factor")
    again = client.post("/en/login/second-factor", data={"csrf_token": csrf_token(step), "code": recovery[0]})
    assert again.status_code == 401  # each recovery code works once


def test_wrong_second_factor_codes_are_throttled(make_app, make_user):
    app = make_app(STAFF_SECOND_FACTOR_REQUIRED=True, SECOND_FACTOR_FAILURES_PER_ACCOUNT="2 per hour")
    client = app.test_client()
    staff_id, iin = make_user(role="staff", territory="750000000")
    with app.app_context():
        user = db.session.get(User, staff_id)
        second_factor.begin_enrolment(user)
        second_factor.confirm_enrolment(user, pyotp.TOTP(user.totp_secret).now())
        db.session.commit()
    login(client, iin)
    step = client.get("/en/login/second-factor")
    answers = [client.post("/en/login/second-factor", data={"csrf_token": csrf_token(step), "code": "12345x"})
               for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429] and "Retry-After" in answers[2].headers


def test_staff_tokens_need_the_second_factor(make_app, make_user):
    app = make_app(STAFF_SECOND_FACTOR_REQUIRED=True)
    client = app.test_client()
    staff_id, iin = make_user(role="staff", territory="750000000")
    body = {"iin": iin, "password": PASSWORD}
    not_enrolled = client.post("/api/v1/auth/token", json=body)
    assert not_enrolled.status_code == 403 and not_enrolled.get_json()["error"]["code"] == "second_factor_not_enrolled"
    with app.app_context():
        user = db.session.get(User, staff_id)
        second_factor.begin_enrolment(user)
        db.session.commit()
    code = totp_now(app, staff_id, -30)
    with app.app_context():
        second_factor.confirm_enrolment(db.session.get(User, staff_id), code)
        db.session.commit()
    missing = client.post("/api/v1/auth/token", json=body)
    assert missing.status_code == 401 and missing.get_json()["error"]["code"] == "second_factor_required"
    bad = client.post("/api/v1/auth/token", json={**body, "totp": "abcdef"})
    assert bad.status_code == 401 and bad.get_json()["error"]["code"] == "second_factor_invalid"
    good = client.post("/api/v1/auth/token", json={**body, "totp": totp_now(app, staff_id)})
    assert good.status_code == 200
    headers = {"Authorization": f"Bearer {good.get_json()['token']}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["signed_in_with"] == "password+totp"
    # A password-only token (from before the rule) no longer opens a staff account.
    with app.app_context():
        old, _ = accounts.issue_token(db.session.get(User, staff_id), 1, "password")
        db.session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401


def test_staff_signing_in_with_eds_need_no_code(make_app, eds_pki, tmp_path, territories):
    roots = tmp_path / "roots-2fa.pem"
    roots.write_bytes(eds_pki.roots_pem)
    app = make_app(EDS_DEMO=False, EDS_TRUSTED_ROOTS=str(roots), STAFF_SECOND_FACTOR_REQUIRED=True)
    with app.app_context():
        accounts.create_staff(iin=EDS_IIN, full_name="Staff", territory_code="750000000", password=PASSWORD,
                              iin_key=app.config["IIN_HMAC_KEY"])
        db.session.commit()
    client = app.test_client()
    me = client.get("/api/v1/me", headers=eds_token(client, eds_pki)).get_json()
    assert (me["role"], me["signed_in_with"]) == ("staff", "eds")


def test_second_factor_is_required_in_production_only(make_app):
    import config

    assert config.ProductionConfig.STAFF_SECOND_FACTOR_REQUIRED is True
    assert config.DevelopmentConfig.STAFF_SECOND_FACTOR_REQUIRED is False
    assert config.TestingConfig.STAFF_SECOND_FACTOR_REQUIRED is False


def test_optional_enrolment_from_the_account_page_then_asked_at_login(app, client, staff):
    staff_id, iin = staff
    login(client, iin)
    account = client.get("/en/account").get_data(as_text=True)
    assert "Set up the authenticator app" in account
    enrol = client.get("/en/account/second-factor")
    assert enrol.status_code == 200
    done = client.post("/en/account/second-factor", data={"csrf_token": csrf_token(enrol),
                                                          "code": totp_now(app, staff_id)})
    assert done.status_code == 200 and "Your recovery codes" in done.get_data(as_text=True)
    assert "Authenticator app: on." in client.get("/en/account").get_data(as_text=True)
    client.post("/en/logout", data={"csrf_token": csrf_token(client.get("/en/"))})
    assert login(client, iin).headers["Location"].endswith("/login/second-factor")


def test_operator_resets_a_lost_second_factor(app, runner, staff):
    staff_id, iin = staff
    with app.app_context():
        user = db.session.get(User, staff_id)
        second_factor.begin_enrolment(user)
        second_factor.confirm_enrolment(user, pyotp.TOTP(user.totp_secret).now())
        db.session.commit()
    result = runner.invoke(args=["users", "reset-second-factor", "--iin", iin])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.get(User, staff_id)
        assert not second_factor.is_enrolled(user) and second_factor.recovery_codes_left(user) == 0


def test_staff_profile_keeps_contact_and_language_without_author_choices(app, client, staff):
    staff_id, iin = staff
    login(client, iin)
    page = client.get("/en/account")
    assert "Email me when my proposal" not in page.get_data(as_text=True)
    saved = client.post("/en/account", data={"csrf_token": csrf_token(page), "email": "s@example.kz", "locale": "kk"})
    assert saved.status_code == 302
    with app.app_context():
        user = db.session.get(User, staff_id)
        assert (user.email, user.locale, user.notify_proposals, user.notify_results) == \
            ("s@example.kz", "kk", True, True)


def test_a_session_whose_second_factor_is_missing_is_not_signed_in(make_app, make_user):
    """The loader enforces the rule, not only the login page: a staff session that says it was
    signed in with a password alone (e.g. from before the rule) no longer opens the console."""
    app = make_app(STAFF_SECOND_FACTOR_REQUIRED=True)
    client = app.test_client()
    staff_id, iin = make_user(role="staff", territory="750000000")
    with app.app_context():
        user = db.session.get(User, staff_id)
        second_factor.begin_enrolment(user)
        second_factor.confirm_enrolment(user, pyotp.TOTP(user.totp_secret).at(
            datetime.now(timezone.utc) - timedelta(seconds=30)))
        db.session.commit()
    login(client, iin)
    step = client.get("/en/login/second-factor")
    client.post("/en/login/second-factor", data={"csrf_token": csrf_token(step), "code": totp_now(app, staff_id)})
    assert client.get("/en/staff/").status_code == 200
    with client.session_transaction() as session:
        assert session["signed_in_with"] == "password+totp"
        session["signed_in_with"] = "password"
    assert client.get("/en/staff/").status_code == 302


# --- the SMS gateway ------------------------------------------------------------------------------

class RecordingGateway:
    """A provider's adapter as an operator would plug one in (SMS_GATEWAY=module:Class)."""

    def __init__(self, config):
        self.sender = config.get("SMS_SENDER", "Qatysu")
        self.sent = []

    def send(self, to, text):
        self.sent.append((self.sender, to, text))


def test_a_provider_adapter_is_plugged_in_by_setting(make_app, make_user):
    from app import sms

    app = make_app(SMS_GATEWAY="tests.test_accounts:RecordingGateway")
    with app.test_request_context("/en/"):
        assert sms.send_sms(NUMBER, "hello") and not sms.send_sms(None, "nobody")
    gateway = app.extensions["sms_gateway"]
    assert type(gateway).__name__ == "RecordingGateway" and gateway.sent == [("Qatysu", NUMBER, "hello")]
    with pytest.raises(RuntimeError, match="SMS_GATEWAY"):
        make_app(SMS_GATEWAY="carrier-pigeon")


def test_console_gateway_logs_for_the_developer_and_production_refuses_it(make_app, caplog):
    import logging

    from app import create_app, sms
    from tests.test_security import _Production

    app = make_app(SMS_GATEWAY="console")
    with caplog.at_level(logging.INFO, logger="qatysu.sms"), app.test_request_context("/en/"):
        sms.send_sms(NUMBER, "Qatysu code: 123456")
    assert f"SMS to {NUMBER}: Qatysu code: 123456" in caplog.text
    assert app.extensions["sms_outbox"][-1] == {"to": NUMBER, "text": "Qatysu code: 123456"}
    for gateway in ("console", "memory"):
        class Unsafe(_Production):
            SMS_GATEWAY = gateway

        with pytest.raises(RuntimeError, match="SMS_GATEWAY"):
            create_app(Unsafe)

    class NoSecondFactor(_Production):
        STAFF_SECOND_FACTOR_REQUIRED = False

    with pytest.raises(RuntimeError, match="STAFF_SECOND_FACTOR_REQUIRED"):
        create_app(NoSecondFactor)


def test_eds_takeover_of_a_registered_iin_drops_the_registrants_contacts(eds_app, eds_pki, territories):
    with eds_app.app_context():
        user = accounts.register_resident(iin=EDS_IIN, full_name="Impostor", territory_code="751410000",
                                          password=PASSWORD, iin_key=eds_app.config["IIN_HMAC_KEY"],
                                          email="impostor@example.kz")
        user.phone = user.confirmed_phone = NUMBER
        user.assurance = "phone"
        db.session.commit()
    client = eds_app.test_client()
    me = client.get("/api/v1/me", headers=eds_token(client, eds_pki)).get_json()
    assert (me["email"], me["phone"], me["phone_confirmed"], me["assurance"]) == (None, None, False, "eds")
    with eds_app.app_context():
        assert accounts.request_password_reset(EDS_IIN, eds_app.config["IIN_HMAC_KEY"]) == (None, None)


def test_password_reset_link_by_sms_to_a_confirmed_phone(app, client, make_user):
    user_id, iin = make_user(locale="en")  # no email: only the confirmed phone can receive it
    with app.app_context():
        user = db.session.get(User, user_id)
        user.phone = user.confirmed_phone = NUMBER
        db.session.commit()
    page = client.get("/en/password/forgot")
    assert client.post("/en/password/forgot", data={"csrf_token": csrf_token(page), "iin": iin}).status_code == 302
    text = last_sms(app, NUMBER)["text"]
    path = re.search(r"http://localhost(/en/password/reset/\S+)", text).group(1)
    form = client.get(path)
    data = {"csrf_token": csrf_token(form), "new": "a-new-long-phrase", "new2": "a-new-long-phrase"}
    assert client.post(path, data=data).status_code == 302
    fresh = app.test_client()
    login_page = fresh.get("/en/login")
    assert fresh.post("/en/login", data={"csrf_token": csrf_token(login_page), "iin": iin,
                                         "password": "a-new-long-phrase"}).status_code == 302
