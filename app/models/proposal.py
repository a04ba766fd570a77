"""Project proposals submitted by residents, and their photos."""
import enum

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.languages import LANGUAGES
from app.models.base import UTCDateTime, utcnow


class ProposalStatus(str, enum.Enum):
    SUBMITTED = "submitted"
    REVISION_REQUESTED = "revision_requested"
    ADMITTED = "admitted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Proposal(db.Model):
    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The unit the author lived in when proposing (their home may move later).
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"))
    language: Mapped[str] = mapped_column(String(2), default="kk")  # language the author wrote in
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)  # sanitised HTML
    category: Mapped[str] = mapped_column(String(20))
    cost: Mapped[int] = mapped_column(BigInteger)  # tenge
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default=ProposalStatus.SUBMITTED.value, index=True)
    # The Expert Council's reason, published with the decision, one column per language.
    review_reason_kk: Mapped[str] = mapped_column(Text, default="")
    review_reason_ru: Mapped[str] = mapped_column(Text, default="")
    review_reason_en: Mapped[str] = mapped_column(Text, default="")
    revision_deadline = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cycle = relationship("Cycle", back_populates="proposals")
    author = relationship("User", foreign_keys=[author_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    territory = relationship("Territory")
    photos = relationship("ProposalPhoto", back_populates="proposal", order_by="ProposalPhoto.id",
                          cascade="all, delete-orphan")
    result = relationship("ProposalResult", back_populates="proposal", uselist=False)
    conclusion = relationship("Conclusion", back_populates="proposal", uselist=False)

    @property
    def title_i18n(self):
        # A resident writes in one language; the other languages are absent, not guessed.
        return {lang: (self.title if lang == self.language else None) for lang in LANGUAGES}

    @property
    def review_reason_i18n(self):
        return {lang: (getattr(self, f"review_reason_{lang}") or None) for lang in LANGUAGES}

    def __repr__(self):
        return f"<Proposal {self.id} {self.status}>"


class ProposalPhoto(db.Model):
    __tablename__ = "proposal_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(100), unique=True)  # random name: the photo's URL
    # The JPEG (app.domain.files); None only for a photo from before files moved into the
    # database that `flask files import-disk` has not imported yet.
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"), index=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    proposal = relationship("Proposal", back_populates="photos")
    # The file is the photo's own: removing the photo deletes it, in the same transaction.
    file = relationship("StoredFile", cascade="all, delete-orphan", single_parent=True)
