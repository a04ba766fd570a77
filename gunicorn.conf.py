"""gunicorn settings for Qatysu: `gunicorn -c gunicorn.conf.py wsgi:app` (gunicorn also reads
./gunicorn.conf.py by itself when started from the project root). Flags given on the command
line override these. Environment: WEB_CONCURRENCY (workers), GUNICORN_BIND, GUNICORN_TIMEOUT,
PROMETHEUS_MULTIPROC_DIR.

Prometheus: with several worker processes each keeps its own counters, so prometheus-client's
multiprocess mode writes them to files in PROMETHEUS_MULTIPROC_DIR and /metrics adds them up.
The directory must be set before the app is imported (here, in the master), emptied at start
(stale files from a previous run would be counted again), and a dead worker's files are
marked so that its gauges go (its counters stay in the totals, as they should).
"""
import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# The app writes one JSON line per request (app/observability.py): no second access log.
accesslog = None

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="qatysu-prometheus-")


def on_starting(server):
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
