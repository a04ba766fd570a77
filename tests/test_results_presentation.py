"""How results read to people: locale formatting, the phone chart, plain words, the "How to check"
and results.csv column pages, the CSV's byte order mark and Atom links in the page's language."""
import csv
import io
import re
from datetime import date, datetime, timezone
from xml.etree import ElementTree as ET

import pytest
from flask_babel import force_locale

from app.domain import open_data
from app.domain.errors import Np_
from app.extensions import db
from app.models import Cycle, Territory
from tests.helpers import ROOT, catalogue_translation

NBSP = "\u00a0"
ATOM = "{http://www.w3.org/2005/Atom}"
BANNED = re.compile(r"greedy|жадн|ашкөз|knapsack|рюкзак|қоржын|approval|\bMES\b|digest|дайджест", re.I)


def _text(html):
    """The words a reader sees: no tags, no attributes, no expert block of commands."""
    html = re.sub(r'<section class="expert".*?</section>', "", html, flags=re.S)
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _set_population(app, code, population):
    with app.app_context():
        db.session.query(Territory).filter_by(code=code).update({"population": population})
        db.session.commit()


@pytest.mark.parametrize("lang, number, share, money, day, when", [
    ("kk", f"380{NBSP}000", f"0,02{NBSP}%", f"100{NBSP}000{NBSP}000{NBSP}₸", f"2 наурыз 2025{NBSP}ж.",
     f"2 наурыз 2025{NBSP}ж., "),
    ("ru", f"380{NBSP}000", f"0,02{NBSP}%", f"100{NBSP}000{NBSP}000{NBSP}₸", f"2 марта 2025{NBSP}г.",
     f"2 марта 2025{NBSP}г., "),
    ("en", "380,000", "0.02%", f"100,000,000{NBSP}₸", "2 March 2025", "2 March 2025, "),
])
def test_formatting_filters_follow_the_locale(app, lang, number, share, money, day, when):
    from app import templating

    with app.test_request_context(f"/{lang}/"), force_locale(lang):
        assert templating.number(380000) == number
        assert templating.percent(0.0002) == share
        assert templating.format_tenge(100_000_000) == money
        assert str(templating.tenge(100_000_000)) == f'<span class="money">{money}</span>'
        assert templating.date(date(2025, 3, 2)) == day
        stamp = templating.datetime(datetime(2025, 3, 2, 9, 5, 33, tzinfo=timezone.utc))
        assert stamp.startswith(when) and re.fullmatch(r".*, \d\d:\d\d", stamp)  # minutes, never seconds
        assert templating.number(None) == templating.date(None) == templating.tenge(None) == ""


def test_counts_in_domain_messages_are_formatted(app):
    from app.i18n import translate

    message = Np_("At most %(n)s character.", "At most %(n)s characters.")
    with app.test_request_context("/ru/"), force_locale("ru"):
        assert translate(message, {"n": 10000}) == f"Не более 10{NBSP}000 символов."


@pytest.mark.parametrize("lang, stamp", [("kk", r"\d{1,2} [а-яәіңғүұқөһ]+ \d{4}\xa0ж\., \d\d:\d\d"),
                                         ("ru", r"\d{1,2} [а-я]+ \d{4}\xa0г\., \d\d:\d\d"),
                                         ("en", r"\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d")])
def test_results_page_shows_locale_numbers_and_dates(app, client, published_cycle, lang, stamp):
    _set_population(app, "750000000", 125_000)
    ids = published_cycle()
    html = client.get(f"/{lang}/cycles/{ids['cycle']}/results").get_data(as_text=True)
    group = "," if lang == "en" else NBSP
    assert f'<span class="money">20{group}000{group}000{NBSP}₸</span>' in html  # the budget
    assert f'<span class="money">8{group}000{group}000{NBSP}₸</span>' in html  # proposal A's cost
    assert f"125{group}000" in html and ("0.02%" if lang == "en" else f"0,02{NBSP}%") in html  # turnout
    assert re.search(stamp, html), "the publication time in words, without seconds"
    text = _text(html)
    assert not re.search(r"\d{4}-\d\d-\d\d", text), "no ISO dates on the page"
    assert not re.search(r"\d\d:\d\d:\d\d", text), "no seconds"
    assert not re.search(r"\d{5,}", text.replace(open_data_digest(app, ids), "")), "no unformatted big numbers"


def open_data_digest(app, ids):
    with app.app_context():
        return db.session.get(Cycle, ids["cycle"]).results_digest


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_chart_has_a_legend_and_readable_text(client, published_cycle, lang):
    ids = published_cycle()
    html = client.get(f"/{lang}/cycles/{ids['cycle']}/results").get_data(as_text=True)
    svg = re.search(r'<svg class="results-chart".*?</svg>', html, re.S).group(0)
    sizes = [int(s) for s in re.findall(r'font-size="(\d+)"', svg)]
    assert sizes and min(sizes) >= 12
    width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
    assert width <= 390, "drawn for a phone, so 1 unit is about 1 px at 390 px"
    legend = re.search(r'<g class="legend">.*?</g>', svg, re.S).group(0)
    for msgid in ("selected", "not selected", "below the minimum"):
        expected = msgid if lang == "en" else catalogue_translation(msgid, lang)
        assert f">{expected}</text>" in legend
    assert "stroke-dasharray" in legend  # the minimum line is explained too
    assert svg.count('<rect class="bar"') == 4


def test_long_titles_wrap_onto_three_lines_at_most():
    from app.results.chart import CHARS_PER_LINE, wrap

    lines = wrap("#12 " + "Благоустройство сквера у школы номер двенадцать " * 3)
    assert len(lines) == 3 and all(len(line) <= CHARS_PER_LINE for line in lines)
    assert lines[-1].endswith("…")
    assert wrap("#3 Сквер на Абая") == ["#3 Сквер на Абая"]


def test_results_table_stacks_on_phones(client, published_cycle):
    ids = published_cycle()
    html = client.get(f"/ru/cycles/{ids['cycle']}/results").get_data(as_text=True)
    table = re.search(r'<table class="results-table stack">.*?</table>', html, re.S).group(0)
    votes = catalogue_translation("Votes", "ru")
    assert table.count(f'data-label="{votes}"') == 4  # each cell says what it is when stacked
    css = (ROOT / "app" / "static" / "css" / "site.css").read_text(encoding="utf-8")
    assert "table.stack td::before { content: attr(data-label)" in css
    assert ".money, .nowrap { white-space: nowrap; }" in css


def _public_pages(ids, lang):
    cycle, proposal = ids["cycle"], ids["proposals"]["A"]
    return [f"/{lang}/", f"/{lang}/about", f"/{lang}/cycles", f"/{lang}/cycles/{cycle}",
            f"/{lang}/proposals/{proposal}", f"/{lang}/results", f"/{lang}/cycles/{cycle}/results",
            f"/{lang}/cycles/{cycle}/results/protocol", f"/{lang}/cycles/{cycle}/results/check",
            f"/{lang}/open-data/results-csv"]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_no_jargon_on_public_pages_and_staff_forms(client, published_cycle, counted_cycle, auth, admin, lang):
    ids = published_cycle()
    mes = counted_cycle(rule="mes", phase="voting")
    pages = _public_pages(ids, lang) + [f"/{lang}/cycles/{mes['cycle']}"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        found = BANNED.findall(_text(response.get_data(as_text=True)))
        assert not found, f"{url}: {found}"
    auth.login(admin[1], lang=lang)
    for url in (f"/{lang}/staff/cycles/new", f"/{lang}/staff/cycles/{mes['cycle']}/edit"):
        response = client.get(url)
        assert response.status_code == 200, url
        found = BANNED.findall(_text(response.get_data(as_text=True)))
        assert not found, f"{url}: {found}"


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_how_to_check_page(app, client, published_cycle, lang):
    ids = published_cycle()
    check = f"/{lang}/cycles/{ids['cycle']}/results/check"
    for page in (f"/{lang}/cycles/{ids['cycle']}/results", f"/{lang}/cycles/{ids['cycle']}/results/protocol"):
        assert check in client.get(page).get_data(as_text=True), f"{page} links to the check page"
    html = client.get(check).get_data(as_text=True)
    title = "How to check these results" if lang == "en" else catalogue_translation("How to check these results", lang)
    assert f"<h1>{title}</h1>" in html
    assert open_data_digest(app, ids) in html
    assert f'href="/cycles/{ids["cycle"]}/ballots.pb"' in html
    expert = re.search(r'<section class="expert".*?</section>', html, re.S).group(0)
    assert "python -m app.tally ballots.pb --rule greedy --threshold 10" in expert and "hashlib.sha256" in expert
    assert "<pre" not in html.replace(expert, ""), "commands only inside the marked block"
    rule = "By number of votes, while the budget lasts"
    assert (rule if lang == "en" else catalogue_translation(rule, lang)) in html


def test_how_to_check_page_is_hidden_like_the_results(client, counted_cycle):
    ids = counted_cycle()  # counted, not published
    assert client.get(f"/en/cycles/{ids['cycle']}/results/check").status_code in (403, 404)
    assert client.get("/en/cycles/999999/results/check").status_code == 404


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_csv_columns_are_documented_beside_the_download(client, published_cycle, lang):
    ids = published_cycle()
    results = client.get(f"/{lang}/cycles/{ids['cycle']}/results").get_data(as_text=True)
    item = results[results.index(">results.csv</a>"):]
    assert f'href="/{lang}/open-data/results-csv"' in item[:item.index("</li>")]
    html = client.get(f"/{lang}/open-data/results-csv").get_data(as_text=True)
    for column in open_data.CSV_COLUMNS:
        assert f'<tr id="col-{column}"><th scope="row"><code>{column}</code></th>' in html
    meaning = "Votes for the proposal"
    assert (meaning if lang == "en" else catalogue_translation(meaning, lang)) in html


def test_results_csv_opens_in_excel_and_the_digest_still_holds(app, client, published_cycle):
    ids = published_cycle()
    data = client.get(f"/cycles/{ids['cycle']}/results.csv").data
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == open_data.CSV_COLUMNS and "Сквер на Абая" in data.decode("utf-8-sig")
    document = client.get(f"/api/v1/cycles/{ids['cycle']}/results").get_json()
    document = document.get("data", document)
    assert open_data.digest_of_payload(open_data.digest_payload_from_json(document)) == open_data_digest(app, ids)


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_atom_links_follow_the_page_language(client, published_cycle, lang):
    ids = published_cycle()
    for url in (f"/{lang}/", f"/{lang}/cycles/{ids['cycle']}/results", f"/{lang}/results"):
        html = client.get(url).get_data(as_text=True)
        feeds = re.findall(r'href="([^"]*feed\.atom[^"]*)"', html)
        assert feeds and all(href.endswith(f"?lang={lang}") for href in feeds), (url, feeds)
    feed = ET.fromstring(client.get(f"/feed.atom?lang={lang}").data)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == lang
    summary = feed.find(f"{ATOM}entry/{ATOM}summary").text
    group = "," if lang == "en" else NBSP
    assert f"20{group}000{group}000{NBSP}₸" in summary and "20000000" not in summary
    checksum = "Checksum (SHA-256)" if lang == "en" else {"kk": "Бақылау сомасы", "ru": "Контрольная сумма"}[lang]
    assert checksum in summary and not BANNED.search(summary)
