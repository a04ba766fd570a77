"""Error pages and JSON error envelopes: translated, never a stack trace."""
import logging
import traceback

import psycopg
import sqlalchemy.exc
from flask import Blueprint, g, jsonify, render_template, request
from flask_babel import gettext as _
from limits.errors import StorageError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from app.domain.errors import DomainError, Unavailable
from app.extensions import db, login_manager

bp = Blueprint("errors", __name__)
log = logging.getLogger("qatysu")

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "too_large",
                422: "validation_failed", 429: "rate_limited", 500: "server_error",
                503: "unavailable"}
# Outages of what a request depends on: 503 with Retry-After (a client may retry), never 500.
OUTAGES = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
           sqlalchemy.exc.TimeoutError, psycopg.OperationalError, psycopg.InterfaceError,
           StorageError, RedisError)
OUTAGE_RETRY_AFTER = 30


def status_messages():
    return {
        400: _("The request could not be understood."),
        401: _("Please log in to continue."),
        403: _("You do not have permission to do this."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        409: _("This cannot be done in the current state."),
        413: _("The upload is too large."),
        422: _("Please correct the highlighted fields."),
        429: _("Too many attempts. Please try again later."),
        500: _("Something went wrong on our side. Please try again later."),
        503: _("The service is temporarily unavailable. Please try again in a few minutes."),
    }


def wants_json():
    return request.path.startswith("/api/")


def error_response(status, code=None, message=None, fields=None, headers=None):
    message = message or status_messages().get(status, status_messages()[500])
    if wants_json():
        body = {"error": {"code": code or STATUS_CODES.get(status, "error"), "message": message}}
        if fields:
            body["error"]["fields"] = fields
        response = jsonify(body)
    else:
        response = render_template("errors/error.html", status=status, message=message)
    return response, status, headers or {}


def register_error_handlers(app):
    @app.errorhandler(HTTPException)
    def http_error(error):
        headers = {}
        if error.code == 429:
            retry = getattr(error, "retry_after", None) or 60
            headers["Retry-After"] = str(int(retry))
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        if error.code == 400 and getattr(error, "description", "").startswith("The CSRF"):
            return error_response(400, "csrf_failed",
                                  _("The form has expired. Please go back, reload the page and try again."))
        return error_response(error.code or 500, headers=headers)

    @app.errorhandler(DomainError)
    def domain_error(error):
        """A refusal the domain explains (wrong phase, not a resident, no such record): its
        translated message on a page with its status; the API has its own envelope handler."""
        from app.web import error_page

        return error_page(error)

    @app.errorhandler(Unavailable)
    def unavailable(error):
        return _outage_response(error.retry_after)

    def outage(error):
        # The class only: a database error's text can carry the statement and its parameters.
        log.error("outage on %s %s: %s.%s", request.method, request.path,
                  type(error).__module__, type(error).__name__)
        return _outage_response(OUTAGE_RETRY_AFTER)

    for kind in OUTAGES:
        app.register_error_handler(kind, outage)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        _rollback()
        if isinstance(error, sqlalchemy.exc.StatementError):
            # The driver's message can quote values ("Key (email)=(...) already exists"): log
            # the statement (parameters are hidden by the engine), the SQLSTATE and the frames.
            orig = getattr(error, "orig", None)
            log.error("database error on %s %s: %s (SQLSTATE %s) in %s\n%s", request.method,
                      request.path, type(orig or error).__name__, getattr(orig, "sqlstate", None),
                      error.statement, "".join(traceback.format_tb(error.__traceback__)))
        else:
            log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500)


def _rollback():
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the session is discarded at teardown anyway
        log.warning("rollback failed after an error", exc_info=False)


def _outage_response(retry_after):
    _rollback()
    # The page's header asks who is logged in: with the database down, that question must not
    # be asked again (it would fail inside this handler): render for an anonymous visitor.
    g._login_user = login_manager.anonymous_user()
    return error_response(503, headers={"Retry-After": str(int(retry_after))})
