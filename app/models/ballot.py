"""Ballots: one per voter and cycle, guaranteed by the database."""
from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.tally.seal import new_secret


class Ballot(db.Model):
    __tablename__ = "ballot"
    __table_args__ = (UniqueConstraint("cycle_id", "voter_id", name="uq_ballot_cycle_voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The voter's home unit when casting: turnout by unit, and "voters from the territory".
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"), index=True)
    receipt: Mapped[str] = mapped_column(String(32), unique=True)
    # Shown only to the voter; part of the ballot's leaf in the seal (app/tally/seal.py), so
    # the published leaf hashes reveal nothing. Kept to rebuild the leaf when checking a seal.
    secret: Mapped[str] = mapped_column(String(32), default=new_secret)
    cast_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    # "online" or "paper" (app.models.paper.Channel); the unique (cycle, voter) above holds
    # across channels: a resident has one ballot per cycle however it was cast.
    channel: Mapped[str] = mapped_column(String(10), default="online", server_default="online")

    cycle = relationship("Cycle")
    voter = relationship("User")
    territory = relationship("Territory")
    items = relationship("BallotItem", back_populates="ballot", cascade="all, delete-orphan",
                         order_by="BallotItem.proposal_id")


class BallotItem(db.Model):
    __tablename__ = "ballot_item"
    __table_args__ = (UniqueConstraint("ballot_id", "proposal_id", name="uq_ballot_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)

    ballot = relationship("Ballot", back_populates="items")
    proposal = relationship("Proposal")


class BallotSeal(db.Model):
    """The seal of a cycle's ballots, made when voting closes: an RFC 6962 Merkle tree whose
    leaves are the ballots (app/tally/seal.py). Frozen with the results once published."""
    __tablename__ = "ballot_seal"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(20))
    root: Mapped[str] = mapped_column(String(64))
    leaves: Mapped[int] = mapped_column(Integer)
    leaf_hashes = mapped_column(JSON)  # hex, ascending: the published list
    sealed_at = mapped_column(UTCDateTime, default=utcnow)

    cycle = relationship("Cycle")
