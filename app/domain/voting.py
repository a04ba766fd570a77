"""Casting ballots: one person, one ballot per cycle, guaranteed by the database.

The style's limits live here (single: exactly one and final; approval: 1..max_choices;
knapsack: total cost within the budget), and so does the concurrency story: two tabs, a double
click or a retried request from the same account may race. The unique constraints
uq_ballot_cycle_voter and uq_ballot_item decide who created the ballot: a ballot is written
with INSERT … ON CONFLICT (cycle, voter) DO NOTHING, which waits for a competing insert in
flight; the loser inserts nothing, reads the winner's ballot under a row lock and either
replaces its items (approval, knapsack) or gets 409 `ballot_final` (single). Any other
IntegrityError rolls back and starts again. Items are replaced with one bulk DELETE under
that lock, so the stored set is always exactly one submission's set, never a union.

Paper ballots (app.domain.paper) are Ballot rows too, with `channel` "paper": the same
uq_ballot_cycle_voter makes one ballot per person per cycle across channels, and whichever
channel loses the race is told 409 `already_voted`.
"""
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.session import make_transient_to_detached

from app.domain import phases, records
from app.domain.assurance import require_assurance
from app.domain.errors import N_, Conflict, DomainError, NotAllowed, NotFound, Np_
from app.domain.permissions import is_resident_of, require_resident_of
from app.extensions import db
from app.models import (
    Ballot,
    BallotItem,
    BallotSeal,
    BallotStyle,
    Channel,
    Cycle,
    Phase,
    Proposal,
    ProposalResult,
    ProposalStatus,
)
from app.tally import seal as merkle
from app.tally.seal import new_secret

RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed back
RECEIPT_GROUPS, RECEIPT_GROUP_LENGTH = 4, 4  # 16 symbols of 5 bits: 80 random bits
DIALECT_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
MAX_ATTEMPTS = 3  # insert races resolved by re-reading; a fourth loss would be a bug


def new_receipt():
    """A random, unguessable receipt code such as 'K7QX-3M9P-WT2R-8HZA'."""
    groups = ("".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_GROUP_LENGTH))
              for _ in range(RECEIPT_GROUPS))
    return "-".join(groups)


def get_cycle(cycle_id, lock=False):
    """The cycle or NotFound; lock=True reads it under the shared row lock cast_ballot takes
    (then pass locked=True to cast_ballot in the same transaction: one read instead of two)."""
    cycle = lock_cycle(cycle_id) if lock else records.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound("cycle_not_found", N_("No such budget cycle."))
    return cycle


def ballot_proposals(cycle):
    """The proposals on this cycle's ballot: admitted ones, in a stable order."""
    return db.session.scalars(
        select(Proposal).where(Proposal.cycle_id == cycle.id,
                               Proposal.status == ProposalStatus.ADMITTED.value)
        .order_by(Proposal.id)).all()


def require_can_change(cycle, ballot=None):
    """A cast ballot may be replaced while voting is open, except a `single` one (final) and a
    paper one (the paper in the ballot box is the vote)."""
    require_voting_open(cycle)
    if ballot is not None and ballot.channel != ONLINE:
        raise Conflict("ballot_final", N_("Your ballot was cast on paper at a polling point and is final."))
    if cycle.ballot_style == BallotStyle.SINGLE.value:
        raise Conflict("ballot_final",
                       N_("Your ballot has been cast and is final: in this cycle it cannot be changed."))


def ballots_possible(cycle):
    """Voting has opened (it may be over): ballots, and so receipt codes, may exist."""
    return phases.ORDER.index(phases.phase_of(cycle)) >= phases.ORDER.index(Phase.VOTING)


def can_change(cycle, ballot=None):
    """Whether a cast ballot may still be replaced: never for `single` or paper, else while voting."""
    try:
        require_can_change(cycle, ballot)
    except DomainError:
        return False
    return True


def _normalise_ids(proposal_ids):
    if isinstance(proposal_ids, (str, bytes)) or not hasattr(proposal_ids, "__iter__"):
        raise DomainError("validation_failed", N_("Choose the projects you vote for."),
                          field="proposals")
    ids = []
    for raw in proposal_ids:
        if isinstance(raw, bool):
            raise DomainError("unknown_proposal", N_("This project is not on the ballot of this cycle."),
                              field="proposals")
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise DomainError("unknown_proposal", N_("This project is not on the ballot of this cycle."),
                              field="proposals")
        if value in ids:
            raise DomainError("duplicate_choice", N_("A project is chosen more than once."),
                              field="proposals")
        ids.append(value)
    return ids


def require_voting_open(cycle):
    """Voting is open: the refusal says whether it has yet to open (and when) or has closed."""
    if phases.allows(cycle, "vote"):
        return
    if phases.ORDER.index(phases.phase_of(cycle)) < phases.ORDER.index(Phase.VOTING):
        if cycle.voting_open is not None:
            raise Conflict("voting_not_open", N_("Voting has not opened yet: it opens on %(date)s."),
                           date=cycle.voting_open)
        raise Conflict("voting_not_open", N_("Voting has not opened yet."))
    raise Conflict("voting_not_open", N_("Voting in this cycle has closed."))


def require_can_vote(voter, cycle):
    """A resident of the cycle's territory (or of a unit inside it), while voting is open, as
    sure of who they are as the cycle demands (assurance.require_assurance).

    Each refusal says why in words a voter can act on; a resident of another unit is told both
    units (names as {lang: text}, put in the page's language where the message is shown)."""
    require_voting_open(cycle)
    if not is_resident_of(voter, cycle.territory):
        if voter is not None and getattr(voter, "is_authenticated", True):
            if voter.is_staff:
                raise NotAllowed("not_resident_of_territory",
                                 N_("Staff accounts do not vote. Sign in with your resident account to vote."))
            if voter.territory is not None:
                raise NotAllowed("not_resident_of_territory",
                                 N_("Only residents of %(cycle_unit)s can vote in this cycle. "
                                    "Your account is registered in %(your_unit)s."),
                                 cycle_unit=cycle.territory.names, your_unit=voter.territory.names)
        require_resident_of(voter, cycle.territory)
    require_assurance(voter, cycle, "vote")


def check_choice(voter, cycle, proposal_ids):
    """Everything a cast checks except the database race: who, when, what, and how many.

    Returns the chosen proposals in ballot order. Used alone by the single-choice
    confirmation step, so an invalid choice is refused before the voter confirms it."""
    require_can_vote(voter, cycle)
    return check_ballot_choice(cycle, proposal_ids)


def check_ballot_choice(cycle, proposal_ids):
    """What and how many, whoever casts it (a resident online, staff entering a paper
    ballot): admitted proposals of the cycle within the ballot style's limits. Returns the
    chosen proposals in ballot order."""
    ids = _normalise_ids(proposal_ids)
    on_ballot = {p.id: p for p in ballot_proposals(cycle)}
    chosen = _checked_ids(cycle, ids, {pid: p.cost for pid, p in on_ballot.items()})
    return [on_ballot[pid] for pid in chosen]


def _checked_ids(cycle, ids, costs):
    """The chosen ids in ballot order, checked against the ballot (`costs`: {id: cost} of the
    cycle's admitted proposals) and the style's limits."""
    if any(pid not in costs for pid in ids):
        raise DomainError("unknown_proposal", N_("This project is not on the ballot of this cycle."),
                          field="proposals")
    chosen = sorted(ids)
    style = cycle.ballot_style
    if not chosen:
        message = (N_("Choose one project.") if style == BallotStyle.SINGLE.value
                   else N_("Choose at least one project."))
        raise DomainError("no_choice", message, field="proposals")
    if style == BallotStyle.SINGLE.value:
        if len(chosen) != 1:
            raise DomainError("too_many_choices", N_("Choose exactly one project."), field="proposals")
    elif style == BallotStyle.APPROVAL.value:
        limit = cycle.max_choices or len(costs)
        if len(chosen) > limit:
            raise DomainError("too_many_choices", Np_("You can choose at most %(n)s project.",
                                                      "You can choose at most %(n)s projects."),
                              field="proposals", n=limit)
    elif style == BallotStyle.KNAPSACK.value:
        total = sum(costs[pid] for pid in chosen)
        if total > cycle.budget:
            raise DomainError("over_budget",
                              N_("The chosen projects cost %(total)s ₸, more than the budget of %(budget)s ₸."),
                              field="proposals", total=f"{total:,}".replace(",", "\u00a0"),
                              budget=f"{cycle.budget:,}".replace(",", "\u00a0"))
    return chosen


# --- the ballot's proposals during voting, kept per worker -----------------------------------------
# Which proposals are admitted is decided in `review` (proposals.decide) and cannot change once
# voting has opened, so a cycle in `voting` has one ballot for the whole phase. Each worker keeps
# it ({id: cost}) for BALLOT_CACHE_SECONDS, keyed by the database, the cycle and its creation
# time (a cycle id reused in another database, or after a reset, never matches). Any change to a
# Proposal flushed in this process drops its cycle's entry (_forget_changed_proposals), so even a
# change made by hand or by a test in `voting` is seen at once here; other processes would see
# it within the time-out.
BALLOT_CACHE_SECONDS = 30
_on_ballot_cache = {}


def _ballot_cache_key(cycle):
    return (str(db.session.get_bind().url), cycle.id, cycle.created_at)


def on_ballot_costs(cycle):
    """{id: cost} of the cycle's admitted proposals; kept per worker while the cycle (as read
    in this transaction) is in `voting`."""
    voting_now = phases.phase_of(cycle) == Phase.VOTING
    key = _ballot_cache_key(cycle) if voting_now else None
    if key is not None:
        kept = _on_ballot_cache.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
    costs = dict(db.session.execute(
        select(Proposal.id, Proposal.cost).where(Proposal.cycle_id == cycle.id,
                                                 Proposal.status == ProposalStatus.ADMITTED.value)).all())
    if key is not None:
        _on_ballot_cache[key] = (time.monotonic() + BALLOT_CACHE_SECONDS, costs)
    return costs


def forget_ballot_cache(cycle_ids=None):
    """Drop the kept ballots of these cycles (all when None) in this process."""
    if cycle_ids is None:
        _on_ballot_cache.clear()
        return
    for key in [k for k in _on_ballot_cache if k[1] in cycle_ids]:
        _on_ballot_cache.pop(key, None)


def _forget_changed_proposals(session, flush_context):
    changed = {obj.cycle_id for obj in (*session.new, *session.dirty, *session.deleted)
               if isinstance(obj, Proposal)}
    changed |= {obj.id for obj in session.dirty if isinstance(obj, Cycle)}
    if changed:
        forget_ballot_cache(changed)


def install_ballot_cache_listener():
    """Idempotent; called by create_app next to the freeze guard."""
    if not event.contains(Session, "after_flush", _forget_changed_proposals):
        event.listen(Session, "after_flush", _forget_changed_proposals)


def max_choices(cycle):
    """Approval: up to k; a cycle without k lets a voter approve every project."""
    return cycle.max_choices if cycle.max_choices else len(ballot_proposals(cycle))


def _existing(voter, cycle, lock):
    query = select(Ballot).where(Ballot.cycle_id == cycle.id, Ballot.voter_id == voter.id)
    if lock:
        query = query.with_for_update()  # PostgreSQL: replacements of one ballot queue here
    return db.session.scalar(query.execution_options(populate_existing=True))


def cast_ballot(voter, cycle, proposal_ids, now=None, locked=False):
    """Cast or replace the voter's ballot; returns the stored Ballot (flushed, not committed).

    On a lost race the session is rolled back (the caller should hold nothing else unflushed
    in it) and the winner's ballot is re-read: replaced where the style allows, else 409."""
    now = now or datetime.now(timezone.utc)
    voter_id, cycle_id = voter.id, cycle.id
    for attempt in range(MAX_ATTEMPTS):
        if not (locked and attempt == 0):  # locked: read by get_cycle(lock=True) in this transaction
            cycle = lock_cycle(cycle_id)
        require_can_vote(voter, cycle)
        chosen = _checked_ids(cycle, _normalise_ids(proposal_ids), on_ballot_costs(cycle))
        try:
            # A first ballot is one INSERT; when the voter has one (ON CONFLICT on
            # uq_ballot_cycle_voter: nothing inserted, after waiting for any insert in flight
            # to commit or roll back), it is read under its row lock and replaced below.
            ballot = new = _insert_ballot(voter, cycle, now)
            if new is None:
                ballot = _existing(voter, cycle, lock=True)
            if ballot is None:  # the conflicting ballot went away between the two statements
                raise IntegrityError("ballot vanished", None, Exception("retry"))
            if ballot is new:
                pass  # a first ballot: its items follow
            elif ballot.channel != ONLINE:
                raise already_voted()
            elif cycle.ballot_style == BallotStyle.SINGLE.value:
                raise Conflict("ballot_final",
                               N_("Your ballot has been cast and is final: in this cycle it cannot be changed."))
            else:
                # One statement, under the row lock: whatever items exist now go, however they got there.
                db.session.execute(delete(BallotItem).where(BallotItem.ballot_id == ballot.id),
                                   execution_options={"synchronize_session": False, "within_cycle": cycle.id})
                db.session.execute(update(Ballot).where(Ballot.id == ballot.id).values(updated_at=now),
                                   execution_options={"synchronize_session": False, "within_cycle": cycle.id})
                set_committed_value(ballot, "updated_at", now)
            # Exactly what is stored: the ballot's row lock kept every other writer out since the
            # DELETE above (or the ballot is new), so its items are the ones just written.
            set_committed_value(ballot, "items", _insert_items(ballot, chosen, cycle))
            # SQLite has no row locks: now that this transaction holds the write lock, make sure
            # the cycle was not closed (and counted) while we were choosing. (PostgreSQL: the
            # shared row lock taken first already keeps the close waiting for this ballot.)
            if db.session.get_bind().dialect.name != "postgresql":
                phases.require(lock_cycle(cycle_id), "vote")
            return ballot
        except IntegrityError:
            # Another request of the same voter got there first: start again from what it stored.
            db.session.rollback()
            voter, cycle = _reload(voter_id, cycle_id)
    raise Conflict("ballot_busy", N_("Your ballot is being saved by another request. Please try again."))


def _insert_ballot(voter, cycle, now):
    """A new ballot row, written with one INSERT … ON CONFLICT DO NOTHING RETURNING instead of
    the unit of work (the freeze guard checks it: publication._refuse_statement_inserts), then
    put in the session as the persistent object it is; None when the voter has a ballot."""
    values = {"cycle_id": cycle.id, "voter_id": voter.id, "territory_id": voter.territory_id,
              "receipt": new_receipt(), "secret": new_secret(), "cast_at": now, "updated_at": now,
              "channel": ONLINE}
    table = Ballot.__table__
    dialect = db.session.get_bind().dialect.name
    statement = DIALECT_INSERT.get(dialect, DIALECT_INSERT["postgresql"])(table).values(**values)
    statement = statement.on_conflict_do_nothing(index_elements=["cycle_id", "voter_id"])
    ballot_id = db.session.execute(statement.returning(table.c.id),
                                   execution_options={"within_cycle": cycle.id}).scalar()
    if ballot_id is None:
        return None
    return _persistent(Ballot(id=ballot_id, **values))


def _insert_items(ballot, chosen, cycle):
    """The ballot's items (chosen: proposal ids in ballot order), one INSERT … RETURNING."""
    table = BallotItem.__table__
    rows = db.session.execute(
        table.insert().values([{"ballot_id": ballot.id, "proposal_id": pid} for pid in chosen])
        .returning(table.c.id, table.c.proposal_id),
        execution_options={"within_cycle": cycle.id}).all()
    ids = {proposal_id: item_id for item_id, proposal_id in rows}
    return [_persistent(BallotItem(id=ids[pid], ballot_id=ballot.id, proposal_id=pid)) for pid in chosen]


def _persistent(obj):
    """An object whose row was just inserted by a statement, as if loaded from the database."""
    make_transient_to_detached(obj)
    db.session.add(obj)
    return obj


def already_voted():
    """The refusal for a second ballot by the same resident through another channel."""
    return Conflict("already_voted", N_("This resident has already voted in this cycle: one ballot per "
                                        "person, online or on paper."))


def lock_cycle(cycle_id):
    """The cycle, re-read under a shared row lock (PostgreSQL): closing the cycle updates the
    row first, so it waits for ballots in flight, and ballots after it see `closed`."""
    return db.session.scalar(select(Cycle).where(Cycle.id == cycle_id).with_for_update(read=True, of=Cycle)
                             .options(joinedload(Cycle.territory))  # the residence check reads it
                             .execution_options(populate_existing=True))


def _reload(voter_id, cycle_id):
    from app.models import User

    return db.session.get(User, voter_id), db.session.get(Cycle, cycle_id)


def get_ballot(voter, cycle):
    """The voter's ballot in this cycle, or None."""
    if voter is None or not getattr(voter, "is_authenticated", True):
        return None
    return db.session.scalar(select(Ballot).where(Ballot.cycle_id == cycle.id,
                                                  Ballot.voter_id == voter.id))


def require_ballot(voter, cycle):
    ballot = get_ballot(voter, cycle)
    if ballot is None:
        raise NotFound("no_ballot", N_("You have not voted in this cycle."))
    return ballot


def ballot_total(proposals):
    return sum(p.cost for p in proposals)


# --- Receipt codes: anyone may check that a ballot is stored, and once published, counted ----

RECEIPT_LENGTH = RECEIPT_GROUPS * RECEIPT_GROUP_LENGTH
ONLINE = Channel.ONLINE.value  # the channel of ballots cast on the site or through the API


# Cyrillic capitals that look like Latin ones: a code typed on a kk or ru keyboard still matches.
CYRILLIC_LOOKALIKES = str.maketrans("АВЕКМНРСТУХ", "ABEKMHPCTYX")


def normalise_receipt(text):
    """The stored form of a typed code ('k7qx 3m9p-wt2r—8hza' → 'K7QX-3M9P-WT2R-8HZA'), or None
    when it cannot be one: case, spaces, any kind of dash and Cyrillic look-alikes do not matter."""
    if not isinstance(text, str):
        return None
    symbols = "".join(ch for ch in text.upper().translate(CYRILLIC_LOOKALIKES) if ch.isalnum())
    if len(symbols) != RECEIPT_LENGTH or any(ch not in RECEIPT_ALPHABET for ch in symbols):
        return None
    return "-".join(symbols[i:i + RECEIPT_GROUP_LENGTH] for i in range(0, RECEIPT_LENGTH, RECEIPT_GROUP_LENGTH))


def ballot_leaf(ballot):
    """The ballot's leaf in the seal (app/tally/seal.py): its cycle, choices and secret code,
    nothing channel-specific."""
    return merkle.leaf_text(ballot.cycle_id, [item.proposal_id for item in ballot.items], ballot.secret)


def ballot_leaf_hash(ballot):
    return merkle.leaf_hash(ballot_leaf(ballot))


def ballot_in_seal(ballot):
    """(sealed, proof): sealed is None before the cycle's ballots are sealed, False when this
    ballot's leaf is not in the seal (it was altered after close); the proof (leaf hash, index,
    audit path, root, leaves) carries no leaf, so neither the choices nor the secret."""
    stored = db.session.get(BallotSeal, ballot.cycle_id)
    if stored is None:
        return None, None
    proof = merkle.proof_of(ballot_leaf_hash(ballot), stored.leaf_hashes or [])
    return proof is not None, proof


@dataclass(frozen=True)
class ReceiptCheck:
    """What a receipt code may tell anyone: never the choices, never the voter."""

    cycle: Cycle
    stored: bool
    counted: bool | None  # None until the results are published
    channel: str
    sealed: bool | None = None  # None until voting closes and the ballots are sealed
    proof: dict | None = None  # the ballot's place in the seal, without its leaf

    def as_json(self):
        return {"cycle": self.cycle.id, "stored": self.stored, "counted": self.counted,
                "channel": self.channel, "sealed": self.sealed, "proof": self.proof}


def check_receipt(code):
    """Whether the ballot with this receipt code is stored and, once the cycle's results are
    published, whether it went into the count (it did when the count holds a figure for at
    least one of its choices). Raises NotFound `receipt_unknown` for any other code."""
    receipt = normalise_receipt(code)
    ballot = db.session.scalar(select(Ballot).where(Ballot.receipt == receipt)) if receipt else None
    if ballot is None:
        raise NotFound("receipt_unknown", N_("No ballot has this receipt code. Check the code and try again."))
    cycle = ballot.cycle
    counted = None
    if phases.allows(cycle, "see_counts_public"):
        counted = db.session.scalar(
            select(func.count(ProposalResult.proposal_id))
            .join(BallotItem, BallotItem.proposal_id == ProposalResult.proposal_id)
            .where(BallotItem.ballot_id == ballot.id, ProposalResult.cycle_id == cycle.id)) > 0
    sealed, proof = ballot_in_seal(ballot)
    return ReceiptCheck(cycle=cycle, stored=True, counted=counted, channel=ballot.channel or ONLINE,
                        sealed=sealed, proof=proof)
