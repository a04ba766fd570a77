"""Accounts: registering residents, checking passwords, API tokens, staff accounts."""
import hashlib
import re
import secrets
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from app.domain import records
from app.domain.errors import N_, Conflict, FieldErrors, NotFound, Np_
from app.domain.iin import InvalidIIN, iin_digest, normalise, validate_adult_iin
from app.extensions import db
from app.models import ApiToken, Role, Territory, User

MIN_PASSWORD_LENGTH = 10
# argon2 hashes any length, but an unbounded password is a cheap denial of service.
MAX_PASSWORD_LENGTH = 256
MAX_NAME_LENGTH = 200
PHONE_RE = re.compile(r"^\+?[0-9]{10,15}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

password_hasher = PasswordHasher()  # argon2id with the library's current recommended costs
# Verified against when the IIN is unknown, so failures take the same time either way.
_DUMMY_HASH = password_hasher.hash("not-a-real-password")


def configure_password_hashing(time_cost=None, memory_cost=None, parallelism=None):
    """Set argon2 costs (config ARGON2_*); None keeps the library's recommendation. Hashes made
    with other costs still verify and are upgraded at the next login."""
    global password_hasher, _DUMMY_HASH
    defaults = PasswordHasher()
    password_hasher = PasswordHasher(time_cost=time_cost or defaults.time_cost,
                                     memory_cost=memory_cost or defaults.memory_cost,
                                     parallelism=parallelism or defaults.parallelism)
    _DUMMY_HASH = password_hasher.hash("not-a-real-password")


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
    return user


def authenticate(iin, password, iin_key):
    """The user for these credentials, or None: the caller shows one message whatever failed."""
    user = find_user_by_iin(iin, iin_key) if iin else None
    if user is None or not user.is_active:
        # Verify against a dummy hash so an unknown IIN takes as long as a wrong password.
        try:
            password_hasher.verify(_DUMMY_HASH, password or "x")
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


def issue_token(user, hours):
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(timezone.utc) + timedelta(hours=hours)
    db.session.add(ApiToken(user=user, token_hash=_token_digest(token), expires_at=expires_at))
    db.session.flush()
    return token, expires_at


def user_for_token(token):
    if not token:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    if row is None or row.expires_at <= datetime.now(timezone.utc) or not row.user.is_active:
        return None
    return row.user


def get_user(user_id):
    user = records.get(User, user_id)
    if user is None:
        raise NotFound("user_not_found", N_("No such account."))
    return user
