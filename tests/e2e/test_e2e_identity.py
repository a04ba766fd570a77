"""Signing in and getting back in, in a real browser on a phone: EDS (the demo certificate
button, and NCALayer itself played by the test over its WebSocket), the "where do you live"
page after a first EDS sign-in, and a forgotten password reset through the emailed link.

Each starts at /<lang>/ and clicks from there; the only address typed after that is the reset
link, which a person opens from their mail (in development the mail is written to the
server's log, conftest.DemoServer.mail_since)."""
import base64
import json
import re
import time
from datetime import date

import pytest
from browser_checks import AXE_JS, LOGIN_WORDS, assert_accessible, assert_no_horizontal_scroll, ui_text
from conftest import NCALAYER_HOLDER, sign_as_ncalayer
from playwright.sync_api import expect

from app.domain.iin import make_iin

NCALAYER = "wss://127.0.0.1:13579/"


@pytest.fixture(autouse=True)
def _axe_on_every_page(page):
    page.context.add_init_script(path=str(AXE_JS))  # compiled once, not evaluated per page


def checked(page):
    assert_accessible(page)
    assert_no_horizontal_scroll(page)


def _to_login(page, lang):
    page.goto(f"/{lang}/")
    page.get_by_role("link", name=LOGIN_WORDS[lang]["login"], exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LOGIN_WORDS[lang]["login"])


def _choose(select, unit_name):
    """Pick the unit in a <select> whose options are indented by depth (em spaces)."""
    option = select.locator("option").filter(has_text=re.compile(rf"^\W*{re.escape(unit_name)}$"))
    select.select_option(option.get_attribute("value"))


def test_sign_in_to_vote_with_the_demo_certificate_asks_where_one_lives_then_opens_the_ballot(page, demo_server,
                                                                                             shots):
    t = lambda msgid, **v: ui_text("kk", msgid) % v if v else ui_text("kk", msgid)  # noqa: E731
    page.goto("/kk/")
    card = page.locator(".card", has=page.get_by_role("link", name=re.compile("Әйтей")))
    card.get_by_role("link", name=t("Sign in to vote")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LOGIN_WORDS["kk"]["login"])
    checked(page)
    # NCALayer does not run on this machine: the EDS button says how to get it.
    page.get_by_role("button", name=t("Sign in with EDS"), exact=True).click()
    expect(page.get_by_text(t("NCALayer is not running on this computer."))).to_be_visible()
    expect(page.get_by_role("link", name=t("Download NCALayer at pki.gov.kz"))).to_be_visible()
    checked(page)
    page.screenshot(path=shots / "login-eds-no-ncalayer-kk-390.png", full_page=True)

    page.get_by_role("button", name=t("Demo certificate (not a real EDS)")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Where you live"))
    expect(page.get_by_role("status")).to_contain_text("Демо")   # "Welcome, <the certificate's name>!"
    checked(page)
    page.screenshot(path=shots / "first-eds-sign-in-home-kk-390.png", full_page=True)
    page.get_by_role("button", name=t("Save"), exact=True).click()   # nothing chosen yet
    expect(page.locator("#territory-error")).to_have_text(t("Choose the unit where you live."))
    checked(page)
    _choose(page.get_by_label(t("Where you live"), exact=True), "Әйтей а.")
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page.get_by_role("status").filter(has_text=t("Your home is saved."))).to_be_visible()
    # On to the ballot the resident came for.
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("Ballot"))
    assert page.url.endswith(f"/kk/cycles/{demo_server.cycles['voting']}/ballot"), page.url

    page.get_by_role("link", name=t("My account"), exact=True).click()
    expect(page.locator("section[aria-labelledby=home-heading]")).to_contain_text("Әйтей а.")
    expect(page.locator("section[aria-labelledby=identity-heading]")).to_contain_text(
        t("an electronic digital signature (EDS)"))
    checked(page)


def test_eds_sign_in_through_ncalayer_then_home_then_straight_in(page, demo_server):
    """NCALayer is played by the test: the page's own script (ncalayer.js, eds-login.js) asks
    it to sign the server's challenge, and the server verifies the CMS against the root it
    trusts (EDS_TRUSTED_ROOTS), as with NCA RK's in production."""
    t = lambda msgid, **v: ui_text("ru", msgid) % v if v else ui_text("ru", msgid)  # noqa: E731
    asked = []

    def ncalayer(ws):
        def answer(message):
            request = json.loads(message)
            asked.append(request)
            challenge = base64.b64decode(request["args"]["data"]).decode("utf-8")
            cms = sign_as_ncalayer(demo_server.ncalayer, challenge)
            ws.send(json.dumps({"status": True, "body": {"result": [cms]}}))
        ws.on_message(answer)

    page.route_web_socket(NCALAYER, ncalayer)
    _to_login(page, "ru")
    page.get_by_role("button", name=t("Sign in with EDS"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Where you live"))
    assert asked and asked[0]["module"] == "kz.gov.pki.knca.basics" and asked[0]["args"]["locale"] == "ru"
    assert asked[0]["args"]["signerParams"]["extKeyUsageOids"] == ["1.3.6.1.5.5.7.3.2"], \
        "the page must ask for an authentication key, not a signing key"
    checked(page)
    _choose(page.get_by_label(t("Where you live"), exact=True), "Медеуский район")
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page.get_by_role("status").filter(has_text=t("Your home is saved."))).to_be_visible()
    surname = NCALAYER_HOLDER[0].split()[0]
    expect(page.locator("section[aria-labelledby=home-heading]")).to_contain_text("Медеуский район")
    expect(page.locator("dl.facts")).to_contain_text(surname.capitalize())

    # The second sign-in goes straight in: the home is known.
    page.get_by_role("button", name=LOGIN_WORDS["ru"]["logout"], exact=True).click()
    page.get_by_role("link", name=LOGIN_WORDS["ru"]["login"], exact=True).first.click()
    page.get_by_role("button", name=t("Sign in with EDS"), exact=True).click()
    expect(page.get_by_role("status").filter(has_text=t("You are logged in."))).to_be_visible()
    assert re.search(r"/ru/$", page.url), page.url
    assert len(asked) == 2


def _reset_link(demo_server, offset, email):
    """The link of the newest reset mail to `email` in the server's log (it may take a moment)."""
    deadline = time.monotonic() + 10
    while True:
        log = demo_server.mail_since(offset)
        mails = log.split(f"mail to {email}:")
        if len(mails) > 1:
            link = re.search(rf"{re.escape(demo_server.url)}/\w\w/password/reset/[\w-]+", mails[-1])
            assert link, f"a reset mail without the link:\n{mails[-1][:500]}"
            return link.group(0)
        assert time.monotonic() < deadline, f"no mail to {email} in the server's log:\n{log[-2000:]}"
        time.sleep(0.2)


def test_forgotten_password_reset_through_the_mailed_link(page, demo_server, shots):
    t = lambda msgid, **v: ui_text("ru", msgid) % v if v else ui_text("ru", msgid)  # noqa: E731
    iin, email = make_iin(date(1992, 3, 14), serial="0700"), "zhanna.reset@example.kz"
    old, new = "Alatau nights 1992", "Kok-Tobe spring 2026"

    # Registered through the page, with an email to get the link at.
    page.goto("/ru/")
    page.get_by_role("navigation", name=t("Main menu")).get_by_role("link", name=t("Register")).click()
    page.get_by_label(t("IIN"), exact=True).fill(iin)
    page.get_by_label(t("Full name"), exact=True).fill("Жанна Ким")
    _choose(page.get_by_label(t("Where you live"), exact=True), "Алмалинский район")
    page.get_by_label(t("Password"), exact=True).fill(old)
    page.get_by_label(t("Repeat the password"), exact=True).fill(old)
    page.get_by_label(t("Email (optional)"), exact=True).fill(email)
    page.get_by_role("button", name=t("Create account"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LOGIN_WORDS["ru"]["login"])

    page.get_by_role("link", name=t("Forgot your password?")).click()
    checked(page)
    offset = demo_server.log_position()
    page.get_by_label(t("IIN"), exact=True).fill(iin)
    page.get_by_role("button", name=t("Send a reset link")).click()
    expect(page.get_by_role("status").filter(has_text=t(
        "If this IIN has an account with an email address or a confirmed phone, a link to set "
        "a new password has been sent there. It works once, for one hour."))).to_be_visible()
    link = _reset_link(demo_server, offset, email)

    page.goto(link)   # opened from the mail
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Set a new password"))
    checked(page)
    page.screenshot(path=shots / "password-reset-ru-390.png", full_page=True)
    page.get_by_label(t("New password"), exact=True).fill(new)
    page.get_by_label(t("Repeat the password"), exact=True).fill(new)
    page.get_by_role("button", name=t("Set the new password")).click()
    expect(page.get_by_role("status").filter(has_text=t("Your password is set. Log in with it."))).to_be_visible()

    # The old password no longer works; the new one does.
    page.get_by_label(t("IIN"), exact=True).fill(iin)
    page.get_by_label(t("Password"), exact=True).fill(old)
    page.get_by_role("button", name=LOGIN_WORDS["ru"]["login"], exact=True).click()
    expect(page.get_by_text(t("The IIN or password is incorrect.")).first).to_be_visible()
    page.get_by_label(t("Password"), exact=True).fill(new)
    page.get_by_role("button", name=LOGIN_WORDS["ru"]["login"], exact=True).click()
    expect(page.get_by_role("status").filter(has_text=t("You are logged in."))).to_be_visible()

    # The link works once.
    page.get_by_role("button", name=LOGIN_WORDS["ru"]["logout"], exact=True).click()
    page.goto(link)
    page.get_by_label(t("New password"), exact=True).fill("Another one 2026 x")
    page.get_by_label(t("Repeat the password"), exact=True).fill("Another one 2026 x")
    page.get_by_role("button", name=t("Set the new password")).click()
    expect(page.get_by_text(t("This password reset link has expired or was already used. Ask for a new one."))
           .first).to_be_visible()
    checked(page)
