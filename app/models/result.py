"""The count stored at close, one row per admitted proposal."""
from sqlalchemy import Boolean, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class ProposalResult(db.Model):
    __tablename__ = "proposal_result"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    votes: Mapped[int] = mapped_column(Integer)
    # Distinct voters whose home is the cycle's territory or a unit inside it.
    voters_in_territory: Mapped[int] = mapped_column(Integer)
    eligible: Mapped[bool] = mapped_column(Boolean)
    selected: Mapped[bool] = mapped_column(Boolean)
    rank: Mapped[int | None] = mapped_column(Integer)  # order of selection, if selected
    price_per_voter: Mapped[str | None] = mapped_column(Text)  # MES, exact fraction (long with many voters)

    proposal = relationship("Proposal", back_populates="result")
