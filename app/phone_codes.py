"""Confirming a phone by SMS, shared by the profile page and the API: the send limits, the
message in the account's language, and a wrong try that is counted even though it fails."""
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app import sms
from app.domain import phone
from app.domain.iin import iin_digest
from app.extensions import db
from app.security import Throttle

codes_by_account = Throttle("SMS_CODES_PER_ACCOUNT", "sms-account")
codes_by_phone = Throttle("SMS_CODES_PER_PHONE", "sms-phone")
codes_overall = Throttle("SMS_CODES_OVERALL", "sms-all")


def _key():
    return current_app.config["SECRET_KEY"]


def send_code(user, raw_phone):
    """Create a code for `raw_phone` and text it, under the limits (429 with Retry-After);
    503 `sms_unavailable` when the site has no SMS gateway. Commits. Returns the number."""
    if not sms.available():
        raise sms.SmsUnavailable()
    number, code = phone.start_confirmation(user, raw_phone, _key())
    # The number is counted by its keyed digest: the limiter's storage never holds numbers.
    by_phone = iin_digest(number, _key())
    codes_by_account.check(str(user.id))
    codes_by_phone.check(by_phone)
    codes_overall.check("all")
    for throttle, key in ((codes_by_account, str(user.id)), (codes_by_phone, by_phone), (codes_overall, "all")):
        throttle.hit(key)
    with force_locale(user.locale or "kk"):
        text = _("Qatysu code: %(code)s. It confirms this phone for your account; it works for "
                 "10 minutes. Do not tell it to anyone.", code=code)
    db.session.commit()  # the code exists before anyone can receive it
    sms.send_sms(number, text)
    return number


def count_message(number):
    """Count one other message to `number` (a reset link) under the per-number and overall
    limits; raises Throttled when they are used up."""
    by_phone = iin_digest(number, _key())
    codes_by_phone.check(by_phone)
    codes_overall.check("all")
    codes_by_phone.hit(by_phone)
    codes_overall.hit("all")


def confirm_code(user, code):
    """Confirm the account's pending number (commits); a wrong try is committed, then raised."""
    try:
        phone.confirm(user, code, _key())
    except phone.WrongCode:
        db.session.commit()
        raise
    db.session.commit()
    return user
