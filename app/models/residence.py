"""The akimat's register of residents, as imported: who lives where, by IIN digest only."""
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class RegisteredResident(db.Model):
    __tablename__ = "registered_resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The same keyed hash as User.iin_hmac: the register is matched to accounts, never read back.
    iin_hmac: Mapped[str] = mapped_column(String(64), unique=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"), index=True)
    imported_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    territory = relationship("Territory")
