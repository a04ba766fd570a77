"""Outgoing email through Flask-Mail; in development a console backend prints messages instead,
and in tests a memory backend keeps them in `app.extensions['outbox']`."""
import logging

from flask import current_app
from flask_mail import Mail, Message

mail = Mail()
log = logging.getLogger("qatysu.mail")


def init_mail(app):
    mail.init_app(app)
    app.extensions["outbox"] = []


def send_mail(to, subject, body):
    if not to:
        return False
    backend = current_app.config["MAIL_BACKEND"]
    message = Message(subject=subject, recipients=[to], body=body)
    if backend == "memory":
        current_app.extensions["outbox"].append(message)
    elif backend == "console":
        log.info("mail to %s: %s\n%s", to, subject, body)
    else:
        mail.send(message)
    return True
