"""The audit log: every staff action with actor, time and before/after."""
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))  # e.g. "cycle.update", "proposal.review"
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territory.id"), index=True)
    before = mapped_column(JSON)
    after = mapped_column(JSON)

    actor = relationship("User")
    territory = relationship("Territory")
