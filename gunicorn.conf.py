"""gunicorn settings for Qatysu (`gunicorn -c gunicorn.conf.py wsgi:app`; gunicorn also reads
this file by itself when started from the project root). Command-line flags override it."""
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
