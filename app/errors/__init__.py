"""Error pages and JSON error envelopes: translated, never a stack trace."""
import logging

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.domain.errors import DomainError
from app.extensions import db

bp = Blueprint("errors", __name__)
log = logging.getLogger("qatysu")

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "too_large",
                422: "validation_failed", 429: "rate_limited", 500: "server_error"}


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

    @app.errorhandler(Exception)
    def unexpected_error(error):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500)
