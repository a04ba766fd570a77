"""Paper ballots in the browser, in Russian, by clicks from the staff console: two staff members
enter the same paper ballot blind and it is stored; another ballot's entries differ and a third
staff member settles it from the resolution queue.

Staff of the demo's Aytey rural district: Сәуле Жақсыбекова and Бақыт Омаров make the entries,
Ержан Тоқтаров settles. The residents are new to the site (no account): the first entry adds
them, as staff do at a polling point for a resident who never registered."""
import re
from datetime import date

from browser_checks import _catalogue, assert_accessible, assert_no_horizontal_scroll, ui_text
from playwright.sync_api import expect

from app.domain.iin import make_iin

LANG = "ru"
AYTEY_RU = re.compile("Айтейского сельского округа")


def said(msgid):
    """What the Russian page shows for msgid: the catalogue's words once this branch's
    translations are merged (translations/pending/paper.json), the msgid until then."""
    message = _catalogue(LANG).get(msgid)
    if message is None or not message.string:
        return msgid
    return message.string if isinstance(message.string, str) else message.string[0]


SLIP = ("Write on the resident's receipt slip the receipt code %(code)s and the secret code %(secret)s: "
        "with both they can check that their ballot was counted and sealed.")


def _before(template, name):
    """The fixed text of a message before its first placeholder (to find it on the page)."""
    return said(template).split(f"%({name})s")[0].strip()


def _open_paper_ballots(page):
    page.get_by_role("link", name=ui_text(LANG, "Staff console"), exact=True).first.click()
    page.get_by_role("link", name=AYTEY_RU).first.click()
    page.get_by_role("link", name=said("Paper ballots"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(said("Paper ballots"))


def _enter(page, iin, number, newcomer=None):
    """One entry, as typed from the paper; returns the page's confirmation text. After an entry
    the form is there again for the next paper; from the paper ballots page, its button leads to it."""
    if page.get_by_role("heading", level=1).inner_text() != said("Enter a paper ballot"):
        page.get_by_role("link", name=said("Enter a paper ballot"), exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(said("Enter a paper ballot"))
    # Blind: whatever was entered before, nothing on the ballot is marked.
    expect(page.locator("input[name=proposals]:checked")).to_have_count(0)
    page.get_by_label(said("Resident's IIN"), exact=True).fill(iin)
    page.get_by_role("radio", name=re.compile(rf"^{number}\.")).check()
    if newcomer:
        page.get_by_text(said("The resident has no account yet"), exact=True).click()
        page.get_by_label(said("Full name as in the document"), exact=True).fill(newcomer)
        page.get_by_label(said("Where the resident lives"), exact=True).select_option("195231100")
        page.get_by_role("radio", name=ui_text(LANG, "Identity card"), exact=True).check()
    page.get_by_role("button", name=said("Save this entry"), exact=True).click()
    notice = page.locator(".flash").first
    expect(notice).to_be_visible()
    return notice.inner_text()


def _log_out(page):
    page.get_by_role("button", name=ui_text(LANG, "Log out"), exact=True).click()


def test_two_person_entry_and_a_mismatch_settled_by_a_third_person(page, login, shots):
    first_resident = make_iin(date(1947, 4, 4), serial="9101")
    second_resident = make_iin(date(1952, 6, 6), serial="9202")

    # Сәуле makes the first entry of two ballots, adding the two residents.
    login(page, "Сәуле Жақсыбекова", LANG)
    _open_paper_ballots(page)
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    notice = _enter(page, first_resident, 1, newcomer="Роза Байжанова")
    assert _before("First entry saved (entry No. %(n)s). Another staff member now enters the same ballot.",
                   "n") in notice, notice
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=shots / "paper-entry-ru-390.png", full_page=True)
    notice = _enter(page, second_resident, 2, newcomer="Амангелді Сұлтанов")
    entry_number = re.search(r"(\d+)", notice).group(1)
    _log_out(page)

    # Бақыт enters the same two papers without seeing Сәуле's entries: the first agrees, the
    # second does not (she typed No. 2, he types No. 3).
    login(page, "Бақыт Омаров", LANG)
    _open_paper_ballots(page)
    notice = _enter(page, first_resident, 1)
    assert said("Both entries agree: the ballot is stored.") in notice, notice
    # The resident's receipt slip: the receipt code and the secret code of the seal.
    codes = page.locator(".flash").nth(1).inner_text()
    assert _before(SLIP, "code") in codes, codes
    assert re.search(r"(?<![-A-Z2-9])[A-Z2-9]{4}(-[A-Z2-9]{4}){3}(?![-A-Z2-9])", codes), codes  # receipt
    assert re.search(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){4}", codes), codes  # secret
    notice = _enter(page, second_resident, 3)
    assert said("The two entries of this ballot differ. It waits for a third staff member in the resolution "
                "queue.") in notice, notice
    _log_out(page)

    # Ержан, who made neither entry, settles it from the resolution queue.
    login(page, "Ержан Тоқтаров", LANG)
    _open_paper_ballots(page)
    settle = said("Settle entry No. %(n)s") % {"n": entry_number}
    page.get_by_role("link", name=settle, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(settle)
    facts = page.locator("dl.facts").inner_text()
    assert "Сәуле Жақсыбекова" in facts and "Бақыт Омаров" in facts, facts
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=shots / "paper-resolve-ru-390.png", full_page=True)
    page.get_by_role("radio", name=re.compile(r"^2\.")).check()
    page.get_by_role("button", name=said("Store the ballot as the paper shows it"), exact=True).click()
    expect(page.locator(".flash").first).to_have_text(said("The ballot is stored as the paper shows it."))
    assert re.search(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){4}", page.locator(".flash").nth(1).inner_text())
    expect(page.get_by_role("link", name=settle, exact=True)).to_have_count(0)

    # The blank ballot to print, from the same page: every language at once.
    page.get_by_role("link", name=said("Blank paper ballot to print"), exact=True).click()
    expect(page.locator(".ballot-lang")).to_have_count(3)
    expect(page.locator(".ballot-list .box")).to_have_count(page.locator(".ballot-list li").count())
    assert_accessible(page)
    assert_no_horizontal_scroll(page)


def test_staff_open_a_polling_point_residents_see_it_and_its_tally_sheet_prints(page, login, demo_server):
    # Ержан opens a second point at the school; the public cycle page lists it in Russian, and
    # the staff print its tally sheet from the paper ballots page.
    place = "Школа № 12, спортзал, ул. Абая 5"
    login(page, "Ержан Тоқтаров", LANG)
    _open_paper_ballots(page)
    page.get_by_role("link", name=said("Open a polling point"), exact=True).click()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.get_by_label(said("Place and address in Kazakh"), exact=True).fill("№ 12 мектеп, спорт залы, Абай к-сі 5")
    page.get_by_label(said("Place and address in Russian"), exact=True).fill(place)
    page.get_by_label(said("Opens at"), exact=True).fill("09:00")
    page.get_by_label(said("Closes at"), exact=True).fill("18:00")
    page.get_by_role("button", name=said("Save the polling point"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(said("Paper ballots"))
    points = page.locator("section", has=page.locator("#points-heading"))
    expect(points).to_contain_text(place)
    points.get_by_role("row").filter(has_text=place).get_by_role("link", name=said("Tally sheet")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(said("Tally sheet of the polling point"))
    expect(page.locator("dl.facts")).to_contain_text("09:00–18:00")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)

    page.goto(f"/{LANG}/")   # as a resident would: from the home page to the cycle
    page.get_by_role("link", name=AYTEY_RU).first.click()
    assert page.url.endswith(f"/{LANG}/cycles/{demo_server.cycles['voting']}"), page.url
    expect(page.locator("section", has=page.locator("#points-heading"))).to_contain_text(place)
