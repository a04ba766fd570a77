"""People's journeys through the demo site, by clicks only from the home page, on a phone.

Each starts at /<lang>/ and from there only clicks, fills and reads what the page shows,
as a person would; the server is the seeded demo (conftest.demo_server)."""
import csv
import json
import re
import subprocess
import sys

from browser_checks import ROOT, assert_accessible, assert_no_horizontal_scroll, ui_text
from playwright.sync_api import expect

from app.tally.seal import check_seal

BOSTANDYK_EN = "Bostandyk district participatory budget"   # the demo's published cycle


def _results_table(page):
    """The results table as the page shows it: [{column header: cell text}, …]."""
    return page.get_by_role("table").first.evaluate("""table => {
        const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
        return [...table.querySelectorAll('tbody tr')].map(tr =>
            Object.fromEntries([...tr.children].map((cell, i) => [heads[i], cell.innerText.trim()])));
    }""")


def _proposal_id(label):
    match = re.match(r"#(\d+)\s", label)
    assert match, f"a proposal in the results table without its number: {label!r}"
    return int(match.group(1))


def _download(page, link_name, folder):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name, exact=True).click()
    download = info.value
    assert download.failure() is None, f"{link_name}: {download.failure()}"
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def test_journalist_recounts_a_published_result_from_the_home_page(page, tmp_path, shots):
    page.goto("/en/")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name="Published results", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Published results")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name=re.compile(BOSTANDYK_EN)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results: {BOSTANDYK_EN}")
    page.screenshot(path=shots / "journalist-results-en-390.png", full_page=True)

    rows = _results_table(page)
    assert rows, "the results page shows no table of proposals"
    selected_column = "Selected by the vote"
    assert all(selected_column in row for row in rows), f"no {selected_column!r} column: {rows[0]}"
    shown = {_proposal_id(row["Proposal"]) for row in rows if row[selected_column] == "yes"}
    assert shown, "the page shows no proposal selected by the vote"
    facts = page.locator("dl").first.inner_text()
    assert re.search(r"Minimum number of voters\s+10\b", facts), facts

    results_csv = _download(page, "results.csv", tmp_path)
    ballots_pb = _download(page, "ballots.pb", tmp_path)
    assert results_csv.suffix == ".csv" and ballots_pb.suffix == ".pb"

    with open(results_csv, encoding="utf-8-sig", newline="") as f:
        in_csv = {int(row["proposal_id"]) for row in csv.DictReader(f) if row["selected"] == "true"}
    assert in_csv == shown, f"results.csv selects {sorted(in_csv)}, the page {sorted(shown)}"

    recount = subprocess.run(
        [sys.executable, "-m", "app.tally", str(ballots_pb), "--rule", "greedy", "--threshold", "10"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert recount.returncode == 0, recount.stderr
    recounted = {int(line.split("\t")[0]) for line in recount.stdout.splitlines() if line.strip()}
    assert recounted == shown, (f"the recount of ballots.pb selects {sorted(recounted)}, "
                                f"the page {sorted(shown)}\n{recount.stdout}{recount.stderr}")

    # "How to check these results": the seal of the ballots, downloaded and checked offline.
    page.get_by_role("link", name="How to check these results").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How to check these results")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=shots / "journalist-how-to-check-en-390.png", full_page=True)
    seal_json = _download(page, "seal.json", tmp_path)
    seal = json.loads(seal_json.read_text(encoding="utf-8"))
    assert check_seal(seal) == [], check_seal(seal)
    assert seal["root"] in page.locator("main").inner_text()
    with open(ballots_pb, encoding="utf-8") as f:
        assert seal["leaves"] == sum(1 for line in f.read().split("VOTES\n", 1)[1].splitlines()[1:] if line)


def test_resident_logs_in_from_the_home_page(page, login, demo_server, shots):
    login(page, "Дана Ахметова", "kk")   # conftest.login: home → "Кіру" → IIN, password → "Кіру"
    expect(page.get_by_text(ui_text("kk", "You are logged in."))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    assert page.url.endswith("/kk/"), f"after logging in from home the resident is at {page.url}"
    # The crawl sees pages logged out; this is the home page as a resident sees it.
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=shots / "resident-logged-in-kk-390.png", full_page=True)


def test_resident_votes_from_the_home_page(page, login, demo_server, shots):
    # Асель Нурланова lives in Aytey village, inside the demo's cycle in voting (single choice).
    login(page, "Асель Нурланова", "kk")
    voting = demo_server.cycles["voting"]
    page.get_by_role("link", name=re.compile("Әйтей")).first.click()
    expect(page).to_have_url(re.compile(rf"/kk/cycles/{voting}$"))
    page.screenshot(path=shots / "resident-cycle-in-voting-kk-390.png", full_page=True)
    # "Дауыс беру" (Vote) alone or followed by more words, e.g. its closing date; not the
    # "Дауыс беруге жіберу хаттамасы" (admission protocol) link that is there today.
    named_vote = re.compile(r"^\s*Дауыс беру(?!\S)")
    vote = page.get_by_role("link", name=named_vote).or_(page.get_by_role("button", name=named_vote))
    expect(vote.first, "a 'Дауыс беру' (Vote) action on the page of the cycle in voting").to_be_visible(
        timeout=3_000)
    vote.first.click()

    page.get_by_role("radio").first.check()
    page.get_by_role("button", name=ui_text("kk", "Continue")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ui_text("kk", "Confirm your vote"))
    page.get_by_role("button", name=ui_text("kk", "Confirm my vote")).click()
    receipt = page.locator("#receipt")
    expect(receipt).to_be_visible()
    code = receipt.inner_text().strip()
    assert code, "the receipt shows no code"

    # Back on the home page and the cycle's page: "you voted", with the way to the receipt.
    page.get_by_role("link", name=ui_text("kk", "Home"), exact=True).first.click()
    expect(page.get_by_text(ui_text("kk", "You voted")).first, "home: 'you voted'").to_be_visible()
    see_receipt = ui_text("kk", "See your receipt")
    expect(page.get_by_role("link", name=see_receipt).first, "home: 'you voted' → receipt").to_be_visible()
    page.get_by_role("link", name=re.compile("Әйтей")).first.click()
    page.get_by_role("link", name=see_receipt).first.click()
    expect(page.locator("#receipt")).to_have_text(code)
    assert_accessible(page)
    assert_no_horizontal_scroll(page)

    # The receipt page leads to the public check of the code: stored, not yet counted.
    page.get_by_role("link", name=ui_text("kk", "Check this code")).click()
    expect(page.get_by_role("heading", level=2)).to_have_text(ui_text("kk", "This ballot is stored"))
    expect(page.get_by_text(ui_text("kk", "Not known yet: this is shown once the results are published.")))\
        .to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)


def test_voter_checks_her_ballot_in_the_seal_from_the_home_page(page, login, demo_server, tmp_path, shots):
    # Дана Ахметова voted in the demo's published cycle (Bostandyk district).
    login(page, "Дана Ахметова", "en")
    page.get_by_role("link", name=BOSTANDYK_EN).first.click()
    page.get_by_role("link", name=ui_text("en", "See your receipt")).first.click()
    section = page.get_by_role("region", name=ui_text("en", "Your ballot in the seal"))
    expect(section).to_be_visible()
    secret = page.locator("#secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){4}", secret), secret
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=shots / "voter-receipt-sealed-en-390.png", full_page=True)
    proof_file = _download(page, ui_text("en", "Download the proof (JSON)"), tmp_path)
    proof = json.loads(proof_file.read_text(encoding="utf-8"))
    assert proof["leaf_hash"] in section.inner_text() and f"secret:{secret}" in proof["leaf"]

    # From there to "How to check these results", and the published seal, checked offline.
    page.get_by_role("link", name=ui_text("en", "How to check it yourself")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How to check these results")
    seal_file = _download(page, "seal.json", tmp_path)
    verify = subprocess.run([sys.executable, "-m", "app.tally", "verify-receipt", "--seal", str(seal_file),
                             "--proof", str(proof_file)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "your ballot's leaf hash is in the seal" in verify.stdout
