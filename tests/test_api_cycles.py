"""The API of cycles, phases, proposals and review (../shared/api.md)."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Cycle, Proposal
from tests.helpers import catalogue_translation

BODY = {"territory": "750000000", "year": 2026,
        "title": {"kk": "Алматы ХҚБ 2026", "ru": "БНУ Алматы 2026", "en": "Almaty PB 2026"},
        "description": {"ru": "Благоустройство дворов."}, "budget": 500_000_000,
        "max_project_cost": 98_300_000, "categories": ["parks", "lighting", "sidewalks"],
        "ballot": {"style": "approval", "max_choices": 3}, "rule": "greedy", "min_voters": 10,
        "schedule": {"proposals_open": "2026-03-01T09:00:00+05:00", "proposals_close": "2026-04-12T18:00:00+05:00",
                     "voting_open": "2026-05-01T09:00:00+05:00", "voting_close": "2026-05-20T18:00:00+05:00"}}
PROPOSAL = {"title": "Тротуар вдоль улицы Саина", "description": "<p>Новый тротуар</p><script>x()</script>",
            "category": "sidewalks", "cost": 25_000_000, "address": "ул. Саина, 10–30",
            "latitude": 43.23, "longitude": 76.85}


def body(**overrides):
    data = dict(BODY)
    data.update(overrides)
    return data


def cycles_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Cycle.id)))


def test_staff_create_and_read_a_cycle(app, client, make_user, api_token):
    _, iin = make_user(role="staff", territory="750000000")
    headers = api_token(iin)
    response = client.post("/api/v1/cycles", json=body(), headers=headers)
    assert response.status_code == 201
    cycle_id = response.get_json()["id"]
    # a draft is visible to its staff, not to the public
    assert client.get(f"/api/v1/cycles/{cycle_id}").status_code == 404
    data = client.get(f"/api/v1/cycles/{cycle_id}", headers={**headers, "Accept-Language": "ru"}).get_json()
    assert data["title"] == "БНУ Алматы 2026" and data["title_i18n"]["kk"] == "Алматы ХҚБ 2026"
    assert data["ballot"] == {"style": "approval", "max_choices": 3} and data["rule"] == "greedy"
    assert data["territory"] == "750000000" and data["phase"] == "draft" and data["min_voters"] == 10
    assert data["categories"] == ["parks", "lighting", "sidewalks"]
    assert data["schedule"]["proposals_open"].startswith("2026-03-01T04:00:00")
    assert "+00:00" in data["schedule"]["voting_close"]
    # The schedule closed proposals in April: opening them now is late and needs a confirmation.
    moved = client.post(f"/api/v1/cycles/{cycle_id}/phase", json={"phase": "proposals"}, headers=headers)
    assert moved.status_code == 409 and moved.get_json()["error"]["code"] == "off_schedule"
    moved = client.post(f"/api/v1/cycles/{cycle_id}/phase", json={"phase": "proposals", "confirm_off_schedule": True},
                        headers=headers)
    assert moved.status_code == 200 and moved.get_json()["phase"] == "proposals"
    listed = client.get("/api/v1/cycles?territory=750000000").get_json()
    assert [c["id"] for c in listed] == [cycle_id]
    assert client.get("/api/v1/cycles?territory=710000000").get_json() == []
    assert client.get("/api/v1/cycles?territory=999999999").status_code == 404


@pytest.mark.parametrize("role, home, status", [
    ("staff", "710000000", 403), ("staff", "751410000", 403), ("resident", "750000000", 403)])
def test_only_staff_of_the_territory_create(app, client, make_user, api_token, role, home, status):
    _, iin = make_user(role=role, territory=home)
    response = client.post("/api/v1/cycles", json=body(), headers=api_token(iin))
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == ("not_staff_of_territory")
    assert cycles_count(app) == 0


def test_create_needs_a_token(client, territories):
    assert client.post("/api/v1/cycles", json=body()).status_code == 401


BAD_CYCLES = [
    ({"min_voters": 9}, "min_voters"),
    ({"min_voters": "10"}, "min_voters"),
    ({"budget": "500000000"}, "budget"),
    ({"ballot": {"style": "approval", "max_choices": 0}}, "max_choices"),
    ({"ballot": {"style": "approval", "max_choices": "3"}}, "max_choices"),
    ({"ballot": {"style": "ranked"}}, "ballot_style"),
    ({"rule": "borda"}, "rule"),
    ({"categories": ["parks", "casino"]}, "categories"),
    ({"categories": "parks"}, "categories"),
    ({"title": "Almaty"}, "title"),
    ({"title": {"ru": "Алматы", "en": "Almaty"}}, "title_kk"),  # the state languages are required
    ({"title": {"kk": "Алматы", "en": "Almaty"}}, "title_ru"),
    ({"schedule": {"proposals_open": "2026-03-01T09:00"}}, "proposals_open"),
    ({"schedule": {"proposals_open": "2026-05-01T09:00:00+05:00", "proposals_close": "2026-04-01T09:00:00+05:00"}},
     "proposals_close"),
    ({"max_project_cost": 600_000_000}, "max_project_cost"),
]


def test_create_validation(app, client, make_user, api_token):
    _, iin = make_user(role="staff", territory="750000000")
    headers = api_token(iin)
    for overrides, field in BAD_CYCLES:
        response = client.post("/api/v1/cycles", json=body(**overrides), headers=headers)
        assert response.status_code == 422, (overrides, response.get_json())
        assert field in response.get_json()["error"]["fields"], overrides
    assert cycles_count(app) == 0


def test_territory_must_exist(client, make_user, api_token):
    _, iin = make_user(role="staff", territory="750000000")
    response = client.post("/api/v1/cycles", json=body(territory="123"), headers=api_token(iin))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "territory_not_found"


@pytest.mark.parametrize("lang, expected", [
    ("en", "Ballot and counting settings cannot change once voting has opened."),
    ("ru", None), ("kk", None)])
def test_settings_locked_after_voting_opens(app, tclient, make_cycle, make_user, api_token, lang, expected):
    cycle_id = make_cycle(phase="voting")
    _, iin = make_user(role="staff", territory="750000000")
    headers = {**api_token(iin), "Accept-Language": lang}
    for change in ({"rule": "mes"}, {"ballot": {"style": "single"}}, {"min_voters": 50}, {"budget": 1}):
        response = tclient.patch(f"/api/v1/cycles/{cycle_id}", json=change, headers=headers)
        assert response.status_code == 409
        error = response.get_json()["error"]
        assert error["code"] == "settings_locked"
        assert error["message"] == (expected or catalogue_translation(
            "Ballot and counting settings cannot change once voting has opened.", lang))
    renamed = tclient.patch(f"/api/v1/cycles/{cycle_id}", json={"title": {"en": "Almaty PB 2026, round 2"}},
                            headers=headers)
    assert renamed.status_code == 200 and renamed.get_json()["title_i18n"]["en"] == "Almaty PB 2026, round 2"
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        assert (cycle.rule, cycle.min_voters, cycle.ballot_style) == ("greedy", 10, "approval")


def test_settings_change_before_voting(client, make_cycle, make_user, api_token):
    cycle_id = make_cycle(phase="review")
    _, iin = make_user(role="staff", territory="750000000")
    response = client.patch(f"/api/v1/cycles/{cycle_id}", json={"rule": "mes", "ballot": {"style": "knapsack"}},
                            headers=api_token(iin))
    assert response.status_code == 200
    assert response.get_json()["ballot"] == {"style": "knapsack", "max_choices": None}


def test_phase_moves(client, make_cycle, make_user, api_token):
    cycle_id = make_cycle(phase="review", protocol_published_at=datetime(2026, 4, 1, tzinfo=timezone.utc))
    _, iin = make_user(role="staff", territory="750000000")
    _, other = make_user(role="staff", territory="710000000")
    headers = api_token(iin)
    assert client.post(f"/api/v1/cycles/{cycle_id}/phase", json={"phase": "closed"},
                       headers=headers).get_json()["error"]["code"] == "wrong_phase"
    assert client.post(f"/api/v1/cycles/{cycle_id}/phase", json={"phase": "proposals"},
                       headers=headers).status_code == 409
    assert client.post(f"/api/v1/cycles/{cycle_id}/phase", json={"phase": "nonsense"},
                       headers=headers).status_code == 422
    assert client.post(f"/api/v1/cycles/{cycle_id}/phase", json={"phase": 3}, headers=headers).status_code == 422
    assert client.post(f"/api/v1/cycles/{cycle_id}/phase", json={}, headers=headers).status_code == 422
    assert client.post(f"/api/v1/cycles/{cycle_id}/phase", json={"phase": "voting"},
                       headers=api_token(other)).status_code == 403
    response = client.post(f"/api/v1/cycles/{cycle_id}/phase", json={"phase": "voting"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["phase"] == "voting"
    assert client.post("/api/v1/cycles/999/phase", json={"phase": "voting"}, headers=headers).status_code == 404


def test_proposals_through_the_api(app, client, make_cycle, make_user, api_token):
    cycle_id = make_cycle(territory="195231000", phase="proposals", categories=["sidewalks", "lighting"])
    _, villager = make_user(territory="195231100")
    _, townsman = make_user(territory="751410000")
    # A place in Aytey rural district (PROPOSAL's own point is in Almaty, outside its box).
    response = client.post(f"/api/v1/cycles/{cycle_id}/proposals",
                           json={**PROPOSAL, "language": "ru", "latitude": 43.27, "longitude": 76.47},
                           headers=api_token(villager))
    assert response.status_code == 201
    proposal_id = response.get_json()["id"]
    refused = client.post(f"/api/v1/cycles/{cycle_id}/proposals", json=PROPOSAL, headers=api_token(townsman))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "not_resident_of_territory"
    detail = client.get(f"/api/v1/proposals/{proposal_id}").get_json()
    assert detail["description"] == "<p>Новый тротуар</p>" and detail["status"] == "submitted"
    assert detail["territory"] == "195231100" and detail["latitude"] == 43.27
    listed = client.get(f"/api/v1/cycles/{cycle_id}/proposals").get_json()
    assert listed == [{"id": proposal_id, "cycle": cycle_id, "title": PROPOSAL["title"],
                       "title_i18n": {"kk": None, "ru": PROPOSAL["title"], "en": None},
                       "category": "sidewalks", "cost": 25_000_000, "status": "submitted"}]
    assert client.get(f"/api/v1/cycles/{cycle_id}/proposals?category=lighting").get_json() == []
    assert client.get("/api/v1/proposals/999").status_code == 404


BAD_PROPOSALS = [
    ({"cost": 30_000_001}, "cost"), ({"cost": "25000000"}, "cost"), ({"category": "parks"}, "category"),
    ({"title": ""}, "title"), ({"description": "<script>x()</script>"}, "description"),
    ({"latitude": "43.2"}, "latitude"), ({"latitude": True}, "latitude"),
]


def test_bad_proposals_through_the_api(app, client, make_cycle, make_user, api_token):
    cycle_id = make_cycle(phase="proposals", categories=["sidewalks"])
    _, iin = make_user()
    headers = api_token(iin)
    for overrides, field in BAD_PROPOSALS:
        response = client.post(f"/api/v1/cycles/{cycle_id}/proposals", json={**PROPOSAL, **overrides},
                               headers=headers)
        assert response.status_code == 422, overrides
        assert field in response.get_json()["error"]["fields"], overrides
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_proposals_out_of_phase_are_409(client, make_cycle, make_user, api_token):
    cycle_id = make_cycle(phase="review", categories=["sidewalks"])
    _, iin = make_user()
    response = client.post(f"/api/v1/cycles/{cycle_id}/proposals", json=PROPOSAL,
                           headers={**api_token(iin), "Accept-Language": "en"})
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == "This cycle is not taking proposals now."


def test_review_through_the_api(app, client, make_cycle, make_proposal, make_user, api_token):
    cycle_id = make_cycle(phase="review")
    proposal_id = make_proposal(cycle_id, status="submitted")
    _, staff = make_user(role="staff", territory="750000000")
    _, other = make_user(role="staff", territory="710000000")
    headers = api_token(staff)
    response = client.post(f"/api/v1/proposals/{proposal_id}/review", json={"decision": "rejected"}, headers=headers)
    assert response.status_code == 422 and "reason" in response.get_json()["error"]["fields"]
    assert client.post(f"/api/v1/proposals/{proposal_id}/review", json={"decision": "admitted"},
                       headers=api_token(other)).status_code == 403
    assert client.post(f"/api/v1/proposals/{proposal_id}/review", json={"decision": "rejected", "reason": 5},
                       headers=headers).status_code == 422
    response = client.post(f"/api/v1/proposals/{proposal_id}/review",
                           json={"decision": "rejected", "reason": "Не относится к благоустройству."}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["review"]["reason"] == "Не относится к благоустройству."
    assert client.get(f"/api/v1/proposals/{proposal_id}").get_json()["status"] == "rejected"
    with app.app_context():
        db.session.get(Cycle, cycle_id).phase = "voting"
        db.session.commit()
    late = client.post(f"/api/v1/proposals/{proposal_id}/review", json={"decision": "admitted"}, headers=headers)
    assert late.status_code == 409


def test_revision_request_through_the_api(client, make_cycle, make_proposal, make_user, api_token):
    cycle_id = make_cycle(phase="review")
    proposal_id = make_proposal(cycle_id, status="submitted")
    _, staff = make_user(role="staff", territory="750000000")
    headers = api_token(staff)
    response = client.post(f"/api/v1/proposals/{proposal_id}/review",
                           json={"decision": "revision_requested", "reason": "Уточните адрес.",
                                 "revision_deadline": "2099-01-01T00:00"}, headers=headers)
    assert response.status_code == 422 and "revision_deadline" in response.get_json()["error"]["fields"]
    response = client.post(f"/api/v1/proposals/{proposal_id}/review",
                           json={"decision": "revision_requested", "reason": "Уточните адрес.",
                                 "revision_deadline": "2099-01-01T00:00:00+05:00"}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["review"]["revision_deadline"].startswith("2098-12-31T19:00:00")


def test_openapi_describes_the_cycle_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/cycles"]) and "patch" in paths["/cycles/{cycle_id}"]
    assert "post" in paths["/proposals/{proposal_id}/review"]


def test_out_of_range_numbers_are_404_or_422_never_500(client, make_cycle, make_user, api_token):
    cycle_id = make_cycle(phase="proposals")
    _, iin = make_user(role="staff", territory="750000000")
    huge = 10**20
    assert client.get(f"/api/v1/cycles/{huge}").status_code == 404
    assert client.get(f"/api/v1/proposals/{huge}").status_code == 404
    assert client.get(f"/en/cycles/{huge}").status_code == 404
    assert client.get(f"/en/cycles/{cycle_id}?page={huge}").status_code == 200
    response = client.patch(f"/api/v1/cycles/{cycle_id}", json={"min_voters": huge}, headers=api_token(iin))
    assert response.status_code == 422 and "min_voters" in response.get_json()["error"]["fields"]


def test_protocol_published_through_the_api_opens_the_way_to_voting(app, client, make_cycle, make_proposal,
                                                                     make_user, api_token):
    # An API-only client (a mobile staff app) reviews, publishes the protocol and opens voting.
    cycle_id = make_cycle(phase="review")
    proposal_id = make_proposal(cycle_id, status="submitted")
    _, staff = make_user(role="staff", territory="750000000")
    _, other = make_user(role="staff", territory="710000000")
    headers = api_token(staff)
    protocol = f"/api/v1/cycles/{cycle_id}/protocol"
    early = client.post(protocol, headers=headers)
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "proposals_undecided"
    opening = client.post(f"/api/v1/cycles/{cycle_id}/phase", json={"phase": "voting", "confirm_off_schedule": True},
                          headers=headers)
    assert opening.status_code == 409
    assert client.post(f"/api/v1/proposals/{proposal_id}/review", json={"decision": "admitted"},
                       headers=headers).status_code == 200
    assert client.post(protocol).status_code == 401
    assert client.post(protocol, headers=api_token(other)).status_code == 403
    assert client.post("/api/v1/cycles/999999/protocol", headers=headers).status_code == 404
    published = client.post(protocol, headers=headers)
    assert published.status_code == 201
    stamp = published.get_json()["published_at"]
    assert datetime.fromisoformat(stamp).tzinfo is not None
    assert client.get(f"/api/v1/cycles/{cycle_id}", headers=headers).get_json()["protocol_published_at"] == stamp
    opened = client.post(f"/api/v1/cycles/{cycle_id}/phase", json={"phase": "voting", "confirm_off_schedule": True},
                         headers=headers)
    assert opened.status_code == 200 and opened.get_json()["phase"] == "voting"
    assert client.post(protocol, headers=headers).status_code == 201  # re-published in voting (after revisions)
    assert "post" in client.get("/api/v1/openapi.json").get_json()["paths"]["/cycles/{cycle_id}/protocol"]
