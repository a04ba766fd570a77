from datetime import date

import pytest
from sqlalchemy import func, select

from app.domain.iin import make_iin
from app.extensions import db
from app.models import User
from tests.helpers import PASSWORD


@pytest.fixture
def resident(new_iin):
    """resident(**overrides) -> a registration body with a fresh IIN."""
    def body(**overrides):
        return {"iin": new_iin(), "full_name": "Иван Петров", "territory": "751710000",
                "password": PASSWORD, **overrides}

    return body


def count_users(app):
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def test_register_resident(resident, client, territories):
    body = resident()
    response = client.post("/api/v1/residents", json=body)
    assert response.status_code == 201
    assert isinstance(response.get_json()["id"], int)
    assert body["iin"] not in response.get_data(as_text=True)


@pytest.mark.parametrize("overrides, field, status", [
    ({"iin": "123456789012"}, "iin", 422),
    ({"iin": make_iin(date(2012, 3, 4))}, "iin", 422),
    ({"full_name": ""}, "full_name", 422),
    ({"password": "123456789"}, "password", 422),
    ({"territory": "000000000"}, "territory", 422),
    ({"iin": 900517300012}, "iin", 422),
    ({"email": "not-an-email"}, "email", 422),
])
def test_register_resident_errors(resident, app, client, territories, overrides, field, status):
    response = client.post("/api/v1/residents", json=resident(**overrides),
                           headers={"Accept-Language": "ru"})
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]
    assert error["message"] == "Исправьте отмеченные поля."
    assert count_users(app) == 0


def test_register_duplicate_is_409(resident, app, client, territories):
    body = resident()
    assert client.post("/api/v1/residents", json=body).status_code == 201
    response = client.post("/api/v1/residents", json=body)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "iin_taken"
    assert count_users(app) == 1


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'"text"', b"{"])
def test_malformed_bodies_are_400(client, payload):
    response = client.post("/api/v1/residents", data=payload, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_token_and_invalid_credentials(new_iin, client, make_user):
    _, iin = make_user()
    ok = client.post("/api/v1/auth/token", json={"iin": iin, "password": PASSWORD})
    assert ok.status_code == 200
    assert {"token", "expires_at"} <= set(ok.get_json())
    for body in ({"iin": iin, "password": "wrong-password"}, {"iin": new_iin(), "password": PASSWORD},
                 {"iin": "", "password": ""}):
        response = client.post("/api/v1/auth/token", json=body, headers={"Accept-Language": "kk"})
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_token_login_throttled_with_retry_after(client, make_user):
    _, iin = make_user()
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"iin": iin, "password": "wrong-password"})
    response = client.post("/api/v1/auth/token", json={"iin": iin, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"]["code"] == "rate_limited"


def test_territories(client, territories):
    units = client.get("/api/v1/territories", headers={"Accept-Language": "en"}).get_json()
    assert len(units) == 70
    almaty = next(u for u in units if u["code"] == "750000000")
    assert almaty["name"] == "Almaty" and almaty["parent"] is None and almaty["level"] == "city"
    assert almaty["name_i18n"]["kk"] == "Алматы қ."
    inside = client.get("/api/v1/territories?within=195231000").get_json()
    assert {u["code"] for u in inside} >= {"195231000", "195231100"}
    assert all(u["code"].startswith("19523") for u in inside)
    unknown = client.get("/api/v1/territories?within=123")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "territory_not_found"


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_openapi_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.rule.startswith("/api/v1"):
            path = rule.rule[len("/api/v1"):].replace("<int:", "{").replace("<id:", "{")
            path = path.replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routed.add((path, method.lower()))
    assert routed == described
