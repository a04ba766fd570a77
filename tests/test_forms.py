"""Forms and what residents type: no "None" in rendered attributes, titles as plain text,
descriptions in Markdown rendered and sanitised."""
import re

import pytest

from app.domain import proposals as proposal_domain
from app.extensions import db
from app.models import Cycle, Proposal, User
from tests.helpers import csrf_token, login

NONE_ATTRIBUTE = re.compile(r'[\w:-]+="None"')


def _assert_no_none(html, url):
    found = NONE_ATTRIBUTE.findall(html)
    assert not found, f"{url}: {found}"


@pytest.fixture
def world(app, make_cycle, make_proposal, make_user, counted_cycle, staff):
    from tests.helpers import conclude_all, publish

    open_cycle = make_cycle(phase="proposals", categories=["parks", "lighting"])
    review_cycle = make_cycle(phase="review")
    submitted = make_proposal(review_cycle, status="submitted")
    resident = make_user(territory="751410000")
    published = counted_cycle()
    conclude_all(app, published, staff[0])
    publish(app, published, staff[0])
    closed = counted_cycle(phase="closed")
    return dict(open_cycle=open_cycle, review_cycle=review_cycle, submitted=submitted, resident=resident,
                published=published, closed=closed)


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_no_rendered_form_has_none_in_an_attribute(client, auth, world, staff, lang):
    public = [f"/{lang}/login", f"/{lang}/register"]
    for url in public:
        response = client.get(url)
        assert response.status_code == 200
        _assert_no_none(response.get_data(as_text=True), url)
    # With errors shown, too.
    page = client.get(f"/{lang}/login")
    failed = client.post(f"/{lang}/login", data={"csrf_token": csrf_token(page), "iin": "", "password": ""})
    _assert_no_none(failed.get_data(as_text=True), "login with errors")
    page = client.get(f"/{lang}/register")
    failed = client.post(f"/{lang}/register", data={"csrf_token": csrf_token(page), "iin": "1"})
    _assert_no_none(failed.get_data(as_text=True), "register with errors")

    login(client, world["resident"][1], lang=lang)
    url = f"/{lang}/cycles/{world['open_cycle']}/proposals/new"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    _assert_no_none(html, url)
    assert 'aria-describedby="description-hint"' in html
    failed = client.post(url, data={"csrf_token": csrf_token(page), "title": "", "description": ""})
    html = failed.get_data(as_text=True)
    _assert_no_none(html, url + " with errors")
    assert 'aria-invalid="true"' in html and 'aria-describedby="title-error"' in html
    auth.logout(lang=lang)

    login(client, staff[1], lang=lang)
    staff_pages = [f"/{lang}/staff/cycles/new", f"/{lang}/staff/cycles/{world['review_cycle']}/edit",
                   f"/{lang}/staff/proposals/{world['submitted']}/review",
                   f"/{lang}/staff/proposals/{world['closed']['proposals']['A']}/conclusion",
                   f"/{lang}/staff/proposals/{world['published']['proposals']['A']}/implementation"]
    for url in staff_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_no_none(response.get_data(as_text=True), url)


# --- titles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, clean", [
    ("<script>alert(1)</script>Сквер у школы", "Сквер у школы"),
    ("<b>Жарық</b>  на  <i>улице</i>", "Жарық на улице"),
    ("Парк &amp; сквер", "Парк & сквер"),
    ("&lt;img src=x onerror=alert(1)&gt;Фонари", "Фонари"),
    ("Tom & Jerry's <3 park", "Tom & Jerry's <3 park"),
])
def test_titles_are_plain_text(raw, clean):
    assert proposal_domain.clean_title(raw) == clean


def test_a_title_with_tags_is_stored_and_shown_without_them(app, client, world):
    with app.app_context():
        author = db.session.get(User, world["resident"][0])
        proposal = proposal_domain.submit_proposal(
            author, db.session.get(Cycle, world["open_cycle"]),
            {"title": "<script>alert('x')</script><b>Сквер</b> у школы", "description": "Деревья.",
             "category": "parks", "cost": 1_000_000})
        db.session.commit()
        proposal_id = proposal.id
        assert db.session.get(Proposal, proposal_id).title == "Сквер у школы"
    for lang in ("kk", "ru"):
        page = client.get(f"/{lang}/proposals/{proposal_id}").get_data(as_text=True)
        assert "Сквер у школы" in page and "&lt;script" not in page and "&lt;b&gt;" not in page


def test_a_title_that_is_only_tags_is_refused(app, world):
    from app.domain.errors import ValidationFailed

    with app.app_context(), pytest.raises(ValidationFailed) as caught:
        proposal_domain.submit_proposal(
            db.session.get(User, world["resident"][0]), db.session.get(Cycle, world["open_cycle"]),
            {"title": "<script>Сквер у школы</script>", "description": "Деревья.", "category": "parks",
             "cost": 1_000_000})
    assert "title" in caught.value.fields


# --- descriptions ----------------------------------------------------------------------------

def _flat(html):
    return html.replace("\n", "")


def test_markdown_gives_paragraphs_lists_bold_italics_and_links():
    html = proposal_domain.sanitise_description(
        "Что сделать:\n\n- **40** деревьев\n- *скамейки*\n\n1. первое\n2. второе\n\n"
        "Смотрите [схему](https://example.kz/plan).")
    assert _flat(html) == (
        "<p>Что сделать:</p><ul><li><strong>40</strong> деревьев</li><li><em>скамейки</em></li></ul>"
        "<ol><li>первое</li><li>второе</li></ol>"
        '<p>Смотрите <a href="https://example.kz/plan" rel="nofollow noopener">схему</a>.</p>')


@pytest.mark.parametrize("raw", [
    "Текст <script>alert(1)</script> дальше",
    "<script>\nalert(1)\n</script>\n\nТекст",
    "[нажми](javascript:alert(1))",
    '<a href="javascript:alert(1)">нажми</a>',
    "<img src=x onerror=alert(1)> Текст",
    '<p onclick="alert(1)" style="color:red">Текст</p>',
    "[x](JaVaScRiPt:alert(1)) <iframe src=https://evil.example></iframe>",
])
def test_sanitising_removes_scripts_handlers_and_javascript_links(raw):
    html = proposal_domain.sanitise_description(raw).lower()
    for bad in ("<script", "alert(1)</", "javascript:\"", "href=\"javascript", "onerror", "onclick",
                "style=", "<iframe", "<img"):
        assert bad not in html, (raw, html)


def test_html_stored_before_markdown_still_renders(app, client, make_cycle, make_proposal):
    cycle = make_cycle(phase="voting")
    stored = "<p>Первый абзац с <strong>жирным</strong>.</p><ul><li>пункт</li></ul>"
    proposal_id = make_proposal(cycle, description=stored)
    page = client.get(f"/ru/proposals/{proposal_id}").get_data(as_text=True)
    assert stored in page
    # And an edit that sends it back unchanged keeps it.
    assert _flat(proposal_domain.sanitise_description(stored)) == stored


def test_the_hint_says_how_to_format(client, world):
    from tests.helpers import catalogue_translation

    login(client, world["resident"][1], lang="kk")
    html = client.get(f"/kk/cycles/{world['open_cycle']}/proposals/new").get_data(as_text=True)
    hint = catalogue_translation(
        'What should be done, where and for whom. Formatting (Markdown): a blank line starts a new '
        'paragraph; **bold**, *italics*; a line starting with "- " or "1. " makes a list; '
        '[text](https://…) makes a link.', "kk")
    assert "**жуан**" in hint and hint in html
