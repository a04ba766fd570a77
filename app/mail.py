"""Outgoing email through Flask-Mail, delivered by a background job (app/jobs.py) (MAIL_BACKEND=smtp, required in production); in development
a console backend logs messages instead (addresses and bodies only with MAIL_LOG_CONTENT, which
DevelopmentConfig sets), and in tests a memory backend keeps them in `app.extensions['outbox']`."""
import logging

from flask import current_app
from flask_mail import Mail, Message

mail = Mail()
log = logging.getLogger("qatysu.mail")


def init_mail(app):
    mail.init_app(app)
    app.extensions["outbox"] = []


def send_mail(to, subject, body):
    """Send one message as a background job (app/jobs.py: RQ with retries, or inline without
    Redis). Never raises for the mail server's sake: a user's action does not fail with it."""
    if not to:
        return False
    from app.jobs import send_mail_later

    return send_mail_later(to, subject, body)


def deliver(to, subject, body):
    """Hand one message to the backend now (the mail job); raises when the server fails."""
    backend = current_app.config["MAIL_BACKEND"]
    message = Message(subject=subject, recipients=[to], body=body)
    if backend == "memory":
        current_app.extensions["outbox"].append(message)
    elif backend == "console":
        if current_app.config.get("MAIL_LOG_CONTENT"):
            log.info("mail to %s: %s\n%s", to, subject, body)
        else:  # outside development the log never holds addresses or bodies
            log.info("mail not sent (console backend): one message")
    elif backend == "smtp":
        mail.send(message)
    else:
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")
    return True
