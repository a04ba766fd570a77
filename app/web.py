"""Glue between domain errors and pages: translated messages on the right form fields; the
site's public address for links that leave the page (mail, feeds, printed protocols)."""
from flask import current_app, flash

from app.i18n import translate


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
        flash(translate(error.message, error.params), "error")
    elif placed and error.fields and error.message and error.code == "validation_failed":
        flash(translate(error.message, error.params), "error")


class domain_action:
    """Run one domain call and commit, the shape of every form view:

        with domain_action(form) as outcome:
            proposals.submit_proposal(...)
        if outcome.failed:
            status = outcome.status

    A DomainError (raised by the call or by the commit, e.g. the publication freeze) rolls the
    session back and puts its translated messages on the form's fields."""

    def __init__(self, form=None):
        self.form = form
        self.failed = False
        self.status = 200

    def __enter__(self):
        return self

    def __exit__(self, exc_type, error, traceback):
        from app.domain.errors import DomainError
        from app.extensions import db

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
        self.failed, self.status = True, error.status
        return True
