"""Uploaded files (proposal photos, signed PDFs, scans) stored in the database itself.

Every app server reads the same bytes, and a file is written in the same transaction as the row
that refers to it: nothing is left behind by a failed request, nothing is missing on another host.
"""
from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class StoredFile(db.Model):
    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # hex; the ETag when served
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    # Deferred: listing photos or conclusions never loads the bytes, only serving does.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self):
        return f"<StoredFile {self.id} {self.content_type} {self.size} B>"
