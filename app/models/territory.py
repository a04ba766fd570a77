"""Administrative-territorial units (KATO)."""
import enum

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class TerritoryLevel(str, enum.Enum):
    REGION = "region"
    CITY = "city"
    DISTRICT = "district"
    RURAL_DISTRICT = "rural_district"
    SETTLEMENT = "settlement"


class Territory(db.Model):
    __tablename__ = "territory"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(9), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("territory.id"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Codes from the root down, "750000000/751110000/": "inside X" is a prefix match.
    path: Mapped[str] = mapped_column(String(120), index=True)
    population: Mapped[int | None] = mapped_column(Integer)
    # The unit's bounding box (WGS 84 degrees), where the territories import gave one: proposals'
    # places must fall inside it (app.domain.territories.bounding_box). All four or none.
    min_lat: Mapped[float | None] = mapped_column(Float)
    min_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)

    parent = relationship("Territory", remote_side=[id], backref="children")

    def name(self, locale):
        return getattr(self, f"name_{locale}", None) or self.name_ru

    @property
    def names(self):
        return {"kk": self.name_kk, "ru": self.name_ru, "en": self.name_en}

    @property
    def box(self):
        """(min_lat, min_lon, max_lat, max_lon), or None when the import gave no box."""
        corners = (self.min_lat, self.min_lon, self.max_lat, self.max_lon)
        return None if None in corners else corners

    @property
    def depth(self):
        return self.path.count("/") - 1

    def contains(self, other):
        """True when `other` is this unit or a unit inside it."""
        return other is not None and other.path.startswith(self.path)

    def __repr__(self):
        return f"<Territory {self.code} {self.name_ru}>"
