"""One-time challenges for signing in with an electronic digital signature (EDS)."""
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class EdsChallenge(db.Model):
    __tablename__ = "eds_challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the challenge: the table never holds a value that could still be signed.
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False, index=True)
    # Set once, by the single UPDATE that consumes the challenge; a second use finds it set.
    used_at = mapped_column(UTCDateTime)

    def __repr__(self):
        return f"<EdsChallenge {self.id} expires {self.expires_at:%H:%M:%S}>"
