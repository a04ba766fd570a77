"""Akimat staff take a new cycle from draft to published, in Russian, on a phone, by clicks.

From the staff console only (the first page and the login are the only addresses typed), a
member of Almaty's akimat creates a cycle for Medeu district and moves it through every phase;
a resident submits a proposal with a photo through the resident pages and votes through the
ballot page; the other residents' proposal and votes go through the API. One proposal reaches
the ten-voter minimum and one stays below it, so the akimat's "approved" for the second must
be refused with the translated message. axe-core runs on every staff page the journey loads,
and none of them may scroll sideways at 390 px.
"""
import json
import re
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from browser_checks import AXE_JS, assert_accessible, assert_no_horizontal_scroll, ui_ntext, ui_text
from playwright.sync_api import expect

from app.i18n import DATE_PATTERNS

LANG = "ru"
ALMATY = ZoneInfo("Asia/Almaty")   # the site's time zone (BABEL_DEFAULT_TIMEZONE)
STAFF = "Айгүл Сапарова"          # the demo's staff member of Almaty city's akimat
AUTHOR = "Иван Петров"            # the demo's resident of Medeu district, inside Almaty
MEDEU = "751710000"
TITLE_RU = "Бюджет участия Медеуского района"
TITLE_KK = "Медеу ауданының қатысу бюджеті"
POPULAR = "Освещение сквера у реки Малая Алматинка"   # the resident's, reaches ten voters
NICHE = "Скамейки у остановки Медеу"                  # another resident's, stays below ten


def t(msgid, **values):
    text = ui_text(LANG, msgid)
    return text % values if values else text


def _api(server, method, path, body=None, token=None):
    request = urllib.request.Request(f"{server.url}/api/v1{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", "Accept-Language": LANG,
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read() or b"null")


class StaffPages:
    """Every page the staff member's tab loads is checked: axe-core, and no sideways scroll."""

    def __init__(self, page):
        self.page = page
        page.context.add_init_script(path=str(AXE_JS))  # compiled once, not evaluated per page
        self.loaded, self.checked = [], set()
        page.on("load", lambda p: self.loaded.append(p.url))

    def check(self):
        self.page.wait_for_load_state()
        assert_accessible(self.page)
        assert_no_horizontal_scroll(self.page, widths=(390,))
        self.checked.add(self.page.url)


    def unchecked(self):
        return sorted({url for url in self.loaded if "/staff" in url} - self.checked)


def assert_on_screen(locator):
    """The element is within the phone's width: not hidden in a table that scrolls sideways."""
    locator.scroll_into_view_if_needed()
    box, width = locator.bounding_box(), locator.page.viewport_size["width"]
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, \
        f"{locator} lies outside the {width} px screen: {box}"


def _photo(tmp_path):
    from PIL import Image

    path = tmp_path / "skver.jpg"
    Image.new("RGB", (640, 480), (40, 120, 60)).save(path, "JPEG", quality=80)
    return path


def _move_to_next_phase(page, phase_msgid, early=None):
    """On the staff cycle page: the next-phase box names the phase; tick, move, told so.
    early: the date the schedule sets for the move, which the box must warn of (a second box
    to tick, recorded in the audit log)."""
    box = page.locator("section", has=page.locator("#next-phase"))
    expect(box.get_by_role("heading", level=2)).to_have_text(t("Next phase: %(phase)s", phase=t(phase_msgid)))
    if early:
        expect(box.locator("#off-schedule")).to_contain_text(t(
            "The cycle's schedule sets this move for %(date)s or later: this would be early.", date=early))
        box.get_by_label(t("Move it anyway, outside the cycle's schedule (recorded in the audit log).")).check()
    else:
        expect(box.locator("#off-schedule")).to_have_count(0)
    box.get_by_label(t("I confirm moving the cycle to the next phase.")).check()
    box.get_by_role("button", name=t("Move to the next phase")).click()
    expect(page.get_by_role("status").filter(has_text=t(
        "The cycle has moved to the next phase: %(phase)s.", phase=t(phase_msgid)))).to_be_visible()


def _console_card(page, staff):
    """The staff console (from the menu), and the cycle's card in its to-do list."""
    page.get_by_role("navigation", name=t("Main menu")).get_by_role("link", name=t("Staff console")).click()
    staff.check()
    return page.locator(".todo > li", has=page.get_by_role("link", name=TITLE_RU))


def _to_cycle_from_console(page, staff):
    _console_card(page, staff).get_by_role("link", name=TITLE_RU).click()
    staff.check()


def _results_rows(page):
    return page.get_by_role("table").first.evaluate("""table => {
        const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
        return [...table.querySelectorAll('tbody tr')].map(tr =>
            Object.fromEntries([...tr.children].map((cell, i) => [heads[i], cell.innerText.trim()])));
    }""")


def _assert_outcome(page, popular_id, niche_id):
    """The results table: the popular proposal selected and approved, the niche one below the
    minimum and not approved, with the votes as cast."""
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE_RU)
    rows = {row[t("Proposal")]: row for row in _results_rows(page)}
    shown = {label: [row[t(h)] for h in ("Votes", "Minimum reached", "Selected by the vote",
                                          "Decision of the akimat")] for label, row in rows.items()}
    yes, no = t("yes"), t("no")
    assert shown == {f"#{popular_id} {POPULAR}": ["10", yes, yes, t("Approved for implementation")],
                     f"#{niche_id} {NICHE}": ["2", no, no, t("Not approved")]}, shown


@pytest.fixture
def resident_page(browser, demo_server):
    from conftest import PHONE

    ctx = browser.new_context(base_url=demo_server.url, viewport=PHONE)
    ctx.set_default_timeout(20_000)
    yield ctx.new_page()
    ctx.close()


def test_staff_take_a_new_cycle_from_draft_to_published(page, resident_page, login, demo_server, tmp_path,
                                                         shots):
    staff = StaffPages(page)
    resident = resident_page
    made = demo_server.make_residents(MEDEU, 9, first=600)  # while the staff click on

    # --- draft: the console → "Create a cycle" → the form ----------------------------------
    login(page, STAFF, LANG)
    page.get_by_role("navigation", name=t("Main menu")).get_by_role("link", name=t("Staff console")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Staff console"))
    staff.check()
    page.get_by_role("link", name=t("Create a cycle")).click()
    staff.check()
    territory = page.get_by_label(t("Territory"), exact=True)
    territory.select_option(territory.locator("option", has_text="Медеуский район").get_attribute("value"))
    page.get_by_label(t("Title in Kazakh"), exact=True).fill(TITLE_KK)
    page.get_by_label(t("Title in Russian"), exact=True).fill(TITLE_RU)
    page.get_by_label(t("Description in Russian"), exact=True).fill("Благоустройство дворов и скверов района.")
    page.get_by_label(t("Budget, tenge"), exact=True).fill("60000000")
    page.get_by_label(t("Cost cap per project, tenge"), exact=True).fill("25000000")
    page.get_by_role("button", name=t("Save the cycle")).click()
    expect(page.get_by_role("status").filter(has_text=t("The cycle has been created as a draft."))).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE_RU)
    staff.check()
    cycle_id = int(re.search(r"/staff/cycles/(\d+)", page.url).group(1))
    # The schedule: voting opens in a month, so opening it today needs a second confirmation.
    page.get_by_role("link", name=t("Edit the cycle")).click()
    staff.check()
    voting_opens = datetime.now(ALMATY).replace(second=0, microsecond=0) + timedelta(days=30)
    page.get_by_label(t("Voting opens"), exact=True).fill(voting_opens.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name=t("Save the cycle")).click()
    expect(page.get_by_role("status").filter(has_text=t("The cycle has been saved."))).to_be_visible()
    staff.check()

    _move_to_next_phase(page, "Taking proposals")
    staff.check()

    # --- a resident proposes, with a photo, through the resident pages ------------------------
    login(resident, AUTHOR, LANG)
    resident.get_by_role("link", name=TITLE_RU).first.click()
    resident.get_by_role("link", name=t("Propose a project")).click()
    resident.get_by_label(t("Title"), exact=True).fill(POPULAR)
    resident.get_by_label(t("Description"), exact=True).fill(
        "Вдоль дорожки у реки нет ни одного фонаря. Предлагаем 25 светодиодных опор.")
    resident.get_by_label(t("Category"), exact=True).select_option(label=t("Lighting"))
    resident.get_by_label(t("Estimated cost, tenge"), exact=True).fill("18000000")
    resident.get_by_label(t("Address or place"), exact=True).fill("ул. Достык, сквер у Малой Алматинки")
    resident.get_by_label(t("Photos (optional)"), exact=True).set_input_files(_photo(tmp_path))
    resident.get_by_role("button", name=t("Submit the proposal")).click()
    expect(resident.get_by_role("status").filter(
        has_text=t("Your proposal has been submitted. The Expert Council will review it."))).to_be_visible()
    popular_id = int(re.search(r"/proposals/(\d+)", resident.url).group(1))
    # Another resident's proposal, through the API.
    voters = made()
    niche_author = voters[0][2]
    niche_id = _api(demo_server, "POST", f"/cycles/{cycle_id}/proposals", {
        "title": NICHE, "description": "Три скамейки с навесом у остановки.", "category": "other",
        "cost": 3_000_000, "address": "пр. Достык, остановка «Медеу»"}, niche_author)["id"]

    # --- review: the console says what waits; the review page shows the photo -----------------
    _console_card(page, staff).get_by_role("link", name=ui_ntext(LANG, "%(num)s proposal submitted so far", 2)).click()
    staff.check()
    _move_to_next_phase(page, "Expert Council review")
    staff.check()
    _console_card(page, staff).get_by_role("link", name=ui_ntext(LANG, "%(num)s proposal to review", 2)).click()
    for proposal_id, title in ((popular_id, POPULAR), (niche_id, NICHE)):
        if proposal_id == niche_id:  # the second from the queue on the cycle's page
            page.screenshot(path=shots / "staff-review-queue-ru-390.png", full_page=True)
            row = page.get_by_role("row").filter(has=page.get_by_role("link", name=title))
            assert_on_screen(row.get_by_role("link", name=t("Review")))
            row.get_by_role("link", name=t("Review")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(title)
        staff.check()
        if proposal_id == popular_id:
            photo = page.get_by_role("img", name=t("Photo %(n)s of the proposal", n=1))
            expect(photo).to_be_visible()
            assert photo.evaluate("img => img.complete && img.naturalWidth") == 640, "the photo did not load"
            page.screenshot(path=shots / "staff-review-ru-390.png", full_page=True)
        page.get_by_label(t("Admit to voting"), exact=True).check()
        page.get_by_role("button", name=t("Record the decision")).click()
        expect(page.get_by_role("status").filter(has_text=t("The decision has been recorded."))).to_be_visible()
        staff.check()
        if proposal_id == popular_id:  # the protocol waits for every decision, and says so
            protocol = page.locator("section", has=page.locator("#protocol"))
            expect(protocol.get_by_role("button")).to_have_count(0)
            expect(protocol).to_contain_text(t(
                "Every proposal needs a decision before the protocol is published: %(n)s still waits.", n=1))

    page.get_by_role("button", name=t("Publish the admission protocol")).click()
    expect(page.get_by_role("status").filter(has_text=t("The admission protocol has been published."))).to_be_visible()
    expect(page.get_by_text(POPULAR).first).to_be_visible()

    # --- voting ---------------------------------------------------------------------------------
    page.get_by_role("link", name=t("Manage"), exact=True).click()   # from the protocol, back to the cycle
    staff.check()
    _move_to_next_phase(page, "Voting", early=format_date(voting_opens, DATE_PATTERNS[LANG], locale=LANG))
    staff.check()

    resident.get_by_role("link", name=t("Home"), exact=True).first.click()
    card = resident.locator(".card", has=resident.get_by_role("link", name=TITLE_RU))
    card.get_by_role("link", name=t("Vote"), exact=True).click()
    resident.get_by_role("checkbox", name=re.compile(re.escape(POPULAR))).check()
    resident.get_by_role("checkbox", name=re.compile(re.escape(NICHE))).check()
    resident.get_by_role("button", name=t("Cast my ballot")).click()
    expect(resident.locator("#receipt")).to_be_visible()
    # The other residents through the API: the author of the niche proposal votes for both,
    # eight more for the popular one: ten voters for it, two for the niche one.
    for n, (_name, _iin, token) in enumerate(voters):
        choice = [popular_id, niche_id] if n == 0 else [popular_id]
        assert _api(demo_server, "PUT", f"/cycles/{cycle_id}/ballot", {"proposals": choice}, token)["receipt"]

    # --- closing counts the ballots ---------------------------------------------------------------
    _to_cycle_from_console(page, staff)
    _move_to_next_phase(page, "Voting closed")
    staff.check()
    count = page.locator("section", has=page.locator("#count"))
    expect(count).to_contain_text(t("Voters"))
    assert re.search(rf"{re.escape(t('Voters'))}\s+10\b", count.inner_text()), count.inner_text()
    count.get_by_role("link", name=t("Turnout"), exact=True).click()
    staff.check()
    expect(page.locator("dl.facts")).to_contain_text(t("Voters"))
    page.get_by_role("link", name=TITLE_RU, exact=True).click()   # back to the cycle
    staff.check()

    # --- conclusions: "approved" below ten voters is refused, in Russian -----------------------------
    conclusions = page.locator("section", has=page.locator("#conclusions"))
    conclusions.get_by_role("link", name=re.compile(re.escape(NICHE))).click()
    staff.check()
    page.get_by_label(t("Approved for implementation"), exact=True).check()
    page.get_by_role("button", name=t("Save the conclusion")).click()
    refusal = t("This proposal cannot be approved for implementation: fewer residents voted for it "
                "than the minimum of %(min)s (voters from the territory: %(voters)s).", min=10, voters=2)
    expect(page.get_by_text(refusal).first).to_be_visible()
    staff.check()
    page.get_by_label(t("Not approved"), exact=True).check()
    page.get_by_label(t("Justification in Russian"), exact=True).fill(
        "За проект проголосовали двое жителей, меньше минимума в десять человек.")
    page.get_by_label(t("Justification in Kazakh"), exact=True).fill(
        "Жобаға екі тұрғын дауыс берді, бұл он адамдық ең аз шектен кем.")
    page.get_by_role("button", name=t("Save the conclusion")).click()
    expect(page.get_by_role("status").filter(has_text=t("The conclusion is saved."))).to_be_visible()
    staff.check()
    page.screenshot(path=shots / "staff-conclusions-ru-390.png", full_page=True)
    niche_row = page.get_by_role("row").filter(has=page.get_by_role("link", name=re.compile(re.escape(NICHE))))
    assert_on_screen(niche_row.get_by_role("cell").filter(has_text=t("Not approved")))
    _console_card(page, staff).get_by_role("link", name=ui_ntext(LANG, "%(num)s conclusion missing", 1)).click()
    staff.check()
    publish = page.locator("section", has=page.locator("#publish"))
    expect(publish.get_by_role("button")).to_have_count(0)   # not while a conclusion is missing
    publish.get_by_role("link", name=f"{t('Write the conclusion')}: №{popular_id} {POPULAR}").click()
    staff.check()
    page.get_by_label(t("Approved for implementation"), exact=True).check()
    page.get_by_role("button", name=t("Save the conclusion")).click()
    expect(page.get_by_role("status").filter(has_text=t("The conclusion is saved."))).to_be_visible()
    staff.check()

    # --- publish: the public results page shows the outcome ---------------------------------------------
    publish = page.locator("section", has=page.locator("#publish"))
    publish.get_by_label(t("I confirm: the results and conclusions will be published and can never be changed."),
                         exact=True).check()
    publish.get_by_role("button", name=t("Publish the results")).click()
    expect(page.get_by_role("status").filter(has_text=t("The results are published."))).to_be_visible()
    page.screenshot(path=shots / "staff-published-results-ru-390.png", full_page=True)
    _assert_outcome(page, popular_id, niche_id)

    # --- published: the console asks for implementation updates on the approved project -----------
    _console_card(page, staff).get_by_role("link", name=ui_ntext(LANG, "%(num)s implementation update due", 1)).click()
    staff.check()
    page.get_by_role("link", name=f"{t('Add an implementation update')}: №{popular_id} {POPULAR}").click()
    staff.check()
    page.get_by_label(t("Status"), exact=True).select_option(label=t("In procurement"))
    page.get_by_label(t("Date"), exact=True).fill(datetime.now(ALMATY).strftime("%Y-%m-%d"))
    page.get_by_label(t("Note in Russian"), exact=True).fill("Объявлен конкурс на закупку опор освещения.")
    page.get_by_label(t("Note in Kazakh"), exact=True).fill("Жарық тіректерін сатып алу конкурсы жарияланды.")
    page.get_by_role("button", name=t("Add the update")).click()
    expect(page.get_by_role("status").filter(has_text=t("The update is added."))).to_be_visible()
    expect(page.get_by_text("Объявлен конкурс на закупку опор освещения.")).to_be_visible()

    # Anyone sees it: the resident, from the home page's latest results.
    resident.get_by_role("link", name=t("Home"), exact=True).first.click()
    latest = resident.locator("section", has=resident.locator("#latest-results"))
    latest.locator(".card", has=resident.get_by_role("link", name=TITLE_RU)).get_by_role(
        "link", name=t("See the results")).click()
    _assert_outcome(resident, popular_id, niche_id)
    assert_accessible(resident)
    assert_no_horizontal_scroll(resident)

    assert not staff.unchecked(), f"staff pages loaded without the checks: {staff.unchecked()}"
