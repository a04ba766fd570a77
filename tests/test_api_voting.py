"""PUT/GET /api/v1/cycles/<id>/ballot against the contract in ../shared/api.md."""
import threading

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Ballot
from tests.helpers import PASSWORD, residents


@pytest.fixture
def setup(app, make_cycle, make_proposal, make_user, api_token):
    """(cycle id, proposal ids, headers of a resident of Almaty) for an approval cycle (up to 2)."""
    author = residents(app, "751410000", 1)[0]
    cycle_id = make_cycle(phase="voting", ballot_style="approval", max_choices=2)
    ps = [make_proposal(cycle_id, author_id=author, cost=c) for c in (1_000_000, 2_000_000, 3_000_000)]
    _, iin = make_user(territory="751710000")
    return cycle_id, ps, api_token(iin)


def test_put_then_get_ballot(client, setup):
    cycle_id, (p1, p2, p3), headers = setup
    response = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [p3, p1]}, headers=headers)
    assert response.status_code == 200
    receipt = response.get_json()["receipt"]
    got = client.get(f"/api/v1/cycles/{cycle_id}/ballot", headers=headers).get_json()
    assert got["proposals"] == [p1, p3] and got["receipt"] == receipt and "+00:00" in got["cast_at"]
    assert not {"votes", "count", "voters"} & set(got)  # no counts during voting
    replaced = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [p2]}, headers=headers)
    assert replaced.status_code == 200 and replaced.get_json()["receipt"] == receipt
    assert client.get(f"/api/v1/cycles/{cycle_id}/ballot", headers=headers).get_json()["proposals"] == [p2]


def test_needs_a_token(client, setup):
    cycle_id, (p1, _, _), _ = setup
    assert client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [p1]}).status_code == 401
    assert client.get(f"/api/v1/cycles/{cycle_id}/ballot").status_code == 401


@pytest.mark.parametrize("body, status, code", [
    ({"proposals": "1"}, 422, "validation_failed"),
    ({"proposals": [1.5]}, 422, "validation_failed"),
    ({"proposals": [True]}, 422, "validation_failed"),
    ({}, 422, "validation_failed"),
    ({"proposals": []}, 422, "no_choice"),
    ({"proposals": [999999]}, 422, "unknown_proposal"),
])
def test_malformed_and_invalid_bodies(app, client, setup, body, status, code):
    cycle_id, _, headers = setup
    response = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json=body, headers=headers)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and "proposals" in error.get("fields", {})
    with app.app_context():
        assert db.session.scalar(select(Ballot)) is None


def test_not_json_is_400(client, setup):
    cycle_id, _, headers = setup
    response = client.put(f"/api/v1/cycles/{cycle_id}/ballot", data=b"[1,", headers=headers,
                          content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed_json"


def test_over_limit_other_cycle_and_rejected(client, setup, make_cycle, make_proposal, app):
    cycle_id, (p1, p2, p3), headers = setup
    author = residents(app, "751410000", 1)[0]
    foreign = make_proposal(make_cycle(phase="voting"), author_id=author)
    rejected = make_proposal(cycle_id, author_id=author, status="rejected")
    for ids, code in (([p1, p2, p3], "too_many_choices"), ([foreign], "unknown_proposal"),
                      ([rejected], "unknown_proposal"), ([p1, p1], "duplicate_choice")):
        response = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": ids}, headers=headers)
        assert (response.status_code, response.get_json()["error"]["code"]) == (422, code)
    assert client.get(f"/api/v1/cycles/{cycle_id}/ballot", headers=headers).status_code == 404


def test_outsider_out_of_phase_unknown_cycle(client, make_cycle, make_proposal, make_user, api_token, app):
    author = residents(app, "751410000", 1)[0]
    voting_id, closed_id = make_cycle(phase="voting"), make_cycle(phase="closed")
    p_voting, p_closed = make_proposal(voting_id, author_id=author), make_proposal(closed_id, author_id=author)
    _, astana_iin = make_user(territory="710000000")
    _, almaty_iin = make_user(territory="751410000")
    outsider, insider = api_token(astana_iin), api_token(almaty_iin)
    response = client.put(f"/api/v1/cycles/{voting_id}/ballot", json={"proposals": [p_voting]}, headers=outsider)
    assert (response.status_code, response.get_json()["error"]["code"]) == (403, "not_resident_of_territory")
    response = client.put(f"/api/v1/cycles/{closed_id}/ballot", json={"proposals": [p_closed]}, headers=insider)
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "voting_not_open")
    response = client.put("/api/v1/cycles/999999/ballot", json={"proposals": [p_voting]}, headers=insider)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "cycle_not_found"


def test_single_is_final(client, app, make_cycle, make_proposal, make_user, api_token):
    author = residents(app, "751410000", 1)[0]
    cycle_id = make_cycle(phase="voting", ballot_style="single", max_choices=None)
    p1, p2 = make_proposal(cycle_id, author_id=author), make_proposal(cycle_id, author_id=author)
    _, iin = make_user()
    headers = api_token(iin)
    assert client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [p1]}, headers=headers).status_code == 200
    again = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [p2]}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "ballot_final"
    assert client.get(f"/api/v1/cycles/{cycle_id}/ballot", headers=headers).get_json()["proposals"] == [p1]


def test_parallel_puts_from_one_account(app, setup):
    cycle_id, (p1, p2, p3), headers = setup
    submissions = [[p1], [p2, p3], [p1, p3], [p2], [p3], [p1, p2]]
    barrier = threading.Barrier(len(submissions))
    answers = []

    def put(ids):
        client = app.test_client()
        barrier.wait()
        response = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": ids}, headers=headers)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=put, args=(ids,)) for ids in submissions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [status for status, _ in answers] == [200] * len(submissions), answers
    with app.app_context():
        (ballot,) = db.session.scalars(select(Ballot)).all()
        assert {body["receipt"] for _, body in answers} == {ballot.receipt}
        assert [i.proposal_id for i in ballot.items] in [sorted(s) for s in submissions]


def test_ballots_are_rate_limited_per_account(new_iin, make_app, make_cycle, territories):
    app = make_app(BALLOTS_PER_ACCOUNT="2 per minute")
    from app.domain import accounts
    from app.models import Cycle, Proposal, Territory

    iin = new_iin()
    with app.app_context():
        almaty = db.session.scalar(select(Territory).where(Territory.code == "750000000"))
        user = accounts.register_resident(iin=iin, full_name="Voter", territory_code="751410000",
                                          password=PASSWORD, iin_key=app.config["IIN_HMAC_KEY"])
        cycle = Cycle(territory=almaty, year=2026, budget=10**8, max_project_cost=10**7, phase="voting",
                      ballot_style="approval", max_choices=3, rule="greedy", min_voters=10)
        proposal = Proposal(cycle=cycle, author=user, territory=user.territory, status="admitted",
                            cost=1000, title="Скамейки", description="", category="parks")
        db.session.add_all([cycle, proposal])
        db.session.commit()
        cycle_id, proposal_id = cycle.id, proposal.id
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"iin": iin, "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    statuses = [client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal_id]},
                           headers=headers) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[2].headers["Retry-After"]) > 0
    assert statuses[2].get_json()["error"]["code"] == "rate_limited"


@pytest.mark.parametrize("lang, expected", [
    ("en", "You can choose at most 2 projects."),
    ("ru", "Можно выбрать не более 2 проектов."),
    ("kk", "Ең көбі 2 жобаны таңдауға болады."),
])
def test_errors_are_translated(client, setup, lang, expected):
    cycle_id, (p1, p2, p3), headers = setup
    response = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [p1, p2, p3]},
                          headers={**headers, "Accept-Language": lang})
    assert response.get_json()["error"]["fields"]["proposals"][0] == expected


def test_openapi_describes_the_ballot(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"put", "get"} <= set(paths["/cycles/{cycle_id}/ballot"])
