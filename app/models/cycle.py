"""Budget cycles: one year's participatory-budget round in one territorial unit."""
import enum

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Phase(str, enum.Enum):
    DRAFT = "draft"
    PROPOSALS = "proposals"
    REVIEW = "review"
    VOTING = "voting"
    CLOSED = "closed"
    PUBLISHED = "published"


class BallotStyle(str, enum.Enum):
    SINGLE = "single"
    APPROVAL = "approval"
    KNAPSACK = "knapsack"


class CountingRule(str, enum.Enum):
    GREEDY = "greedy"
    MES = "mes"


class Category(str, enum.Enum):
    GREENING = "greening"
    PARKS = "parks"
    SPORTS = "sports"
    PLAYGROUNDS = "playgrounds"
    LIGHTING = "lighting"
    SIDEWALKS = "sidewalks"
    YARDS = "yards"
    OTHER = "other"


NATIONAL_MIN_VOTERS = 10  # Concept of local self-government: fewer than ten may not be implemented


class Cycle(db.Model):
    __tablename__ = "cycle"
    __table_args__ = (
        CheckConstraint(f"min_voters >= {NATIONAL_MIN_VOTERS}", name="min_voters_floor"),
        CheckConstraint("budget > 0", name="budget_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title_kk: Mapped[str] = mapped_column(String(200), default="")
    title_ru: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description_kk: Mapped[str] = mapped_column(Text, default="")
    description_ru: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[int] = mapped_column(BigInteger)  # tenge
    max_project_cost: Mapped[int] = mapped_column(BigInteger)  # tenge
    categories = mapped_column(JSON, default=lambda: [c.value for c in Category])
    ballot_style: Mapped[str] = mapped_column(String(10), default=BallotStyle.APPROVAL.value)
    max_choices: Mapped[int | None] = mapped_column(Integer)  # approval: up to k
    rule: Mapped[str] = mapped_column(String(10), default=CountingRule.GREEDY.value)
    min_voters: Mapped[int] = mapped_column(Integer, default=NATIONAL_MIN_VOTERS)
    phase: Mapped[str] = mapped_column(String(10), default=Phase.DRAFT.value, index=True)
    proposals_open = mapped_column(UTCDateTime)
    proposals_close = mapped_column(UTCDateTime)
    voting_open = mapped_column(UTCDateTime)
    voting_close = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    protocol_published_at = mapped_column(UTCDateTime)  # the Expert Council's admission protocol
    counted_at = mapped_column(UTCDateTime)  # set when the count is stored: None until then
    # The count at close runs as a background job (app/jobs.py, app.domain.counting):
    # queued → running → done, or failed (staff may retry); progress in percent.
    count_state: Mapped[str | None] = mapped_column(String(10))
    count_progress: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    count_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    count_error: Mapped[str | None] = mapped_column(String(200))  # for staff: the exception's class
    count_changed_at = mapped_column(UTCDateTime)  # the count's last sign of life
    voters_count: Mapped[int | None] = mapped_column(Integer)  # distinct voters, set at count
    published_at = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    results_digest: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of published data
    # The weakest identity (see models.user.Assurance) allowed to propose and to vote, and
    # whether a voter's home must be verified rather than declared.
    min_assurance_propose: Mapped[str] = mapped_column(String(10), default="password",
                                                       server_default="password")
    min_assurance_vote: Mapped[str] = mapped_column(String(10), default="password",
                                                    server_default="password")
    residence_verified_to_vote: Mapped[bool] = mapped_column(Boolean, default=False,
                                                             server_default=sa_false())

    territory = relationship("Territory")
    created_by = relationship("User", foreign_keys=[created_by_id])
    published_by = relationship("User", foreign_keys=[published_by_id])
    proposals = relationship("Proposal", back_populates="cycle", order_by="Proposal.id")
    phase_changes = relationship("PhaseChange", back_populates="cycle", order_by="PhaseChange.at")

    def title(self, locale):
        return getattr(self, f"title_{locale}", None) or self.title_ru or self.title_kk or self.title_en

    def description(self, locale):
        return (getattr(self, f"description_{locale}", None) or self.description_ru
                or self.description_kk or self.description_en)

    @property
    def title_i18n(self):
        return {"kk": self.title_kk, "ru": self.title_ru, "en": self.title_en}

    @property
    def description_i18n(self):
        return {"kk": self.description_kk, "ru": self.description_ru, "en": self.description_en}

    def __repr__(self):
        return f"<Cycle {self.id} {self.phase}>"


class PhaseChange(db.Model):
    __tablename__ = "phase_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    from_phase: Mapped[str] = mapped_column(String(10))
    to_phase: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at = mapped_column(UTCDateTime, default=utcnow)

    cycle = relationship("Cycle", back_populates="phase_changes")
    actor = relationship("User")
