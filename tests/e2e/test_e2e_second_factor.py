"""A staff member sets up the authenticator app from "My account", in Russian, on a phone, then
logs in again with a recovery code — the second factor that production requires of staff.

A staff account of its own (made with `flask users create-staff`, as an operator would): the
demo's staff log in without a code in the other browser tests."""
import subprocess
import sys
from pathlib import Path

import pyotp
from browser_checks import LOGIN_WORDS, assert_accessible, assert_no_horizontal_scroll, ui_text
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD, demo_iin

ROOT = Path(__file__).resolve().parents[2]
LANG = "ru"
NAME = "Гүлнар Есенова"


def t(msgid):
    return ui_text(LANG, msgid)


def _create_staff(demo_server):
    iin = demo_iin(901, year=1980)
    made = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "users", "create-staff",
                           "--iin", iin, "--name", NAME, "--territory", "750000000",
                           "--password", DEMO_PASSWORD, "--locale", LANG],
                          cwd=ROOT, env=demo_server.env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr
    return iin


def _password_login(page, iin):
    words = LOGIN_WORDS[LANG]
    page.goto(f"/{LANG}/")
    page.get_by_role("link", name=words["login"], exact=True).first.click()
    page.get_by_label(words["iin"], exact=True).fill(iin)
    page.get_by_label(words["password"], exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=words["login"], exact=True).click()


def _checked(page):
    assert_accessible(page)
    assert_no_horizontal_scroll(page)


def test_staff_sets_up_the_authenticator_then_logs_in_with_a_recovery_code(page, demo_server):
    iin = _create_staff(demo_server)
    _password_login(page, iin)
    expect(page.get_by_role("button", name=LOGIN_WORDS[LANG]["logout"])).to_be_visible()

    page.get_by_role("link", name=t("My account"), exact=True).click()
    page.get_by_role("link", name=t("Set up the authenticator app"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Set up the authenticator app"))
    _checked(page)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label(t("Code from your authenticator app"), exact=True).fill("000000")
    page.get_by_role("button", name=t("Continue"), exact=True).click()   # a wrong code first
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Set up the authenticator app"))
    page.get_by_label(t("Code from your authenticator app"), exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=t("Continue"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your recovery codes"))
    _checked(page)
    codes = [c.strip() for c in page.locator(".recovery-codes code").all_inner_texts()]
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    page.get_by_role("link", name=t("I have kept them, continue"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("My account"))

    # The next password login asks for the app's code; a recovery code works once instead.
    page.get_by_role("button", name=LOGIN_WORDS[LANG]["logout"], exact=True).click()
    _password_login(page, iin)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Code from your authenticator app"))
    _checked(page)
    page.get_by_label(t("Code from your authenticator app"), exact=True).fill(codes[0])
    page.get_by_role("button", name=t("Continue"), exact=True).click()
    expect(page.get_by_role("button", name=LOGIN_WORDS[LANG]["logout"])).to_be_visible()
    page.get_by_role("link", name=t("Staff console"), exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Staff console"))
