"""Errors the domain raises, carrying a stable code and an untranslated message.

Messages are marked with N_() for extraction and translated where they are shown (pages and
API), so the domain stays free of Flask while every error reaches the user in their language.
"""


def N_(message):
    """Mark a message for the catalogue; translation happens in the web layer."""
    return message


def Np_(singular, plural):
    """Mark a message with a count (params must include n): translated with ngettext."""
    return (singular, plural)


def english(message, params=None):
    """The source (English) text of a marked message, for logs and the operator CLI."""
    params = params or {}
    if isinstance(message, tuple):
        message = message[0] if params.get("n") == 1 else message[1]
    return message % params if params else message


class DomainError(Exception):
    status = 422

    def __init__(self, code, message, field=None, **params):
        super().__init__(english(message, params))
        self.code = code
        self.message = message
        self.field = field
        self.params = params
        # {field: [(message, params), ...]} for validation that reports several fields at once.
        self.fields = {field: [(message, params)]} if field else {}


class ValidationFailed(DomainError):
    status = 422

    def __init__(self, fields, code="validation_failed", message=None):
        super().__init__(code, message or N_("Please correct the highlighted fields."))
        self.fields = fields


class NotAllowed(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """A state conflict: wrong phase, already exists, already final."""

    status = 409


class Throttled(DomainError):
    status = 429

    def __init__(self, retry_after, code="rate_limited", message=None):
        super().__init__(code, message or N_("Too many attempts. Please try again later."))
        self.retry_after = max(1, int(retry_after))


class Unavailable(DomainError):
    """A service the request needs (the rate-limit store, the database) is down for now."""

    status = 503

    def __init__(self, retry_after=30, code="unavailable", message=None):
        super().__init__(code, message or N_("The service is temporarily unavailable. Please try "
                                             "again in a few minutes."))
        self.retry_after = max(1, int(retry_after))


class FieldErrors:
    """Collects field errors, then raises them together: a form shows every problem at once."""

    def __init__(self):
        self.fields = {}

    def add(self, field, message, **params):
        self.fields.setdefault(field, []).append((message, params))

    def raise_if_any(self, code="validation_failed"):
        if self.fields:
            raise ValidationFailed(self.fields, code=code)
