"""Glue between the domain and pages: ids in URLs, domain errors on forms and pages, the one
shape of every form view, and the site's public address for links that leave the page (mail,
feeds, printed protocols)."""
from flask import current_app, flash, redirect, render_template, request
from flask_babel import gettext as _
from werkzeug.routing import BaseConverter

from app.domain.errors import DomainError, Throttled
from app.domain.records import MAX_ID
from app.extensions import db
from app.i18n import translate


class IdConverter(BaseConverter):
    """`<id:cycle_id>`: a record id in a URL. Any digits match; a value beyond the columns'
    range (2³¹−1) reaches the view as 0, which no record has, so the view answers its ordinary 404
    and no query ever carries an id the database would refuse. (Refusing such values in the
    converter instead would make Werkzeug answer 405 where a neighbouring rule takes another
    method.)"""

    regex = r"\d+"
    weight = 50
    part_isolating = True

    def to_python(self, value):
        number = int(value)
        return number if number <= MAX_ID else 0

    def to_url(self, value):
        return str(int(value))


def explain(error):
    """A domain error's message in the page's language."""
    return translate(error.message, error.params) if error is not None else ""


def public_url(path=""):
    """An absolute link on this site, from configuration (PUBLIC_URL, else SERVER_NAME).

    Never from the request's Host header: a forged Host would otherwise put an attacker's
    site into mails and into feeds and pages that caches keep and serve to others."""
    config = current_app.config
    base = config.get("PUBLIC_URL")
    if not base and config.get("SERVER_NAME"):
        base = f"{config['PREFERRED_URL_SCHEME']}://{config['SERVER_NAME']}"
    return (base or DEFAULT_PUBLIC_URL).rstrip("/") + path


DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def show_domain_error(form, error):
    """Attach a DomainError's messages to the form's fields (or flash what has no field)."""
    placed = False
    if error.fields and not any(getattr(form, name, None) is not None for name in error.fields):
        flash(explain(error), "error")  # the fields name records (e.g. proposals): say why first
    for name, messages in (error.fields or {}).items():
        field = getattr(form, name, None) if form is not None else None
        for message, params in messages:
            text = translate(message, params)
            if field is not None:
                field.errors = list(field.errors or []) + [text]
                placed = True
            else:
                flash(text, "error")
    if not placed and not error.fields:
        flash(explain(error), "error")
    elif placed and error.fields and error.message and error.code == "validation_failed":
        flash(explain(error), "error")


def error_page(error):
    """The page for a domain refusal (not a resident, wrong phase, no such record…)."""
    db.session.rollback()
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else {}
    return render_template("errors/error.html", status=error.status,
                           message=explain(error)), error.status, headers


class domain_action:
    """Run one domain call and commit:

        with domain_action(form) as outcome:
            proposals.submit_proposal(...)
        if outcome.failed:
            status = outcome.status

    A DomainError (raised by the call or by the commit, e.g. the publication freeze) rolls the
    session back and puts its translated messages on the form's fields (or flashes them)."""

    def __init__(self, form=None):
        self.form = form
        self.failed = False
        self.status = 200
        self.error = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, error, traceback):
        if error is None:
            try:
                db.session.commit()
                return False
            except DomainError as commit_error:
                error = commit_error
        elif not isinstance(error, DomainError):
            return False
        db.session.rollback()
        show_domain_error(self.form, error)
        self.failed, self.status, self.error = True, error.status, error
        return True


def submit(form, action, success, next_url):
    """The tail of every form view: validate → one domain call → commit → flash → redirect.

    `action()` makes the domain call; `next_url(result)` says where to go after it succeeded.
    Returns (redirect response, None) on success, else (None, the status to re-render the form
    with: 200 for a first GET, 400 for a form that did not validate, the domain error's status)."""
    if not form.validate_on_submit():
        return None, (400 if request.method == "POST" else 200)
    with domain_action(form) as outcome:
        result = action()
    if outcome.failed:
        return None, outcome.status
    if success:
        flash(success, "success")
    return redirect(next_url(result)), None


def post_action(action, success, next_url, form=None):
    """A button that posts one domain call (withdraw, publish the protocol…): commit, flash,
    and go back to `next_url` either way (the domain's refusal is flashed)."""
    if form is not None and not form.validate_on_submit():
        flash(_("The form has expired. Please go back, reload the page and try again."), "error")
        return redirect(next_url)
    with domain_action(form) as outcome:
        action()
    if not outcome.failed and success:
        flash(success, "success")
    return redirect(next_url)
