"""The results API: GET results, PUT conclusion, POST publish (../shared/api.md)."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Conclusion, Cycle
from tests.helpers import conclude_all


def test_results_visibility(client, api_token, counted_cycle, published_cycle, staff, make_user):
    voting, closed, published = counted_cycle(phase="voting"), counted_cycle(), published_cycle()
    staff_headers = api_token(staff[1])
    _, resident = make_user()
    resident_headers = api_token(resident)
    url = "/api/v1/cycles/{}/results"
    assert client.get(url.format(voting["cycle"]), headers=staff_headers).status_code == 404
    assert client.get(url.format(closed["cycle"])).status_code == 403
    assert client.get(url.format(closed["cycle"]), headers=resident_headers).status_code == 403
    assert client.get(url.format(closed["cycle"]), headers=staff_headers).status_code == 200
    assert client.get(url.format(9999)).get_json()["error"]["code"] == "not_found"
    response = client.get(url.format(published["cycle"]), headers={"Accept-Language": "en"})
    assert response.status_code == 200
    body = response.get_json()
    assert {"cycle", "published_at", "budget", "rule", "min_voters", "voters", "proposals"} <= set(body)
    assert body["cycle"] == published["cycle"] and body["voters"] == 25 and body["min_voters"] == 10
    d = next(p for p in body["proposals"] if p["id"] == published["proposals"]["D"])
    assert d["votes"] == 9 and d["eligible"] is False and d["selected"] is False
    assert d["conclusion"]["decision"] == "not_approved"
    assert d["conclusion"]["justification"] == "Менее десяти проголосовавших."  # falls back from en
    assert d["conclusion"]["justification_language"] == "ru"
    assert d["conclusion"]["justification_i18n"] == {"kk": "Оннан аз адам дауыс берді.",
                                                     "ru": "Менее десяти проголосовавших.", "en": None}
    assert {"id", "title", "title_i18n", "cost"} <= set(d)


def test_put_conclusion(app, client, api_token, counted_cycle, staff, make_user):
    ids = counted_cycle()
    headers = api_token(staff[1])
    url = "/api/v1/proposals/{}/conclusion"
    nine = client.put(url.format(ids["proposals"]["D"]), headers={**headers, "Accept-Language": "en"},
                      json={"decision": "approved", "justification": {"ru": "Хотим."}})
    assert nine.status_code == 422
    error = nine.get_json()["error"]
    assert error["code"] == "below_min_voters" and "minimum of 10" in error["message"]
    assert "decision" in error["fields"]
    bare = client.put(url.format(ids["proposals"]["C"]), headers=headers, json={"decision": "not_approved"})
    assert bare.status_code == 422 and bare.get_json()["error"]["code"] == "justification_required"
    for body in ({"decision": 1}, {"decision": "approved", "justification": "text"},
                 {"decision": "approved", "justification": {"ru": ["x"]}},
                 {"decision": "approved", "document_date": "yesterday"}, {}):
        response = client.put(url.format(ids["proposals"]["A"]), headers=headers, json=body)
        assert response.status_code == 422, body
    assert client.put(url.format(ids["proposals"]["A"]), headers=headers, data="x",
                      content_type="application/json").status_code == 400
    assert client.put(url.format(9999), headers=headers, json={"decision": "approved"}).status_code == 404
    assert client.put(url.format(ids["proposals"]["A"]), json={"decision": "approved"}).status_code == 401
    _, resident = make_user()
    forbidden = client.put(url.format(ids["proposals"]["A"]), headers=api_token(resident),
                           json={"decision": "approved"})
    assert forbidden.status_code == 403
    ok = client.put(url.format(ids["proposals"]["A"]), headers=headers, json={
        "decision": "approved", "justification": {"kk": "Мақұлданды."}, "document_number": "5-р",
        "document_date": "2026-10-05"})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["missing_languages"] == ["ru", "en"]
    with app.app_context():
        conclusion = db.session.scalar(select(Conclusion))
        assert conclusion.decision == "approved" and conclusion.document_number == "5-р"


def test_publish_through_the_api(app, client, api_token, counted_cycle, staff):
    ids = counted_cycle()
    headers = api_token(staff[1])
    conclude_all(app, ids, staff[0], skip=("B", "D"))
    missing = client.post(f"/api/v1/cycles/{ids['cycle']}/publish", headers=headers)
    assert missing.status_code == 409
    error = missing.get_json()["error"]
    assert error["code"] == "conclusions_missing" and len(error["fields"]["proposals"]) == 2
    conclude_all(app, ids, staff[0])
    done = client.post(f"/api/v1/cycles/{ids['cycle']}/publish", headers=headers)
    assert done.status_code == 200
    assert done.get_json()["phase"] == "published" and len(done.get_json()["results_digest"]) == 64
    again = client.post(f"/api/v1/cycles/{ids['cycle']}/publish", headers=headers)
    assert again.status_code == 409


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_nothing_changes_after_publication(app, client, api_token, published_cycle, staff, admin, who):
    ids = published_cycle()
    headers = api_token((staff if who == "staff" else admin)[1])
    with app.app_context():
        digest = db.session.get(Cycle, ids["cycle"]).results_digest
    for key, body in (("A", {"decision": "not_approved", "justification": {"ru": "Передумали."}}),
                      ("D", {"decision": "approved", "justification": {"ru": "Очень нужно."}}),
                      ("C", {"decision": "not_approved", "justification": {"en": "Edited."}})):
        response = client.put(f"/api/v1/proposals/{ids['proposals'][key]}/conclusion", headers=headers,
                              json=body)
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "results_published"
    assert client.post(f"/api/v1/cycles/{ids['cycle']}/publish", headers=headers).status_code == 409
    assert client.post(f"/api/v1/cycles/{ids['cycle']}/phase", headers=headers,
                       json={"phase": "closed"}).status_code in (404, 405, 409)
    body = client.get(f"/api/v1/cycles/{ids['cycle']}/results").get_json()
    assert body["results_digest"] == digest


def test_openapi_describes_the_results_paths(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/cycles/{cycle_id}/results", "/proposals/{proposal_id}/conclusion",
                 "/cycles/{cycle_id}/publish", "/cycles/{cycle_id}/results.csv",
                 "/cycles/{cycle_id}/ballots.pb", "/feed.atom", "/territories/{territory_code}/feed.atom"):
        assert path in paths
    assert "sha-256" in paths["/cycles/{cycle_id}/results"]["get"]["description"].lower()
