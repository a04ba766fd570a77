"""The staff's second factor: a TOTP authenticator app (RFC 6238, through pyotp) and one-time
recovery codes for a lost phone.

Staff and admins who sign in with a password give a code from the app as well, when the site
requires it (STAFF_SECOND_FACTOR_REQUIRED, on in production) or when they have enrolled; EDS
is already a second factor. Each time step's code works once (User.totp_last_step), so a code
seen over a shoulder cannot be replayed within its 30 seconds. Recovery codes are random (50
bits), shown once, stored as SHA-256, each usable once. The secret itself must stay readable
to check codes: it is only ever shown to its owner, at enrolment.
"""
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timezone

import pyotp
from sqlalchemy import delete, select, update

from app.domain.errors import N_, DomainError, NotAllowed
from app.extensions import db
from app.models import RecoveryCode, User

ISSUER = "Qatysu"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
STEP = 30
DRIFT_STEPS = 1  # a code of the previous or next 30 seconds is accepted (phone clocks drift)


def is_enrolled(user):
    return user.totp_secret is not None and user.totp_confirmed_at is not None


def needed(user, required):
    """Whether a password sign-in of `user` must also give a code."""
    return bool(user.is_staff and (required or is_enrolled(user)))


def begin_enrolment(user):
    """A new secret for an account not yet enrolled (an enrolled one must keep its own)."""
    if not user.is_staff:
        raise NotAllowed("not_staff", N_("Only staff accounts use an authenticator app here."))
    if is_enrolled(user):
        raise DomainError("second_factor_enrolled", N_("Your authenticator app is already set up."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        db.session.flush()
    return user.totp_secret


def provisioning_uri(user):
    """The otpauth:// address the QR code carries for the authenticator app."""
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.full_name, issuer_name=ISSUER)


def _clean(code):
    return re.sub(r"[\s\-]", "", code or "").upper()


def _matching_step(user, code, now):
    if not user.totp_secret or not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(user.totp_secret)
    current = int(now.timestamp()) // STEP
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_totp(user, code, now):
    """True once per time step: a single UPDATE moves totp_last_step forward (a race loses)."""
    step = _matching_step(user, code, now)
    if step is None:
        return False
    if user.totp_last_step is not None and step <= user.totp_last_step:
        return False
    moved = db.session.execute(
        update(User).where(User.id == user.id, User.totp_last_step.is_(None) | (User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def _digest(code):
    return hashlib.sha256(code.encode()).hexdigest()


def _use_recovery_code(user, code, now):
    used = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _digest(code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    return used.rowcount == 1


def verify(user, code, now=None):
    """True when `code` is a fresh code from the app or an unused recovery code (then spent)."""
    now = now or datetime.now(timezone.utc)
    if not is_enrolled(user):
        return False
    code = _clean(code)
    return _use_totp(user, code, now) or (len(code) == 10 and _use_recovery_code(user, code, now))


def new_recovery_codes(user):
    """Replace the account's recovery codes; returns the new ones (shown once, never stored)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
                       .execution_options(synchronize_session=False))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    db.session.add_all([RecoveryCode(user_id=user.id, code_hash=_digest(c)) for c in codes])
    db.session.flush()
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def confirm_enrolment(user, code, now=None):
    """The first code from the app proves it holds the secret; returns the recovery codes."""
    now = now or datetime.now(timezone.utc)
    if is_enrolled(user):
        raise DomainError("second_factor_enrolled", N_("Your authenticator app is already set up."))
    if not _use_totp(user, _clean(code), now):
        raise DomainError("second_factor_invalid", N_("The code is incorrect. Enter the six digits "
                                                      "your authenticator app shows now."), field="code")
    user.totp_confirmed_at = now
    db.session.flush()
    return new_recovery_codes(user)


def recovery_codes_left(user):
    return len(db.session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def reset(user):
    """Forget the app and the recovery codes (an administrator, for a lost phone)."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
                       .execution_options(synchronize_session=False))
    db.session.flush()
