"""The public results pages, read as a journalist would, in each language."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Conclusion
from tests.helpers import catalogue_translation


def test_front_page_leads_to_the_published_cycle(client, published_cycle):
    ids = published_cycle()
    for lang in ("kk", "ru", "en"):
        home = client.get(f"/{lang}/").get_data(as_text=True)
        assert f'href="/{lang}/results"' in home
        index = client.get(f"/{lang}/results").get_data(as_text=True)
        assert f'/{lang}/cycles/{ids["cycle"]}/results' in index


def test_index_groups_by_territory_and_year(client, published_cycle, counted_cycle):
    almaty = published_cycle()
    published_cycle(territory="751410000", year=2025, title_en="Bostandyk PB 2025")
    closed = counted_cycle()  # not published: not listed
    page = client.get("/en/results").get_data(as_text=True)
    assert page.index("Almaty") < page.index(f'/en/cycles/{almaty["cycle"]}/results')
    assert "Bostandyk PB 2025" in page and "2025" in page
    assert f'/en/cycles/{closed["cycle"]}/results' not in page


@pytest.mark.parametrize("lang, heading", [("kk", "Сквер на Абая"), ("ru", "Сквер на Абая"),
                                           ("en", "Сквер на Абая")])
def test_results_page_in_every_language(client, published_cycle, lang, heading):
    ids = published_cycle()
    response = client.get(f"/{lang}/cycles/{ids['cycle']}/results")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}"' in html
    assert heading in html
    # The chart: server-rendered SVG with a title, description and the ten-voter line.
    svg = re.search(r"<svg class=\"results-chart\".*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count("<rect class=\"bar\"") == 4 and "stroke-dasharray" in svg
    assert "<table" in html  # the same figures as a table
    assert "20" in html and "000" in html  # budget
    assert re.search(r"[0-9a-f]{64}", html)  # the digest
    for proposal_id in ids["proposals"].values():
        assert f'id="p-{proposal_id}"' in html
    assert "results.csv" in html and "ballots.pb" in html
    # No code on the public page: the recount command lives on "How to check these results".
    assert "python -m app.tally" not in html and "<pre" not in html
    check = f"/{lang}/cycles/{ids['cycle']}/results/check"
    assert f'href="{check}"' in html
    assert "python -m app.tally ballots.pb --rule greedy --threshold 10" in client.get(check).get_data(as_text=True)
    assert "<script" not in html


def _card(html, proposal_id):
    block = html[html.index(f'id="p-{proposal_id}"'):]
    return block[:block.index("</li>")]


IN_RUSSIAN = "There is no text in this language; it is shown in Russian."


def test_fallback_language_is_announced(client, published_cycle):
    ids = published_cycle()
    html = client.get(f"/en/cycles/{ids['cycle']}/results").get_data(as_text=True)
    # B's justification exists only in Russian: shown, with a note naming the language in English.
    block = _card(html, ids["proposals"]["B"])
    assert IN_RUSSIAN in block
    assert 'lang="ru"' in block and "Одобрено: средства предусмотрены в бюджете." in block
    # A has an English text: no note.
    block_a = _card(html, ids["proposals"]["A"])
    assert "Approved for implementation." in block_a and "it is shown in" not in block_a
    # In Kazakh, D is shown in Kazakh; C (ru/en only) falls back to Russian.
    kk = client.get(f"/kk/cycles/{ids['cycle']}/results").get_data(as_text=True)
    assert "Оннан аз адам дауыс берді." in kk


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_fallback_note_names_the_language_in_the_page_language(client, published_cycle, lang):
    ids = published_cycle()
    html = client.get(f"/{lang}/cycles/{ids['cycle']}/results").get_data(as_text=True)
    block = _card(html, ids["proposals"]["B"])  # Russian only
    if lang == "kk":
        note = catalogue_translation(IN_RUSSIAN, "kk")
        assert note in block and "орыс тілінде" in note
        assert "Русский" not in block and "Shown in" not in block
    else:
        # The reader's own language: no note at all.
        assert catalogue_translation(IN_RUSSIAN, "ru") not in block and 'class="fallback-note"' not in block


def test_every_conclusion_is_on_the_page(app, client, published_cycle):
    ids = published_cycle()
    html = client.get(f"/ru/cycles/{ids['cycle']}/results").get_data(as_text=True)
    with app.app_context():
        for conclusion in db.session.scalars(select(Conclusion)):
            assert (conclusion.justification_ru or conclusion.justification_kk) in html


def test_protocol_is_printable(client, published_cycle):
    ids = published_cycle()
    response = client.get(f"/ru/cycles/{ids['cycle']}/results/protocol")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<svg" in html and "results.css" in html


def test_results_hidden_before_publication(client, auth, counted_cycle, staff, make_user):
    draft = counted_cycle(phase="voting")
    closed = counted_cycle()
    assert client.get(f"/en/cycles/{draft['cycle']}/results").status_code == 404
    assert client.get(f"/en/cycles/{closed['cycle']}/results").status_code == 403
    assert client.get("/en/cycles/9999/results").status_code == 404
    _, resident = make_user()
    auth.login(resident)
    assert client.get(f"/en/cycles/{closed['cycle']}/results").status_code == 403
    auth.logout()
    auth.login(staff[1])
    preview = client.get(f"/en/cycles/{closed['cycle']}/results")
    assert preview.status_code == 200 and "Not published yet" in preview.get_data(as_text=True)
    assert client.get(f"/en/cycles/{draft['cycle']}/results").status_code == 404
