"""Paper ballots at polling points: the points, and each ballot's two blind entries by staff."""
import enum

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.languages import LANGUAGES
from app.models.base import UTCDateTime, utcnow


class Channel(str, enum.Enum):
    """How a ballot reached the platform."""

    ONLINE = "online"  # cast by the resident on the site or through the API
    PAPER = "paper"  # filled in at a polling point, entered twice by staff


polling_point_staff = Table(
    "polling_point_staff", db.metadata,
    Column("point_id", ForeignKey("polling_point.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class PollingPoint(db.Model):
    """A place where residents of the cycle's territory vote on paper, open daily during voting."""

    __tablename__ = "polling_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    # The place and its address as residents know it, in each language (en optional).
    place_kk: Mapped[str] = mapped_column(String(300))
    place_ru: Mapped[str] = mapped_column(String(300))
    place_en: Mapped[str] = mapped_column(String(300), default="")
    opens_at = mapped_column(Time, nullable=False)
    closes_at = mapped_column(Time, nullable=False)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    cycle = relationship("Cycle")
    staff = relationship("User", secondary=polling_point_staff, order_by="User.full_name")

    def place(self, lang):
        return getattr(self, f"place_{lang}", None) or self.place_ru

    @property
    def place_i18n(self):
        return {lang: (getattr(self, f"place_{lang}") or None) for lang in LANGUAGES}


class EntryStatus(str, enum.Enum):
    AWAITING_SECOND = "awaiting_second_entry"  # one staff member has entered it
    MISMATCH = "mismatch"  # the second entry differs: a third person settles it
    STORED = "stored"  # the entries matched (or the third person settled): the ballot is stored


class PaperEntry(db.Model):
    """One paper ballot on its way in: who entered what, and the ballot once stored.

    One per resident and cycle (the unique constraint is what makes a second staff member's
    entry the *same* ballot); a voided entry is deleted and kept only in the audit log."""

    __tablename__ = "paper_entry"
    __table_args__ = (UniqueConstraint("cycle_id", "voter_id", name="uq_paper_entry_cycle_voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    point_id: Mapped[int | None] = mapped_column(ForeignKey("polling_point.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default=EntryStatus.AWAITING_SECOND.value, index=True)
    first_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    first_at = mapped_column(UTCDateTime, default=utcnow)
    first_choices = mapped_column(JSON, nullable=False)  # sorted proposal ids
    second_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    second_at = mapped_column(UTCDateTime)
    second_choices = mapped_column(JSON)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at = mapped_column(UTCDateTime)
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballot.id"), unique=True)
    # The optional scan of the paper, for audit (app.domain.files), never public; voiding the
    # entry or replacing the scan deletes the file in the same transaction.
    scan_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"), index=True)

    cycle = relationship("Cycle")
    voter = relationship("User", foreign_keys=[voter_id])
    point = relationship("PollingPoint")
    first_by = relationship("User", foreign_keys=[first_by_id])
    second_by = relationship("User", foreign_keys=[second_by_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])
    ballot = relationship("Ballot")
    scan = relationship("StoredFile", cascade="all, delete-orphan", single_parent=True)
