"""Confirming a phone number with a one-time code sent by SMS: the `phone` identity level.

A code is 6 random digits, stored only as an HMAC under a server key together with the account
and the number (a leaked table gives nothing to try elsewhere, and a million codes are not
worth hashing offline without the key). It lives CODE_TTL, allows MAX_ATTEMPTS wrong tries
(each try is reserved by one UPDATE, so parallel guesses cannot exceed them), and a newer code
kills the older ones. How often codes are sent is limited by the web layer (app/phone_codes.py).

A confirmed number confirms one account: the same SIM cannot lift a farm of accounts to
`phone` (the unique constraint on User.confirmed_phone backs the check). Confirming raises the
account's level to `phone`, never lowers `eds`.
"""
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update

from app.domain.assurance import rank
from app.domain.errors import N_, Conflict, DomainError, FieldErrors, Np_
from app.extensions import db
from app.models import Assurance, PhoneCode, User

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
CODE_DIGITS = 6
_PHONE_RE = re.compile(r"^\+?[0-9]{10,15}$")
_TYPED = re.compile(r"[\s\-().\u00a0]")


class WrongCode(DomainError):
    """A wrong code: the try is counted, so the caller commits before showing this."""

    status = 422


def normalise_phone(raw):
    """'+7 (701) 123-45-67' → '+77011234567'; a Kazakh 8-prefixed number gets +7."""
    phone = _TYPED.sub("", raw or "")
    if re.fullmatch(r"8[0-9]{10}", phone):
        phone = "+7" + phone[1:]
    elif re.fullmatch(r"7[0-9]{10}", phone):
        phone = "+" + phone
    return phone


def check_phone(errors, raw, field="phone"):
    """The normalised number, or None with the field's error added to `errors`."""
    phone = normalise_phone(raw)
    if not _PHONE_RE.match(phone):
        errors.add(field, N_("Enter the phone number with its country code, e.g. +77011234567."))
        return None
    return phone


def _digest(user_id, phone, code, key):
    message = f"{user_id}:{phone}:{code}".encode()
    return hmac.new(key.encode() if isinstance(key, str) else key, message, hashlib.sha256).hexdigest()


def new_code():
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def start_confirmation(user, raw_phone, key, now=None):
    """Create a code for `user` to confirm `raw_phone`; returns (phone, code) for the caller to
    send. Raises ValidationFailed for a malformed number. Older codes of the account die."""
    now = now or datetime.now(timezone.utc)
    errors = FieldErrors()
    phone = check_phone(errors, raw_phone)
    errors.raise_if_any()
    db.session.execute(delete(PhoneCode).where(PhoneCode.user_id == user.id)
                       .execution_options(synchronize_session=False))
    code = new_code()
    db.session.add(PhoneCode(user_id=user.id, phone=phone, code_hash=_digest(user.id, phone, code, key),
                             created_at=now, expires_at=now + CODE_TTL))
    db.session.flush()
    return phone, code


def pending(user, now=None):
    """The account's live code (its number, for the page to show), or None."""
    now = now or datetime.now(timezone.utc)
    return db.session.scalar(select(PhoneCode).where(
        PhoneCode.user_id == user.id, PhoneCode.used_at.is_(None), PhoneCode.expires_at > now,
        PhoneCode.attempts < MAX_ATTEMPTS).order_by(PhoneCode.id.desc()).limit(1)
        .execution_options(populate_existing=True))


def _expired(counted=False):
    kind = WrongCode if counted else DomainError
    return kind("phone_code_expired", N_("This code has expired or was tried too many times. "
                                         "Ask for a new code."), field="code")


def confirm(user, code, key, now=None):
    """Check `code` against the account's live code; on success the number is confirmed and the
    account is at least `phone`. WrongCode (the try is counted) or 422 `phone_code_expired`."""
    now = now or datetime.now(timezone.utc)
    row = pending(user, now)
    if row is None:
        raise _expired()
    # Reserve one try first: parallel requests cannot exceed MAX_ATTEMPTS between them.
    reserved = db.session.execute(
        update(PhoneCode).where(PhoneCode.id == row.id, PhoneCode.attempts < MAX_ATTEMPTS,
                                PhoneCode.used_at.is_(None))
        .values(attempts=PhoneCode.attempts + 1).execution_options(synchronize_session=False))
    if reserved.rowcount != 1:
        raise _expired()
    typed = re.sub(r"\s", "", code or "")
    if not hmac.compare_digest(_digest(user.id, row.phone, typed, key), row.code_hash):
        left = MAX_ATTEMPTS - row.attempts - 1
        if left <= 0:
            raise _expired(counted=True)
        raise WrongCode("phone_code_wrong", Np_("The code is incorrect. You have %(n)s more try.",
                                                "The code is incorrect. You have %(n)s more tries."),
                        field="code", n=left)
    taken = db.session.scalar(select(User.id).where(User.confirmed_phone == row.phone, User.id != user.id))
    if taken is not None:
        raise Conflict("phone_taken", N_("This phone number already confirms another account. One "
                                         "number confirms one account; use your own number."), field="phone")
    db.session.execute(update(PhoneCode).where(PhoneCode.id == row.id).values(used_at=now)
                       .execution_options(synchronize_session=False))
    user.phone = row.phone
    user.confirmed_phone = row.phone
    if rank(user.assurance) < rank(Assurance.PHONE.value):
        user.assurance = Assurance.PHONE.value
    db.session.flush()
    return user


def is_confirmed(user):
    return bool(user.confirmed_phone) and user.confirmed_phone == user.phone
