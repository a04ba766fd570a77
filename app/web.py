"""Glue between domain errors and pages: translated messages on the right form fields."""
from flask import flash

from app.i18n import translate


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
