"""The akimat's conclusion on each admitted proposal, and implementation tracking."""
import enum

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.languages import LANGUAGES
from app.models.base import UTCDateTime, utcnow


class Decision(str, enum.Enum):
    APPROVED = "approved"
    NOT_APPROVED = "not_approved"


class ImplementationStatus(str, enum.Enum):
    PLANNED = "planned"
    PROCUREMENT = "procurement"
    WORKS = "works"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Conclusion(db.Model):
    __tablename__ = "conclusion"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), unique=True)
    decision: Mapped[str] = mapped_column(String(20))
    justification_kk: Mapped[str] = mapped_column(Text, default="")
    justification_ru: Mapped[str] = mapped_column(Text, default="")
    justification_en: Mapped[str] = mapped_column(Text, default="")
    document_filename: Mapped[str | None] = mapped_column(String(100))  # signed PDF under UPLOAD_DIR
    document_number: Mapped[str | None] = mapped_column(String(60))
    document_date = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at = mapped_column(UTCDateTime, default=utcnow)

    proposal = relationship("Proposal", back_populates="conclusion")
    decided_by = relationship("User")

    @property
    def justification_i18n(self):
        return {"kk": self.justification_kk, "ru": self.justification_ru, "en": self.justification_en}


class ImplementationUpdate(db.Model):
    __tablename__ = "implementation_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    on_date = mapped_column(Date)
    note_kk: Mapped[str] = mapped_column(Text, default="")
    note_ru: Mapped[str] = mapped_column(Text, default="")
    note_en: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    proposal = relationship("Proposal")
    created_by = relationship("User")

    @property
    def note_i18n(self):
        return {lang: (getattr(self, f"note_{lang}") or None) for lang in LANGUAGES}
