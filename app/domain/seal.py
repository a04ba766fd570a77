"""Sealing a cycle's ballots when voting closes, the voter's proof, and the operator's check.

At the move to `closed`, right beside the count, `seal_cycle` builds an RFC 6962 Merkle tree
over every stored ballot of the cycle, whatever its channel (the leaf: cycle id, the sorted
proposal ids and the ballot's secret code; app/tally/seal.py states the format) and stores its
root, its size and the ordered leaf hashes. The root and the size go into the published
checksum (open_data). From then on:

- anyone reads the seal once the results are published (`public_seal`) and can check it;
- a voter gets the leaf hash and audit path of their own ballot (`proof_for_voter`) and checks
  offline that it is in the published seal (`python -m app.tally verify-receipt`);
- an operator runs `verify_cycle` (`flask cycles verify ID`): the seal, the count and the
  checksum recomputed from the database, every difference named.

The secret code is the only thing stored for the seal on a ballot: with the ballot's choices it
rebuilds the leaf. It is shown to the voter alone (their receipt page and ballot API).
"""
from datetime import datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from app.domain import counting, phases, voting
from app.domain.errors import N_, Conflict
from app.extensions import db
from app.models import Ballot, BallotSeal, Cycle, Phase
from app.tally import seal as merkle


def leaf_hashes_from_ballots(cycle):
    """Every stored ballot's leaf hash, in the canonical order, recomputed from the database."""
    ballots = db.session.scalars(select(Ballot).where(Ballot.cycle_id == cycle.id)
                                 .options(selectinload(Ballot.items))).all()
    return merkle.ordered(voting.ballot_leaf_hash(b) for b in ballots)


def get_seal(cycle):
    return db.session.get(BallotSeal, cycle.id)


def seal_cycle(cycle, now=None):
    """Seal the cycle's ballots (in the count job after the close, app.closing, right after the
    count). Idempotent: sealing again replaces the stored seal with the same one."""
    now = now or datetime.now(timezone.utc)
    # Write to the cycle row before reading any ballot, as the count does: ballots in flight
    # hold a shared lock on it (or SQLite's write lock), so none is cast after this read.
    db.session.execute(update(Cycle).where(Cycle.id == cycle.id).values(phase=Cycle.phase),
                       execution_options={"synchronize_session": False})
    made = merkle.seal_of(leaf_hashes_from_ballots(cycle))
    db.session.execute(delete(BallotSeal).where(BallotSeal.cycle_id == cycle.id),
                       execution_options={"synchronize_session": "fetch"})
    stored = BallotSeal(cycle_id=cycle.id, algorithm=made["algorithm"], root=made["root"],
                        leaves=made["leaves"], leaf_hashes=made["leaf_hashes"], sealed_at=now)
    db.session.add(stored)
    db.session.flush()
    return stored


def ensure_sealed(cycle, now=None):
    """A cycle closed before sealing existed is sealed at publication (its ballots cannot have
    changed since it closed: nobody votes in `closed`)."""
    return get_seal(cycle) or seal_cycle(cycle, now=now)


def seal_document(cycle, stored):
    return {"cycle": cycle.id, "algorithm": stored.algorithm, "root": stored.root,
            "leaves": stored.leaves, "leaf_hashes": list(stored.leaf_hashes or []),
            "sealed_at": stored.sealed_at.isoformat() if stored.sealed_at else None}


def require_sealed(cycle):
    stored = get_seal(cycle)
    if stored is None:
        raise Conflict("not_sealed", N_("The ballots of this cycle are sealed when voting closes."))
    return stored


def public_seal(cycle):
    """The published seal (callers check that the results may be seen)."""
    return seal_document(cycle, require_sealed(cycle))


def proof_for_voter(voter, cycle):
    """The voter's own proof, from `closed` on: leaf (with the secret: only for them), leaf
    hash, index, audit path, root and size. 409 before the seal exists or if the ballot's leaf
    is not in it."""
    ballot = voting.require_ballot(voter, cycle)
    if phases.ORDER.index(phases.phase_of(cycle)) < phases.ORDER.index(Phase.CLOSED):
        raise Conflict("not_sealed", N_("The ballots of this cycle are sealed when voting closes."))
    require_sealed(cycle)
    sealed, proof = voting.ballot_in_seal(ballot)
    if not sealed:
        raise Conflict("ballot_not_in_seal",
                       N_("Your ballot as stored now is not in the seal made when voting closed. "
                          "Please report this to the akimat and keep your receipt."))
    return dict(proof, cycle=cycle.id, leaf=voting.ballot_leaf(ballot))


def verify_cycle(cycle):
    """Recompute the seal, the count and the checksum from the database and compare them with
    what is stored. Returns the differences as plain text for operators; empty when all agree."""
    from app.domain.open_data import compute_digest

    differences = []
    stored = get_seal(cycle)
    fresh = merkle.seal_of(leaf_hashes_from_ballots(cycle))
    if stored is None:
        if phases.ORDER.index(phases.phase_of(cycle)) >= phases.ORDER.index(Phase.CLOSED):
            differences.append("seal: the cycle is closed but its ballots were never sealed")
    else:
        if merkle.root(stored.leaf_hashes or []) != stored.root or stored.leaves != len(stored.leaf_hashes or []):
            differences.append("seal: the stored root does not match the stored leaf hashes")
        if fresh["root"] != stored.root:
            differences.append(f"seal: root stored {stored.root}, recomputed from the ballots {fresh['root']}")
        if fresh["leaves"] != stored.leaves:
            differences.append(f"seal: leaves stored {stored.leaves}, ballots now {fresh['leaves']}")
        kept, now = set(stored.leaf_hashes or []), set(fresh["leaf_hashes"])
        if kept - now:
            differences.append(f"seal: {len(kept - now)} sealed ballots are no longer stored as sealed")
        if now - kept:
            differences.append(f"seal: {len(now - kept)} stored ballots are not in the seal")
    if cycle.counted_at is not None or stored is not None:
        differences += [f"count: {line}" for line in counting.recount(cycle)]
    if cycle.results_digest:
        digest = compute_digest(cycle)
        if digest != cycle.results_digest:
            differences.append(f"checksum: published {cycle.results_digest}, recomputed {digest}")
    return differences
