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
    # The signed PDF (app.domain.files); replacing it deletes the old one in the same transaction.
    document_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"), index=True)
    # Its name under UPLOAD_DIR when documents lived on disk: kept for `flask files import-disk`
    # and for the audit entries that name it; new documents have none.
    document_filename: Mapped[str | None] = mapped_column(String(100))
    document_number: Mapped[str | None] = mapped_column(String(60))
    document_date = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at = mapped_column(UTCDateTime, default=utcnow)

    proposal = relationship("Proposal", back_populates="conclusion")
    decided_by = relationship("User")
    document = relationship("StoredFile", cascade="all, delete-orphan", single_parent=True)

    @property
    def has_document(self):
        # A name without a file id: a disk-era document `flask files import-disk` has not copied yet.
        return self.document_file_id is not None or self.document_filename is not None

    @property
    def document_sha256(self):
        return self.document.sha256 if self.document is not None else None

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
