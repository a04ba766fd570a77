"""Accounts: residents, territory staff, administrators; API tokens."""
import enum

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, ForeignKey, String
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Role(str, enum.Enum):
    RESIDENT = "resident"
    STAFF = "staff"
    ADMIN = "admin"


class Assurance(str, enum.Enum):
    """How sure we are of who holds the account, weakest first."""

    PASSWORD = "password"  # an IIN typed into a form
    PHONE = "phone"  # and a phone confirmed by a one-time SMS code
    EDS = "eds"  # signed in with an NCA RK authentication certificate carrying the IIN


ASSURANCE_ORDER = tuple(a.value for a in Assurance)


class SignIn(str, enum.Enum):
    """How a session or API token was signed in: the level it may count for (assurance.py)."""

    PASSWORD = "password"  # IIN and password (a confirmed phone lifts it to `phone`)
    PASSWORD_TOTP = "password+totp"  # and a staff member's second factor
    EDS = "eds"  # an EDS authentication certificate


class Residence(str, enum.Enum):
    DECLARED = "declared"  # the resident chose their home unit
    VERIFIED = "verified"  # staff saw a document, or the akimat's register lists them there


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # HMAC of the IIN under a server key: unique, searchable, never the IIN itself.
    iin_hmac: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # Home unit for a resident; the unit a staff member administers (with all units inside).
    # None only between a first EDS sign-in and the resident choosing their home.
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territory.id"), index=True)
    role: Mapped[str] = mapped_column(String(10), default=Role.RESIDENT.value)
    password_hash: Mapped[str] = mapped_column(String(200))  # "" for EDS-only accounts
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(2), default="kk")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # Changes on password change and logout-everywhere; part of the Flask-Login id.
    session_version: Mapped[int] = mapped_column(default=1)
    assurance: Mapped[str] = mapped_column(String(10), default=Assurance.PASSWORD.value,
                                           server_default=Assurance.PASSWORD.value)
    residence: Mapped[str] = mapped_column(String(10), default=Residence.DECLARED.value,
                                           server_default=Residence.DECLARED.value)
    residence_verified_at = mapped_column(UTCDateTime)
    residence_document: Mapped[str | None] = mapped_column(String(20))  # how it was verified
    # The number a one-time SMS code confirmed (app/domain/phone.py); one account per number.
    confirmed_phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    # Email choices (app/notifications.py): a reviewed or concluded proposal, published results.
    notify_proposals: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    notify_results: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # Staff second factor (app/domain/second_factor.py): the TOTP secret (base32), set at
    # enrolment and kept once confirmed; the last time step used, so a code works only once.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    territory = relationship("Territory")

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    @property
    def is_staff(self):
        return self.role in (Role.STAFF.value, Role.ADMIN.value)

    @property
    def is_admin(self):
        return self.role == Role.ADMIN.value

    def __repr__(self):
        return f"<User {self.id} {self.role}>"


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the bearer token: a database leak yields no usable tokens.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    expires_at = mapped_column(UTCDateTime)
    # How the token was obtained (SignIn); None for tokens from before it was recorded,
    # which count as a plain password sign-in.
    signed_in_with: Mapped[str | None] = mapped_column(String(16))

    user = relationship("User")


class PhoneCode(db.Model):
    """A one-time SMS code confirming a phone number: only its keyed hash is stored; it dies
    when used, when it expires, after a few wrong tries, or when a newer code is sent."""

    __tablename__ = "phone_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    attempts: Mapped[int] = mapped_column(default=0)
    used_at = mapped_column(UTCDateTime)

    user = relationship("User")


class RecoveryCode(db.Model):
    """A staff member's one-time recovery code for a lost authenticator (SHA-256 at rest)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at = mapped_column(UTCDateTime)

    user = relationship("User")


class PasswordReset(db.Model):
    """A one-time password-reset link: only its SHA-256 is stored; used once, then dead."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    used_at = mapped_column(UTCDateTime)

    user = relationship("User")
