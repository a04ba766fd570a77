from datetime import date

import pytest
from sqlalchemy import func, select

from app.domain.iin import check_digit, make_iin
from app.extensions import db
from app.models import User
from tests.helpers import PASSWORD, csrf_token, login


def user_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


@pytest.fixture
def register(new_iin):
    """register(client, lang="en", **overrides): posts the registration form with a fresh IIN."""
    def post(client, lang="en", **overrides):
        page = client.get(f"/{lang}/register")
        data = {"iin": new_iin(), "full_name": "Дана Ахметова", "territory": "751410000",
                "password": PASSWORD, "password2": PASSWORD, "phone": "", "email": "",
                "csrf_token": csrf_token(page)}
        data.update(overrides)
        return client.post(f"/{lang}/register", data=data)

    return post


def test_register_creates_the_account_and_stores_no_iin(register, new_iin, app, client, territories):
    iin = new_iin()
    response = register(client, iin=iin)
    assert response.status_code == 302 and response.headers["Location"].endswith("/en/login")
    login(client, iin)
    page = client.get("/en/account")
    assert "Дана Ахметова".encode() in page.data
    assert iin.encode() not in page.data
    with app.app_context():
        user = db.session.scalar(select(User))
        assert iin not in user.iin_hmac and user.password_hash.startswith("$argon2id$")
        assert user.territory.code == "751410000"


@pytest.mark.parametrize("lang, overrides, message", [
    ("en", {"iin": make_iin(date(1990, 1, 1))[:11] + "x"}, "exactly 12 digits"),
    ("en", {"full_name": "   "}, "Enter your full name"),
    ("en", {"password": "short", "password2": "short"}, "at least 10 characters"),
    ("en", {"territory": ""}, "Choose the unit where you live"),
    ("en", {"territory": "999999999"}, "Choose the unit where you live"),
    ("en", {"iin": make_iin(date(2015, 1, 1))}, "Only adults"),
    ("ru", {"iin": make_iin(date(2015, 1, 1))}, "совершеннолет"),
    ("kk", {"iin": make_iin(date(2015, 1, 1))}, "кәмелетке толған"),
])
def test_register_rejects_bad_input_and_creates_nothing(register, app, client, territories, lang, overrides,
                                                        message):
    response = register(client, lang=lang, **overrides)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_count(app) == 0


def test_register_wrong_check_digit(register, app, client, territories):
    head = "90051730007"
    good = check_digit(head)
    if good is None:
        head = "90051730008"
        good = check_digit(head)
    response = register(client, iin=head + str((good + 1) % 10))
    assert response.status_code == 422
    assert b"check digit" in response.data
    assert user_count(app) == 0


def test_register_answers_the_same_for_a_taken_iin_and_tells_the_holder(register, new_iin, app, client,
                                                                          territories):
    iin = new_iin()
    first = register(client, iin=iin, email="holder@example.kz")
    first_page = client.get(first.headers["Location"]).get_data(as_text=True)
    second = register(client, iin=iin, full_name="Someone Else", email="other@example.kz")
    second_page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert (first.status_code, first.headers["Location"]) == (second.status_code, second.headers["Location"])
    assert "If this IIN had no account" in first_page and "If this IIN had no account" in second_page
    assert user_count(app) == 1
    told = [m for m in app.extensions["outbox"] if m.recipients == ["holder@example.kz"]]
    assert len(told) == 1 and "already has an account" in told[0].body
    assert not any(m.recipients == ["other@example.kz"] for m in app.extensions["outbox"])
    assert user_count(app) == 1


def test_register_needs_csrf(new_iin, app, client, territories):
    response = client.post("/en/register", data={"iin": new_iin(), "full_name": "X",
                                                 "territory": "751410000", "password": PASSWORD,
                                                 "password2": PASSWORD})
    assert response.status_code == 400
    assert user_count(app) == 0


def test_login_and_logout(client, auth, make_user):
    _, iin = make_user()
    response = auth.login(iin)
    assert response.status_code == 302
    assert client.get("/en/account").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/en/account").status_code == 302


def test_logout_is_post_only(client, auth, make_user):
    _, iin = make_user()
    auth.login(iin)
    assert client.get("/en/logout").status_code == 405
    assert client.get("/en/account").status_code == 200


def test_login_failure_is_one_generic_message(new_iin, client, auth, make_user):
    _, iin = make_user()
    wrong_password = auth.login(iin, password="wrong-password-1")
    unknown_iin = auth.login(new_iin(), password="wrong-password-1")
    for response in (wrong_password, unknown_iin):
        assert response.status_code == 401
        assert b"The IIN or password is incorrect." in response.data


def test_login_rotates_the_session(client, auth, make_user):
    _, iin = make_user()
    client.get("/en/login")
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    auth.login(iin)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_login_throttled_per_iin(client, auth, make_user):
    _, iin = make_user()
    for _ in range(5):
        assert auth.login(iin, password="wrong-password-1").status_code == 401
    response = auth.login(iin)  # even the right password waits now
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    # Another person at the same address is not locked out.
    _, other = make_user()
    assert auth.login(other).status_code == 302


def test_open_redirect_after_login_is_refused(client, make_user):
    _, iin = make_user()
    page = client.get("/en/login")
    response = client.post("/en/login?next=//evil.example/", data={
        "iin": iin, "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


@pytest.mark.parametrize("target", [
    "/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "/%5C/evil.example",
    "/%5C%5Cevil.example", "https://evil.example/en/", "/en/%0d%0aSet-Cookie:%20x=1",
    "/en//evil.example", "/fr/cycles", "/ /evil.example"])
def test_login_next_outside_the_site_or_language_prefix_goes_home(client, make_user, target):
    _, iin = make_user(locale="en")  # home opens in the account's language
    page = client.get("/en/login")
    response = client.post(f"/en/login?next={target}", data={
        "iin": iin, "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil.example" not in location and "Set-Cookie" not in location
    assert location in ("/", "/en/", "http://localhost/en/", "http://localhost/")


def test_login_next_under_the_language_prefix_is_followed(client, make_user):
    _, iin = make_user()
    page = client.get("/en/login")
    response = client.post("/en/login?next=/ru/cycles%3Fpage%3D2", data={
        "iin": iin, "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"] == "/ru/cycles?page=2"


def test_register_with_many_units_narrows_them_by_search(register, app, client, runner, tmp_path):
    from tests.helpers import KATO_DEMO

    # The demo slice plus 450 villages: past the size where one <select> is usable.
    villages = "".join(f"19523{n:04d},195231000,settlement,Ауыл {n},Село {n},Village {n}\n"
                       for n in range(2000, 2450))
    big = tmp_path / "big.csv"
    big.write_text(KATO_DEMO.read_text(encoding="utf-8") + villages, encoding="utf-8")
    assert runner.invoke(args=["territories", "import", str(big)]).exit_code == 0
    page = client.get("/ru/register").get_data(as_text=True)
    assert page.count("<option") <= 401 and 'name="find"' in page
    found = client.get("/ru/register?find=Айтей").get_data(as_text=True)
    assert 'value="195231000"' in found
    response = register(client, lang="ru", territory="195231100")  # a village not in the first list
    assert response.status_code == 302


def _from(client, address):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_failed_logins_lock_the_address_not_the_holder(client, auth, make_user):
    """Five wrong passwords from one address stop that address only: the holder of the IIN,
    signing in from another address with the right password, is let in."""
    _, iin = make_user()
    _from(client, "203.0.113.7")
    for _ in range(5):
        assert auth.login(iin, password="wrong-password-1").status_code == 401
    assert auth.login(iin).status_code == 429  # the guesser's address waits, even when right
    _from(client, "198.51.100.20")
    assert auth.login(iin).status_code == 302


def test_iin_under_attack_from_many_addresses_is_slowed_not_blocked(client, auth, make_user):
    _, iin = make_user()
    for n in range(10):  # a distributed guesser: ten failures over five addresses
        _from(client, f"203.0.113.{n // 2 + 1}")
        assert auth.login(iin, password="wrong-password-1").status_code == 401
    # Under attack, each further address gets one wrong try per window instead of five ...
    _from(client, "203.0.113.50")
    assert auth.login(iin, password="wrong-password-1").status_code == 401
    slowed = auth.login(iin, password="wrong-password-1")
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) > 0
    # ... while the holder with the right password from a new address still signs in.
    _from(client, "198.51.100.20")
    assert auth.login(iin).status_code == 302
