"""A resident confirms their phone by an SMS code from the profile page, in Kazakh, on a phone.

The demo server's SMS gateway is `console` (development): the message goes to the server's log,
where this test reads the code as a person would read it on their phone."""
import re
import time

from browser_checks import assert_accessible, assert_no_horizontal_scroll, ui_text
from playwright.sync_api import expect

NUMBER = "+77057654321"


def _code_from_log(log, number, after, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(rf"SMS to {re.escape(number)}: \D*(\d{{6}})", log.read_text()[after:])
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no SMS to {number} in the server's log")


def test_resident_confirms_a_phone_by_sms_code_in_kazakh(page, login, demo_server, shots):
    login(page, "Иван Петров", "kk")
    page.get_by_role("link", name=ui_text("kk", "My account"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ui_text("kk", "My account"))
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.get_by_label(ui_text("kk", "Mobile phone number"), exact=True).fill("8 705 765 43 21")
    log_size = len(demo_server.log.read_text())
    page.get_by_role("button", name=ui_text("kk", "Send the code"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ui_text("kk", "Confirm your phone"))
    expect(page.get_by_text(NUMBER).first).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    code = _code_from_log(demo_server.log, NUMBER, log_size)
    page.get_by_label(ui_text("kk", "Code"), exact=True).fill(code)
    page.get_by_role("button", name=ui_text("kk", "Confirm"), exact=True).click()
    expect(page.get_by_text(ui_text("kk", "Your phone number is confirmed."), exact=True)).to_be_visible()
    expect(page.get_by_text(f"{NUMBER} — {ui_text('kk', 'confirmed by SMS')}", exact=True)).to_be_visible()
    expect(page.get_by_text(ui_text("kk", "In this session, your identity is confirmed by %(level)s.")
                            .split("%")[0].strip())).to_be_visible()
    page.screenshot(path=shots / "phone-confirmed-kk-390.png", full_page=True)
