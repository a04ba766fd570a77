"""Accounts: registering residents, checking passwords, API tokens, staff accounts."""
import hashlib
import re
import secrets
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from app.domain import records, residence
from app.domain.errors import N_, Conflict, FieldErrors, NotAllowed, NotFound, Np_, ValidationFailed
from app.domain.iin import InvalidIIN, iin_digest, normalise, validate_adult_iin
from app.extensions import db
from app.languages import LANGUAGES
from app.models import ApiToken, Assurance, PasswordReset, Residence, Role, SignIn, Territory, User

MIN_PASSWORD_LENGTH = 10
# argon2 hashes any length, but an unbounded password is a cheap denial of service.
MAX_PASSWORD_LENGTH = 256
MAX_NAME_LENGTH = 200
PHONE_RE = re.compile(r"^\+?[0-9]{10,15}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

password_hasher = PasswordHasher()  # argon2id with the library's current recommended costs
# Verified against when the IIN is unknown, so failures take the same time either way. Made at
# the first unknown IIN, not at import: argon2 costs ~64 MiB and ~0.3 s, and every process
# (gunicorn workers, job workers, CLI commands) imports this module.
_DUMMY_HASH = None


def _dummy_hash():
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = password_hasher.hash("not-a-real-password")
    return _DUMMY_HASH


def configure_password_hashing(time_cost=None, memory_cost=None, parallelism=None):
    """Set argon2 costs (config ARGON2_*); None keeps the library's recommendation. Hashes made
    with other costs still verify and are upgraded at the next login."""
    global password_hasher, _DUMMY_HASH
    defaults = PasswordHasher()
    password_hasher = PasswordHasher(time_cost=time_cost or defaults.time_cost,
                                     memory_cost=memory_cost or defaults.memory_cost,
                                     parallelism=parallelism or defaults.parallelism)
    _DUMMY_HASH = None  # made again, with these costs, when first needed


class cheap_hashing:
    """Within the block, hash with the cheapest argon2id costs (bulk demo accounts); such
    hashes verify as usual and are upgraded to the configured costs at the next login."""

    def __enter__(self):
        global password_hasher
        self.saved = password_hasher
        password_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

    def __exit__(self, *exc):
        global password_hasher
        password_hasher = self.saved


def hash_password(password):
    return password_hasher.hash(password)


def check_password(user, password):
    """Verify, and upgrade the stored hash when the cost parameters have changed."""
    try:
        password_hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = password_hasher.hash(password)
    return True


def check_password_rules(errors, password, field="password"):
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.add(field, Np_("The password must have at least %(n)s character.",
                                "The password must have at least %(n)s characters."),
                   n=MIN_PASSWORD_LENGTH)
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors.add(field, Np_("The password must have at most %(n)s character.",
                                "The password must have at most %(n)s characters."),
                   n=MAX_PASSWORD_LENGTH)
    elif _is_common(password):
        errors.add(field, N_("This password is among the most common ones and is easy to guess. "
                             "Choose another."))


def _is_common(password):
    from app.domain.common_passwords import is_common

    return is_common(password)


def find_territory(code):
    if not code:
        return None
    return db.session.scalar(select(Territory).where(Territory.code == str(code).strip()))


def find_user_by_iin(iin, key):
    return db.session.scalar(select(User).where(User.iin_hmac == iin_digest(normalise(iin), key)))


def register_resident(*, iin, full_name, territory_code, password, iin_key, phone=None,
                      email=None, locale="kk", today=None):
    """Create a resident account, or raise ValidationFailed / Conflict naming every problem."""
    errors = FieldErrors()
    normalised_iin = None
    try:
        normalised_iin = validate_adult_iin(iin, today=today)
    except InvalidIIN as exc:
        errors.add("iin", exc.message)
    full_name = " ".join((full_name or "").split())
    if not full_name:
        errors.add("full_name", N_("Enter your full name."))
    elif len(full_name) > MAX_NAME_LENGTH:
        errors.add("full_name", Np_("The name must have at most %(n)s character.",
                                    "The name must have at most %(n)s characters."), n=MAX_NAME_LENGTH)
    territory = find_territory(territory_code)
    if territory is None:
        errors.add("territory", N_("Choose the unit where you live."))
    check_password_rules(errors, password)
    phone = normalise(phone) or None
    if phone and not PHONE_RE.match(phone):
        errors.add("phone", N_("Enter the phone number with its country code, e.g. +77011234567."))
    email = (email or "").strip() or None
    if email and (len(email) > 200 or not EMAIL_RE.match(email)):
        errors.add("email", N_("Enter a valid email address."))
    errors.raise_if_any()

    digest = iin_digest(normalised_iin, iin_key)
    if db.session.scalar(select(User.id).where(User.iin_hmac == digest)) is not None:
        raise Conflict("iin_taken", N_("An account with this IIN already exists."), field="iin")
    user = User(iin_hmac=digest, full_name=full_name, territory=territory, role=Role.RESIDENT.value,
                password_hash=hash_password(password), phone=phone, email=email, locale=locale)
    db.session.add(user)
    db.session.flush()
    residence.match_register(user)
    return user


def authenticate(iin, password, iin_key):
    """The user for these credentials, or None: the caller shows one message whatever failed."""
    user = find_user_by_iin(iin, iin_key) if iin else None
    if user is None or not user.is_active:
        # Verify against a dummy hash so an unknown IIN takes as long as a wrong password.
        try:
            password_hasher.verify(_dummy_hash(), password or "x")
        except VerificationError:
            pass
        return None
    return user if check_password(user, password or "") else None


def create_staff(*, iin, full_name, territory_code, password, iin_key, admin=False):
    """Create (or promote and re-password) a staff or admin account for a territory."""
    errors = FieldErrors()
    try:
        normalised_iin = validate_adult_iin(iin)
    except InvalidIIN as exc:
        errors.add("iin", exc.message)
    territory = find_territory(territory_code)
    if territory is None:
        errors.add("territory", N_("No territory has this KATO code."))
    if not (full_name or "").strip():
        errors.add("full_name", N_("Enter your full name."))
    check_password_rules(errors, password)
    errors.raise_if_any()
    digest = iin_digest(normalised_iin, iin_key)
    user = db.session.scalar(select(User).where(User.iin_hmac == digest))
    if user is None:
        user = User(iin_hmac=digest)
        db.session.add(user)
    user.full_name = " ".join(full_name.split())
    user.territory = territory
    user.role = (Role.ADMIN if admin else Role.STAFF).value
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 0) + 1
    db.session.flush()
    return user


def _token_digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user, hours, signed_in_with=SignIn.PASSWORD.value):
    """A bearer token that remembers how it was obtained (the level it may count for)."""
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(timezone.utc) + timedelta(hours=hours)
    db.session.add(ApiToken(user=user, token_hash=_token_digest(token), expires_at=expires_at,
                            signed_in_with=signed_in_with))
    db.session.flush()
    return token, expires_at


def user_for_token(token):
    """The token's user, with `signed_in_with` set from the token (assurance.session_level)."""
    if not token:
        return None
    # One query for the token, its account and the account's unit (every ballot needs all three);
    # a SHA-256 lookup, never argon2: tokens are random, long, and checked on every request.
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token))
                            .options(joinedload(ApiToken.user).joinedload(User.territory)))
    if row is None or row.expires_at <= datetime.now(timezone.utc) or not row.user.is_active:
        return None
    user = row.user
    user.signed_in_with = row.signed_in_with or SignIn.PASSWORD.value
    return user


def get_user(user_id):
    user = records.get(User, user_id)
    if user is None:
        raise NotFound("user_not_found", N_("No such account."))
    return user


def revoke_tokens(user):
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)
                       .execution_options(synchronize_session=False))


def sign_out_everywhere(user):
    """End every session (their cookies carry the old session_version) and every API token."""
    user.session_version = (user.session_version or 0) + 1
    revoke_tokens(user)
    db.session.flush()


# --- electronic digital signature -----------------------------------------------------------

def display_name(certificate_name):
    """NCA writes names in capitals: "ТЕСТОВ ТЕСТ ТЕСТОВИЧ" → "Тестов Тест Тестович"."""
    return " ".join(part.capitalize() if "-" not in part else
                    "-".join(p.capitalize() for p in part.split("-"))
                    for part in certificate_name.split())[:MAX_NAME_LENGTH]


def sign_in_with_eds(identity, iin_key, locale="kk"):
    """The account of the certificate's IIN, created on first sign-in; returns (user, created).

    The name comes from the certificate, never typed. An account that existed with a weaker
    identity (anyone could have registered someone else's IIN with a password) is taken over by
    the proven holder: its password, sessions and tokens stop working, and its home becomes a
    declaration again. A new account has no home until the resident chooses it (choose_home)."""
    digest = iin_digest(identity.iin, iin_key)
    user = db.session.scalar(select(User).where(User.iin_hmac == digest))
    name = display_name(identity.full_name)
    if user is None:
        user = User(iin_hmac=digest, full_name=name, territory=None, role=Role.RESIDENT.value,
                    password_hash="", assurance=Assurance.EDS.value,
                    residence=Residence.DECLARED.value, locale=locale if locale in LANGUAGES else "kk")
        db.session.add(user)
        db.session.flush()
        return user, True
    if not user.is_active:
        raise NotAllowed("account_disabled", N_("This account is disabled."))
    if user.assurance != Assurance.EDS.value:
        user.password_hash = ""
        if user.role == Role.RESIDENT.value:
            # Whoever registered the IIN before may have given their own number and address: a
            # reset link or SMS must not reach them now. (Staff accounts come from an operator.)
            user.phone = user.confirmed_phone = user.email = None
        sign_out_everywhere(user)
        if user.residence != Residence.VERIFIED.value:
            user.residence = Residence.DECLARED.value
        user.assurance = Assurance.EDS.value
    user.full_name = name
    db.session.flush()
    return user, False


def needs_home(user):
    return user is not None and not user.is_staff and user.territory_id is None


def choose_home(user, territory_code):
    """Declare where the resident lives. Moving home is a new declaration: a verified residence
    goes back to declared. A ballot already cast stays in its cycle, and the ballot's unique
    (cycle, voter) constraint keeps a moved resident from voting there again."""
    if user.is_staff:
        raise NotAllowed("staff_home_fixed", N_("A staff account's territory is set by an administrator."))
    territory = find_territory(territory_code if isinstance(territory_code, str) else None)
    if territory is None:
        raise ValidationFailed({"territory": [(N_("Choose the unit where you live."), {})]})
    if user.territory_id != territory.id:
        user.territory = territory
        user.residence = Residence.DECLARED.value
        user.residence_verified_at = None
        user.residence_document = None
        db.session.flush()
        residence.match_register(user)  # the akimat's register may already list them there
    db.session.flush()
    return user


# --- passwords ----------------------------------------------------------------------------------

RESET_TTL = timedelta(hours=1)


def change_password(user, current, new):
    """Set a new password (checked against the rules); the current one is needed when the
    account has one (an EDS-only account sets its first). Every other session and token ends."""
    errors = FieldErrors()
    if user.password_hash and not check_password(user, current or ""):
        errors.add("current", N_("The current password is incorrect."))
    check_password_rules(errors, new, field="new")
    errors.raise_if_any()
    user.password_hash = hash_password(new)
    sign_out_everywhere(user)
    return user


def request_password_reset(iin, iin_key, now=None):
    """A one-time reset token for the account of this IIN, or None (no account, disabled, or
    neither an email nor a confirmed phone to send it to): the caller answers the same either way."""
    now = now or datetime.now(timezone.utc)
    user = find_user_by_iin(iin, iin_key) if iin else None
    if user is None or not user.is_active or not (user.email or user.confirmed_phone):
        return None, None
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordReset(user=user, token_hash=_token_digest(token), created_at=now,
                                 expires_at=now + RESET_TTL))
    db.session.flush()
    return user, token


def reset_password(token, new, now=None):
    """Use a reset token once (a single UPDATE decides a race) and set the new password."""
    now = now or datetime.now(timezone.utc)
    errors = FieldErrors()
    check_password_rules(errors, new, field="new")
    errors.raise_if_any()
    digest = _token_digest(token or "")
    row = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == digest))
    used = db.session.execute(
        update(PasswordReset).where(PasswordReset.token_hash == digest, PasswordReset.used_at.is_(None),
                                    PasswordReset.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    if row is None or used.rowcount != 1:
        raise NotFound("reset_link_invalid", N_("This password reset link has expired or was already used. "
                                                "Ask for a new one."))
    user = row.user
    user.password_hash = hash_password(new)
    sign_out_everywhere(user)
    return user


# --- profile ------------------------------------------------------------------------------------

def update_profile(user, *, email=None, locale=None, notify_proposals=None, notify_results=None):
    """Change the contact address, the preferred language (emails, and the pages after sign-in)
    and the email choices; None leaves a value as it is, "" removes the email."""
    errors = FieldErrors()
    if email is not None:
        email = email.strip() if isinstance(email, str) else email
        if not isinstance(email, str) or (email and (len(email) > 200 or not EMAIL_RE.match(email))):
            errors.add("email", N_("Enter a valid email address."))
    if locale is not None and locale not in LANGUAGES:
        errors.add("locale", N_("Choose a language from the list."))
    for name, value in (("notify_proposals", notify_proposals), ("notify_results", notify_results)):
        if value is not None and not isinstance(value, bool):
            errors.add(name, N_("This field has the wrong type."))
    errors.raise_if_any()
    if email is not None:
        user.email = email or None
    if locale is not None:
        user.locale = locale
    if notify_proposals is not None:
        user.notify_proposals = notify_proposals
    if notify_results is not None:
        user.notify_results = notify_results
    db.session.flush()
    return user
