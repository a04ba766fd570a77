"""Outgoing email, delivered by a background job (app/jobs.py) through Flask-Mail
(MAIL_BACKEND=smtp, required in production); in development
a console backend logs messages instead (addresses and bodies only with MAIL_LOG_CONTENT, which
DevelopmentConfig sets), and in tests a memory backend keeps them in `app.extensions['outbox']`."""
import logging

from flask import current_app
from flask_mail import Mail, Message

from app.jobs import enqueue, is_inline, job_context

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
    if not is_inline():
        try:
            enqueue("mail", mail_job, to, subject, body, description="mail")
            return True
        except Exception as error:  # noqa: BLE001  (Redis down: deliver now rather than lose it)
            log.error("mail could not be queued (%s): delivering it now", type(error).__name__)
    try:
        deliver(to, subject, body)
    except Exception as error:  # noqa: BLE001  (the action stands; the failure is logged)
        log.error("mail delivery failed (%s); not retried without a queue", type(error).__name__)
    return True


def mail_job(to, subject, body):
    """The job: deliver one message. Raises when the mail server fails, so RQ retries it."""
    with job_context():
        deliver(to, subject, body)


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
