"""Registration against account farming: limits per client address and over the whole site,
and a page answer that is the same whether or not the IIN already had an account."""
from flask import current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _

from app import sms
from app.domain import accounts
from app.domain.errors import Conflict
from app.mail import send_mail
from app.security import Throttle

registrations_by_address = Throttle("REGISTRATIONS_PER_ADDRESS", "register-addr")
registrations_overall = Throttle("REGISTRATIONS_OVERALL", "register-all")
resets_by_address = Throttle("PASSWORD_RESETS_PER_ADDRESS", "reset-addr")


def throttle():
    """Count one registration attempt; 429 with Retry-After once a limit is used up."""
    address = request.remote_addr or "-"
    registrations_by_address.check(address)
    registrations_overall.check("all")
    registrations_by_address.hit(address)
    registrations_overall.hit("all")


def throttle_resets():
    address = request.remote_addr or "-"
    resets_by_address.check(address)
    resets_by_address.hit(address)


def register_quietly(**values):
    """Register; when the IIN already has an account, tell its holder (email, SMS) instead of
    the visitor. Returns the new user or None: the page answers the same either way."""
    try:
        return accounts.register_resident(iin_key=current_app.config["IIN_HMAC_KEY"], **values)
    except Conflict as error:
        if error.code != "iin_taken":
            raise
    accounts.hash_password(values.get("password") or "x")  # the same work as a registration
    holder = accounts.find_user_by_iin(values["iin"], current_app.config["IIN_HMAC_KEY"])
    if holder is not None:
        tell_holder(holder)
    return None


def tell_holder(holder):
    """By email and by SMS (the confirmed number, else the one given), whichever the account has (both if both)."""
    with force_locale(holder.locale or "kk"):
        if holder.email:
            send_mail(holder.email, _("Someone tried to register with your IIN"), _(
                "Someone tried to create a Qatysu account with your IIN, which already has an "
                "account. If it was you, log in or reset your password. If not, no action is "
                "needed: nothing was changed."))
        text = _("Qatysu: someone tried to register with your IIN, which already has an account. "
                 "If it was not you, no action is needed.")
    number = holder.confirmed_phone or holder.phone
    if number and sms.available():
        try:
            sms.send_sms(number, text)
        except sms.SmsUnavailable:
            pass  # the page's answer must not change with the gateway's state
