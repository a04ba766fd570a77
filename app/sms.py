"""Outgoing SMS through a pluggable gateway, chosen by the SMS_GATEWAY setting.

A gateway is any object with `send(to, text)`: `console` (development: the message is logged
and kept in the dev outbox, `app.extensions['sms_outbox']`), `memory` (tests: kept in that outbox
only), `disabled` (production's default until an operator configures a provider: phone
confirmation answers 503 `sms_unavailable`), or `package.module:ClassName` for a provider's
adapter, built once per app as ClassName(app.config). Production refuses `console` and `memory`.
"""
import importlib
import logging

from flask import current_app

from app.domain.errors import N_, Unavailable

log = logging.getLogger("qatysu.sms")


class SmsUnavailable(Unavailable):
    def __init__(self):
        super().__init__(retry_after=3600, code="sms_unavailable", message=N_(
            "Text messages (SMS) cannot be sent from this site yet. Please try again later."))


class MemoryGateway:
    """Keeps every message in the dev outbox; sends nothing."""

    available = True

    def __init__(self, config=None):
        pass

    def send(self, to, text):
        current_app.extensions.setdefault("sms_outbox", []).append({"to": to, "text": text})


class ConsoleGateway(MemoryGateway):
    """Development: a developer reads the code in the server's log (or the dev outbox)."""

    def send(self, to, text):
        super().send(to, text)
        log.info("SMS to %s: %s", to, text)


class DisabledGateway:
    available = False

    def __init__(self, config=None):
        pass

    def send(self, to, text):
        raise SmsUnavailable()


GATEWAYS = {"console": ConsoleGateway, "memory": MemoryGateway, "disabled": DisabledGateway}


def load_gateway_class(name):
    """The class SMS_GATEWAY names: a built-in, or `package.module:ClassName`."""
    if name in GATEWAYS:
        return GATEWAYS[name]
    module, sep, attribute = (name or "").partition(":")
    if not sep:
        raise RuntimeError(f"SMS_GATEWAY must be one of {', '.join(GATEWAYS)} or module:Class, not {name!r}")
    return getattr(importlib.import_module(module), attribute)


def init_sms(app):
    app.extensions["sms_outbox"] = []
    app.extensions["sms_gateway"] = load_gateway_class(app.config["SMS_GATEWAY"])(app.config)


def gateway():
    return current_app.extensions["sms_gateway"]


def available():
    return getattr(gateway(), "available", True)


def send_sms(to, text):
    """Send `text` to the number `to`; False when there is no number. Raises SmsUnavailable."""
    if not to:
        return False
    gateway().send(to, text)
    return True
