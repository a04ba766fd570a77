"""Secrecy of the vote from staff and administrators: every staff page, export and API answer
about a cycle is crawled, and none links a resident to what they chose."""
import json
import re
from urllib.parse import urlsplit

from app.domain import lifecycle, residence
from app.domain.conclusions import record_conclusion
from app.extensions import db
from app.models import Ballot, Cycle, Proposal, User
from tests.helpers import login, residents, write_ballot

VOTER_NAME = "Зарина Секретова"
UNIQUE_TITLE = "Поющий фонтан у библиотеки"  # only she votes for it
HREF = re.compile(r'(?:href|action)="(/[^"#]*)')
SKIP = ("/static/", "/logout", "/kk/", "/ru/", "/uploads/")


def _text(response):
    if response.mimetype == "application/json":
        return json.dumps(response.get_json(), ensure_ascii=False)
    return response.get_data(as_text=True)


def _crawl(client, seeds, limit=400):
    """GET every same-site page reachable from the seeds (English pages, files and the API)."""
    seen, queue, pages = set(), list(seeds), {}
    while queue and len(seen) < limit:
        path = queue.pop(0).replace("&amp;", "&")
        if path in seen or any(part in path for part in SKIP):
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200:
            continue
        pages[path] = _text(response)
        if response.mimetype == "text/html":
            for link in HREF.findall(pages[path]):
                if not urlsplit(link).netloc:
                    queue.append(link)
    return pages


def _api_answers(client, headers, cycle_id, proposal_ids):
    document = client.get("/api/v1/openapi.json").get_json()
    answers = {}
    for template, operations in document["paths"].items():
        if "get" not in operations or "{code}" in template:
            continue  # a receipt code is the voter's: staff do not have it
        for proposal_id in proposal_ids if "{proposal_id}" in template else [None]:
            path = "/api/v1" + template.replace("{cycle_id}", str(cycle_id)) \
                .replace("{proposal_id}", str(proposal_id)).replace("{territory_code}", "750000000")
            for query in ("", "?territory=750000000"):
                response = client.get(path + query, headers=headers)
                if response.status_code == 200:
                    answers[path + query] = _text(response)
    return answers


def test_no_staff_page_export_or_api_links_a_resident_to_their_choices(
        app, client, make_cycle, make_proposal, make_user, api_token):
    admin_id, admin_iin = make_user(role="admin", territory="750000000")
    staff_id, staff_iin = make_user(role="staff", territory="750000000")
    author_id, _ = make_user(territory="751710000", name="Автор Проектов")
    voter_id, voter_iin = make_user(territory="751410000", name=VOTER_NAME)
    cycle_id = make_cycle(phase="voting", budget=50_000_000)
    unique = make_proposal(cycle_id, author_id=author_id, cost=4_000_000, title=UNIQUE_TITLE)
    common = make_proposal(cycle_id, author_id=author_id, cost=6_000_000, title="Освещение аллеи")
    # She also proposed a project: staff and the public know her name from its page.
    own = make_proposal(cycle_id, author_id=voter_id, cost=3_000_000, title="Скамейки у школы")
    voter_headers = api_token(voter_iin)
    cast = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [unique, common]},
                      headers=voter_headers).get_json()
    others = residents(app, "751410000", 11)
    with app.app_context():
        staff = db.session.get(User, staff_id)
        # Staff verified her home in person: her name is in the audit log and staff know her.
        residence.verify_by_staff(staff, voter_iin, residence.DOCUMENTS[0], app.config["IIN_HMAC_KEY"])
        for other in others:
            write_ballot(other, cycle_id, [common])
        db.session.commit()
        lifecycle.advance(db.session.get(Cycle, cycle_id), staff, "closed")
        db.session.commit()
        record_conclusion(staff, db.session.get(Proposal, common), "approved", {"ru": "Одобрено."})
        for proposal in (unique, own):
            record_conclusion(staff, db.session.get(Proposal, proposal), "not_approved",
                              {"ru": "Менее десяти голосов."})
        db.session.commit()
        ballot = db.session.scalar(db.select(Ballot).where(Ballot.voter_id == voter_id))
        from app.domain.voting import ballot_leaf_hash

        leaf_hash = ballot_leaf_hash(ballot)
    proposal_ids = [unique, common, own]

    def everything_staff_see():
        seen = {}
        for iin in (admin_iin, staff_iin):
            browser = app.test_client()
            login(browser, iin)
            seen.update(_crawl(browser, [
                "/en/staff/", "/en/staff/audit", "/en/staff/residents", f"/en/staff/cycles/{cycle_id}",
                f"/en/staff/cycles/{cycle_id}/turnout", f"/en/staff/cycles/{cycle_id}/conclusions",
                f"/en/cycles/{cycle_id}", f"/en/cycles/{cycle_id}/results",
                f"/cycles/{cycle_id}/results.csv", f"/cycles/{cycle_id}/ballots.pb"]))
            seen.update(_api_answers(browser, api_token(iin), cycle_id, proposal_ids))
        return seen

    closed = everything_staff_see()
    with app.app_context():
        lifecycle.publish(db.session.get(Cycle, cycle_id), db.session.get(User, staff_id))
        db.session.commit()
    published = everything_staff_see()
    for phase, seen in (("closed", closed), ("published", published)):
        # The crawl reached what matters: who the resident is, and what was chosen.
        assert any(VOTER_NAME in text for text in seen.values()), phase
        assert any(UNIQUE_TITLE in text for text in seen.values()), phase
        assert any("/staff/audit" in path for path in seen) and any("turnout" in path for path in seen)
        assert any(path.endswith("ballots.pb") for path in seen) and any("/api/v1/" in path for path in seen)
        for path, text in seen.items():
            # Nothing that belongs to her ballot alone, and never her name beside her choice.
            for secret in (cast["receipt"], cast["secret"], voter_iin):
                assert secret not in text, (phase, path)
            assert not (VOTER_NAME in text and (UNIQUE_TITLE in text or leaf_hash in text)), (phase, path)
            assert f'"voter_id": {voter_id}' not in text and f"voter {voter_id}" not in text, (phase, path)
    assert len(published) > 25
