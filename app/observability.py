"""Operations: request ids, one JSON log line per request, IINs masked in every log line, and
Prometheus metrics (prometheus-client; gunicorn's workers share them through its multiprocess
mode, set up in gunicorn.conf.py).

The request layer is WSGI, outside Flask, so it also sees answers that never reach Flask (the
published results served from the cache by app.results_cache)."""
import json
import logging
import os
import re
import secrets
import sys
import time
from contextvars import ContextVar
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

request_id_var = ContextVar("request_id", default=None)
log = logging.getLogger("qatysu.request")

# --- IINs never reach a log ---------------------------------------------------------------------

IIN_PATTERN = re.compile(r"(?<!\d)\d{12}(?!\d)")
IIN_MASK = "[IIN]"


def mask_iins(text):
    """Every run of exactly 12 digits (what an IIN looks like) replaced by [IIN]."""
    return IIN_PATTERN.sub(IIN_MASK, text) if isinstance(text, str) else text


class IinMaskFilter(logging.Filter):
    """On a handler: the message (after its arguments are put in), the exception text and the
    request path of every record are masked. A false positive (some other 12-digit number) is
    the price of never logging an IIN."""

    def filter(self, record):
        message = record.getMessage()
        masked = mask_iins(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_iins(record.exc_text)
        for name in ("path",):
            if hasattr(record, name):
                setattr(record, name, mask_iins(getattr(record, name)))
        return True


REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "endpoint")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id, and the request's
    fields when the record is the request line."""

    def format(self, record):
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for name in REQUEST_FIELDS[1:]:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_text or record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level="INFO", stream=None):
    """JSON lines on stderr for the root logger, IINs masked (idempotent: one handler)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "qatysu", False):
            break
    else:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.qatysu = True
        handler.setFormatter(JsonFormatter())
        handler.addFilter(IinMaskFilter())
        root.addHandler(handler)
    root.setLevel(level)
    return handler


# --- metrics -------------------------------------------------------------------------------------

REQUESTS = Counter("qatysu_http_requests", "HTTP requests answered, by endpoint, method and status",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("qatysu_http_request_duration_seconds", "Time to answer a request, by endpoint",
                    ["endpoint"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
BALLOTS = Counter("qatysu_ballots_cast", "Ballots cast or replaced (pages and API)")
CACHE_HITS = Counter("qatysu_results_cache_hits", "Published results served from the shared cache",
                     ["kind"])
# Queue length hooks: name -> callable returning the number of waiting jobs. Until a job queue
# exists the "default" queue reports 0; the queue's module registers its own hook.
QUEUE_LENGTH = {"default": lambda: 0}


# Readiness checks beyond the database and Redis (/readyz): name -> callable raising when down.
READINESS_CHECKS = {}


def register_queue(app, name, length, ready=None):
    """A job queue's length for /metrics and, optionally, its check for /readyz: per app, so an
    app with another queue (a test's) never answers for this one."""
    app.extensions.setdefault("qatysu.queue_lengths", {})[name] = length
    if ready is not None:
        app.extensions.setdefault("qatysu.readiness_checks", {})[f"queue:{name}"] = ready


def queue_lengths():
    """The current app's queue-length hooks (QUEUE_LENGTH until a queue is registered)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.extensions.get("qatysu.queue_lengths") or QUEUE_LENGTH
    return QUEUE_LENGTH


def readiness_checks():
    """Checks beyond the database and Redis: the process-wide ones, then the current app's."""
    from flask import current_app

    return {**READINESS_CHECKS, **current_app.extensions.get("qatysu.readiness_checks", {})}


def ballot_cast():
    BALLOTS.inc()


class QueueCollector:
    """Queue lengths, asked at scrape time by the worker that answers /metrics."""

    def collect(self):
        family = GaugeMetricFamily("qatysu_queue_length", "Jobs waiting in the queue", labels=["queue"])
        for name, length in sorted(queue_lengths().items()):
            try:
                family.add_metric([name], float(length()))
            except Exception:  # an unreachable queue is for /readyz to report, not a failed scrape
                family.add_metric([name], float("nan"))
        yield family


def metrics_text():
    """The exposition text: every worker's counters (multiprocess mode) or this process's."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    text = generate_latest(registry)
    queue_registry = CollectorRegistry()
    queue_registry.register(QueueCollector())
    return text + generate_latest(queue_registry)


# --- the request layer -----------------------------------------------------------------------------

REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_from(environ):
    """The caller's X-Request-ID when it is a plain token (masked if it looks like an IIN), else new."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    if REQUEST_ID_SHAPE.fullmatch(given) and not IIN_PATTERN.search(given):
        return given
    return secrets.token_hex(16)


class RequestLayer:
    """Outermost WSGI layer: request id in and out, the request log line and the metrics."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        request_id = request_id_from(environ)
        environ["qatysu.request_id"] = request_id
        token = request_id_var.set(request_id)
        seen = {}

        def start(status, headers, exc_info=None):
            seen["status"] = status
            headers.append(("X-Request-ID", request_id))
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, start)
        finally:
            self._record(environ, seen.get("status", "500"), time.perf_counter() - started, request_id)
            request_id_var.reset(token)

    @staticmethod
    def _record(environ, status, duration, request_id):
        code = int(status.split(" ", 1)[0])
        endpoint = environ.get("qatysu.endpoint") or "unmatched"
        method = environ.get("REQUEST_METHOD", "")
        REQUESTS.labels(endpoint, method, str(code)).inc()
        LATENCY.labels(endpoint).observe(duration)
        if endpoint.startswith("results_cache."):
            CACHE_HITS.labels(endpoint.split(".", 1)[1]).inc()
        if log.isEnabledFor(logging.INFO):
            log.info("request", extra={"request_id": request_id, "method": method,
                                       "path": environ.get("PATH_INFO", ""), "status": code,
                                       "duration_ms": round(duration * 1000, 2), "endpoint": endpoint})


def init_app(app):
    """Wrap the app (outermost) and note each request's endpoint for the metrics."""
    from flask import request

    def note_endpoint():
        request.environ["qatysu.endpoint"] = request.endpoint or "unmatched"

    app.before_request_funcs.setdefault(None, []).insert(0, note_endpoint)  # before any refusal
    if not app.testing:
        if app.config["LOG_FORMAT"] == "json":
            configure_logging(app.config["LOG_LEVEL"])
        else:
            logging.basicConfig(level=app.config["LOG_LEVEL"])
    app.wsgi_app = RequestLayer(app.wsgi_app)
