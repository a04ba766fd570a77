"""/healthz: the process answers (no I/O). /readyz: the database, Redis when configured, and any
registered check (a job queue) answer; 503 naming what failed. /metrics: Prometheus, for the
addresses in METRICS_ALLOWED_IPS or a request bearing METRICS_TOKEN. None is rate-limited."""
import hmac
import ipaddress

from flask import current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from app import observability
from app.extensions import db, limiter
from app.ops import bp

NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok"), 200, NO_STORE


def _check_database():
    db.session.execute(text("SELECT 1"))


def _check_redis():
    client = current_app.extensions.get("qatysu.readyz_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=1,
                                      socket_timeout=1)
        current_app.extensions["qatysu.readyz_redis"] = client
    client.ping()


@bp.get("/readyz")
def readyz():
    checks = {"database": _check_database}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _check_redis
    checks.update(observability.readiness_checks())
    results, failed = {}, []
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as error:  # each failure is named in the answer, never raised
            results[name] = f"failed: {type(error).__name__}"
            failed.append(name)
            if name == "database":
                db.session.rollback()
    if failed:
        current_app.logger.warning("not ready: %s", ", ".join(failed))
        return jsonify(status="unavailable", failed=failed, checks=results), 503, NO_STORE
    return jsonify(status="ok", checks=results), 200, NO_STORE


def _metrics_allowed():
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    for network in (current_app.config.get("METRICS_ALLOWED_IPS") or "").split(","):
        network = network.strip()
        if network and address in ipaddress.ip_network(network, strict=False):
            return True
    return False


@bp.get("/metrics")
def metrics():
    if not _metrics_allowed():
        return jsonify(error={"code": "forbidden", "message": "Metrics are not public."}), 403, NO_STORE
    return observability.metrics_text(), 200, {"Content-Type": CONTENT_TYPE_LATEST, **NO_STORE}


limiter.exempt(bp)
