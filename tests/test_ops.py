"""Operations: /healthz, /readyz, /metrics, request ids and JSON request logs without IINs."""
import io
import json
import logging

import pytest

from app.observability import IinMaskFilter, JsonFormatter, mask_iins


@pytest.fixture
def log_lines():
    """Everything logged during the test, as the production handler writes it (JSON lines)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(IinMaskFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_healthz_answers_without_the_database(app, client, monkeypatch):
    from app.extensions import db

    def broken(*args, **kwargs):
        raise AssertionError("healthz touched the database")

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_names_an_unreachable_redis(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["failed"] == ["redis"]
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("failed")


def test_readyz_names_a_failing_database(client, monkeypatch):
    from app.ops import routes

    def down():
        raise ConnectionError("database down")

    monkeypatch.setattr(routes, "_check_database", down)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["failed"] == ["database"]


def test_readyz_runs_a_registered_queue_check(client, monkeypatch):
    from app import observability

    def down():
        raise TimeoutError

    monkeypatch.setitem(observability.READINESS_CHECKS, "queue:default", down)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["failed"] == ["queue:default"]


def test_metrics_are_for_allowed_addresses_or_the_token(make_app):
    app = make_app(METRICS_ALLOWED_IPS="127.0.0.1,10.0.0.0/8", METRICS_TOKEN="t0ken-for-metrics")
    client = app.test_client()
    client.get("/healthz")
    local = client.get("/metrics")
    assert local.status_code == 200 and local.mimetype == "text/plain"
    text = local.get_data(as_text=True)
    assert 'qatysu_http_requests_total{endpoint="ops.healthz",method="GET",status="200"}' in text
    assert "qatysu_http_request_duration_seconds_bucket" in text
    assert 'qatysu_queue_length{queue="default"} 0.0' in text
    assert "qatysu_ballots_cast_total" in text
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    assert client.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer t0ken-for-metrics"}).status_code == 200


def test_ballots_are_counted(app, client, make_cycle, make_proposal, make_user, api_token):
    from prometheus_client import REGISTRY

    cycle_id = make_cycle(phase="voting")
    proposal = make_proposal(cycle_id)
    _, iin = make_user()
    before = REGISTRY.get_sample_value("qatysu_ballots_cast_total") or 0
    response = client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal]},
                          headers=api_token(iin))
    assert response.status_code == 200, response.get_json()
    assert REGISTRY.get_sample_value("qatysu_ballots_cast_total") == before + 1


def test_request_id_is_echoed_or_made(client):
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123.DEF_4"})
    assert given.headers["X-Request-ID"] == "abc-123.DEF_4"
    made = client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) == 32
    assert made.headers["X-Request-ID"] != client.get("/healthz").headers["X-Request-ID"]
    odd = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert odd.headers["X-Request-ID"] != "<script>"
    iin_like = client.get("/healthz", headers={"X-Request-ID": "900517300123"})
    assert "900517300123" not in iin_like.headers["X-Request-ID"]


def test_one_json_line_per_request(client, log_lines):
    client.get("/en/about", headers={"X-Request-ID": "req-42"})
    lines = [line for line in log_lines() if line.get("logger") == "qatysu.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "req-42" and line["method"] == "GET" and line["path"] == "/en/about"
    assert line["status"] == 200 and line["endpoint"] == "main.about" and line["level"] == "INFO"
    assert isinstance(line["duration_ms"], float) and line["time"].endswith("+00:00")


def test_no_iin_in_any_log_line(client, log_lines):
    iin = "900517300123"
    client.get(f"/en/cycles/{iin}")  # an IIN pasted into a URL: 404, and the path is masked
    logging.getLogger("qatysu.test").warning("login failed for %s", iin)
    try:
        raise ValueError(f"bad iin {iin}")
    except ValueError:
        logging.getLogger("qatysu.test").exception("boom")
    text = json.dumps(log_lines())
    assert iin not in text
    assert text.count("[IIN]") >= 3


@pytest.mark.parametrize("text, masked", [
    ("iin=900517300123&x=1", "iin=[IIN]&x=1"),
    ("900517300123", "[IIN]"),
    ("phone 87011234567 (11 digits) stays", "phone 87011234567 (11 digits) stays"),
    ("card 1234567890123456 (16 digits) stays", "card 1234567890123456 (16 digits) stays"),
    ("receipt K7QX-3M9P-WT2R-8HZA stays", "receipt K7QX-3M9P-WT2R-8HZA stays"),
])
def test_mask_iins(text, masked):
    assert mask_iins(text) == masked


def test_the_job_queue_is_checked_by_readyz_of_its_own_app_only(make_app, client):
    # An app whose queue's Redis is down names it; another app (no queue) is not affected.
    queued = make_app(JOBS_REDIS_URL="redis://127.0.0.1:1/0").test_client()
    response = queued.get("/readyz")
    assert response.status_code == 503 and response.get_json()["failed"] == ["queue:qatysu"]
    metrics = queued.get("/metrics").get_data(as_text=True)
    assert 'qatysu_queue_length{queue="qatysu"} NaN' in metrics
    assert client.get("/readyz").status_code == 200
