"""The count at close, the ten-voter rule, and who may see counts.

The rule at the heart of the programme (Concept of local self-government, on cities): a project
proposal voted for by fewer than ten people of the administrative-territorial unit may not be
implemented. `is_eligible` is the one place that says so; everything else calls it.

Counting is deterministic: proposals are read in id order, the ballots reach the engine as
classes of identical ballots in a fixed order (compute_count), the counting engine (app.tally)
breaks ties by its documented key, and nothing depends on time or randomness, so `recount` can
recompute a stored count and name every difference. The count runs as a background job after
the close has committed (see "The count as a background job" below).
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, delete, func, literal_column, select, text, update

from app.domain import audit
from app.domain.errors import N_, Conflict
from app.domain.permissions import require_staff_of
from app.extensions import db
from app.models import (
    Ballot,
    BallotItem,
    CountingRule,
    Cycle,
    Phase,
    PhaseChange,
    Proposal,
    ProposalResult,
    ProposalStatus,
    Territory,
)
from app.models.cycle import NATIONAL_MIN_VOTERS

# The cycle's rule key → the counting engine's rule key.
ENGINE_RULES = {CountingRule.GREEDY.value: "greedy", CountingRule.MES.value: "mes"}


def minimum_voters(min_voters):
    """The cycle's minimum, never below the national floor of ten."""
    return max(int(min_voters or 0), NATIONAL_MIN_VOTERS)


def is_eligible(distinct_voters_from_territory, min_voters):
    """True when enough residents of the unit voted for a proposal for it to be implemented."""
    return distinct_voters_from_territory >= minimum_voters(min_voters)


def counts_for_minimum(cycle, home_path):
    """Whether a ballot cast from the home unit at `home_path` counts towards the minimum: the
    voter lived in the cycle's territory or a unit inside it. ballots.pb marks these ballots
    (`in_territory`) so that a recount applies the same rule."""
    return home_path.startswith(cycle.territory.path)


def counts_for_minimum_clause(cycle):
    """counts_for_minimum as SQL over Territory (the voter's home unit), for the count that the
    database groups (ballot_classes): the same rule, in the one place beside it."""
    return Territory.path.startswith(cycle.territory.path, autoescape=True)


@dataclass
class ProposalCount:
    proposal_id: int
    cost: int
    votes: int = 0
    voters_in_territory: int = 0
    eligible: bool = False
    selected: bool = False
    rank: int | None = None
    price_per_voter: str | None = None

    def as_tuple(self):
        return (self.votes, self.voters_in_territory, self.eligible, self.selected, self.rank,
                self.price_per_voter)


@dataclass
class CycleCount:
    voters: int
    proposals: list = field(default_factory=list)  # ProposalCount in proposal id order

    @property
    def by_id(self):
        return {p.proposal_id: p for p in self.proposals}


def _run_engine(projects, ballots, budget, rule):
    """The one call into the counting engine (app.tally).

    projects: [(proposal_id, cost, eligible)]; ballots: [(proposal_ids, weight)], each distinct
    ballot once with the number of voters who cast it; returns (winners in order of
    selection, {proposal_id: price_per_voter as exact text or None}).
    Ineligible projects are passed flagged ineligible rather than dropped, so every ballot still
    counts as a voter (MES gives each voter an equal share of the budget)."""
    from app.tally import Ballot as EngineBallot
    from app.tally import Election, Project, count

    election = Election(
        projects=[Project(id=str(pid), cost=cost, eligible=bool(eligible)) for pid, cost, eligible in projects],
        ballots=[EngineBallot(projects=[str(pid) for pid in ids], weight=weight) for ids, weight in ballots],
        budget=budget,
    )
    result = count(election, ENGINE_RULES[rule])
    winners = [int(pid) for pid in result.winners]
    prices = {int(pid): (None if figures.price_per_voter is None else str(figures.price_per_voter))
              for pid, figures in result.projects.items()}
    return winners, prices


def _admitted(cycle):
    return db.session.scalars(
        select(Proposal).where(Proposal.cycle_id == cycle.id,
                               Proposal.status == ProposalStatus.ADMITTED.value)
        .order_by(Proposal.id)).all()


def _finish(cycle, figures, ballots, voters):
    """Eligibility from the figures, then the engine over the ballots: the count's result."""
    for count_for in figures.values():
        count_for.eligible = is_eligible(count_for.voters_in_territory, cycle.min_voters)
    if figures:
        winners, prices = _run_engine(
            [(pid, f.cost, f.eligible) for pid, f in figures.items()], ballots, cycle.budget, cycle.rule)
        for rank, pid in enumerate(winners, start=1):
            # Belt and braces: whatever the engine says, an ineligible proposal is never selected.
            if figures[pid].eligible:
                figures[pid].selected = True
                figures[pid].rank = rank
                figures[pid].price_per_voter = prices.get(pid)
    return CycleCount(voters=voters, proposals=list(figures.values()))


MASK_BITS = 62  # proposals per bit mask: 2**61 is the highest bit a signed 64-bit sum holds


def ballot_classes(cycle, proposal_ids):
    """The cycle's ballots as classes, counted by the database: [(inside, masks, voters)].

    Each ballot becomes one bit mask per MASK_BITS proposals of `proposal_ids` (bit i of mask k:
    it lists proposal_ids[k * MASK_BITS + i]; other proposals, no longer on the ballot, set no
    bit) and `inside`, 1 when the voter's home is in the cycle's territory. A ballot lists a
    proposal at most once (uq_ballot_item), so the sum of its bits is their OR: plain SQL on
    SQLite and PostgreSQL alike. Ballots are then grouped by (inside, masks): a million ballots
    of thirty proposals come back as a few thousand rows."""
    chunks = [proposal_ids[k:k + MASK_BITS] for k in range(0, len(proposal_ids), MASK_BITS)] or [[]]
    masks = []
    for number, chunk in enumerate(chunks):
        bits = case({pid: literal_column(str(1 << i)) for i, pid in enumerate(chunk)},
                    value=BallotItem.proposal_id) if chunk else literal_column("0")
        masks.append(func.coalesce(func.sum(bits), 0).label(f"mask{number}"))
    # One row per ballot, read in ballot id order as the indexes give them (no sort): `inside`
    # is the same on every row of a ballot, so max() of it is its value.
    inside = func.max(case((counts_for_minimum_clause(cycle), 1), else_=0))
    per_ballot = (
        select(inside.label("inside"), *masks)
        .select_from(Ballot)
        .join(Territory, Territory.id == Ballot.territory_id)
        .outerjoin(BallotItem, BallotItem.ballot_id == Ballot.id)
        .where(Ballot.cycle_id == cycle.id)
        .group_by(Ballot.id)).subquery()
    if db.session.get_bind().dialect.name == "postgresql":
        # A single query, run once: compiling it with JIT costs more (~0.4 s) than it saves.
        db.session.execute(text("SET LOCAL jit = off"))
    mask_columns = [per_ballot.c[f"mask{number}"] for number in range(len(chunks))]
    rows = db.session.execute(
        select(per_ballot.c.inside, *mask_columns, func.count())
        .group_by(per_ballot.c.inside, *mask_columns)
        .order_by(per_ballot.c.inside, *mask_columns)).all()
    return [(int(row[0]), tuple(int(m) for m in row[1:-1]), int(row[-1])) for row in rows]


def _listed(masks, proposal_ids):
    """The proposal ids whose bits are set, in id order (proposal_ids is sorted)."""
    listed = []
    for number, mask in enumerate(masks):
        base = number * MASK_BITS
        while mask:
            low = mask & -mask
            listed.append(proposal_ids[base + low.bit_length() - 1])
            mask ^= low
    return listed


def compute_count(cycle, progress=None):
    """Count the cycle's ballots without storing anything.

    The database does the reading: it groups the ballots into classes (ballot_classes), so
    Python never holds a row per ballot and the engine gets each distinct ballot once, with its
    weight. Same figures as compute_count_reference (tests/test_counting_fast.py checks it on
    random cycles). `progress(percent)`, if given, is told how far the count has got."""
    report = progress or (lambda percent: None)
    admitted = _admitted(cycle)
    figures = {p.id: ProposalCount(proposal_id=p.id, cost=p.cost) for p in admitted}
    proposal_ids = sorted(figures)
    report(10)
    classes = ballot_classes(cycle, proposal_ids)
    report(60)
    ballots, voters = {}, 0
    for inside, masks, weight in classes:
        voters += weight
        listed = tuple(_listed(masks, proposal_ids))
        ballots[listed] = ballots.get(listed, 0) + weight  # inside and outside: one ballot class
        for pid in listed:
            figures[pid].votes += weight  # one ballot per voter: ballots are distinct voters
            if inside:
                figures[pid].voters_in_territory += weight
    ordered = sorted(ballots.items())  # a stable order: the engine's input never depends on the database's
    result = _finish(cycle, figures, ordered, voters)
    report(90)
    return result


def compute_count_reference(cycle):
    """The count as first written: one row per ballot item, one Python list per ballot. Slow
    and memory-hungry on a large city (1.66 GB for a million ballots), plain on purpose: the
    oracle the tests compare compute_count with, and the benchmark's baseline."""
    figures = {p.id: ProposalCount(proposal_id=p.id, cost=p.cost) for p in _admitted(cycle)}
    rows = db.session.execute(
        select(Ballot.id, Territory.path, BallotItem.proposal_id)
        .join(Territory, Territory.id == Ballot.territory_id)
        .outerjoin(BallotItem, BallotItem.ballot_id == Ballot.id)
        .where(Ballot.cycle_id == cycle.id)
        .order_by(Ballot.id, BallotItem.proposal_id)).all()
    ballots = {}  # ballot id -> [proposal ids], in id order
    for ballot_id, path, proposal_id in rows:
        items = ballots.setdefault(ballot_id, [])
        if proposal_id is None or proposal_id not in figures:
            continue  # an empty ballot, or a proposal no longer on the ballot
        items.append(proposal_id)
        count_for = figures[proposal_id]
        count_for.votes += 1  # one ballot per voter: ballots are distinct voters
        if counts_for_minimum(cycle, path):
            count_for.voters_in_territory += 1
    return _finish(cycle, figures, [(items, 1) for items in ballots.values()], len(ballots))


# --- The count as a background job ------------------------------------------------------------
# Closing commits first (lifecycle.advance → queue_count); the count runs after that commit, in a
# job (app/jobs.py: RQ, or inline without Redis) that calls run_count. Ballots cast before the
# close hold a shared lock on the cycle row until they commit, and queue_count's UPDATE waits
# for them; a cast after it re-reads the phase under that lock and is refused. So the job, which
# starts after the close committed, reads every ballot cast before the closing instant and none
# after it.

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
COUNTS_TO_START = "qatysu.counts_to_start"  # session.info key: cycle ids to count after commit
STALE_AFTER = timedelta(minutes=15)  # a queued or running count this quiet is presumed lost


def queue_count(cycle, now=None):
    """Ask for the cycle's count once this transaction commits (the close, or a retry)."""
    now = now or datetime.now(timezone.utc)
    # Write to the cycle row first: this waits for ballots in flight (they hold a shared lock on
    # it, or SQLite's write lock), and later ballots then see `closed`.
    db.session.execute(update(Cycle).where(Cycle.id == cycle.id)
                       .values(count_state=QUEUED, count_progress=0, count_error=None, count_changed_at=now),
                       execution_options={"synchronize_session": False})
    cycle.count_state, cycle.count_progress, cycle.count_error, cycle.count_changed_at = QUEUED, 0, None, now
    pending = db.session.info.setdefault(COUNTS_TO_START, [])
    if cycle.id not in pending:
        pending.append(cycle.id)


def count_state(cycle):
    """What staff and the API see: {"state", "progress"}; None before the close."""
    if cycle.counted_at is not None:
        return {"state": DONE, "progress": 100}
    if cycle.count_state is None:
        return None
    return {"state": cycle.count_state, "progress": int(cycle.count_progress or 0)}


def require_counted(cycle):
    """Conclusions and publication wait for the count: 409 count_pending, or count_failed."""
    if cycle.counted_at is not None:
        return
    if cycle.count_state == FAILED:
        raise Conflict("count_failed", N_("The count of the ballots failed. Staff can start it again "
                                          "from the cycle's page."))
    raise Conflict("count_pending", N_("The ballots are still being counted. Conclusions and "
                                       "publication wait until the count is done."))


def may_retry(cycle, now=None):
    """A failed count, or one queued or running with no sign of life for STALE_AFTER, may be
    started again (counting is idempotent: a second run stores the same figures)."""
    if cycle.phase != Phase.CLOSED.value or cycle.counted_at is not None or cycle.count_state is None:
        return False
    if cycle.count_state == FAILED:
        return True
    now = now or datetime.now(timezone.utc)
    return cycle.count_changed_at is None or now - cycle.count_changed_at > STALE_AFTER


def retry_count(actor, cycle, now=None):
    """Staff start a failed (or lost) count again."""
    require_staff_of(actor, cycle.territory)
    if not may_retry(cycle, now):
        raise Conflict("count_not_retryable", N_("This count cannot be started again now: it is "
                                                 "done, or still running."))
    queue_count(cycle, now)
    audit.record(actor, "cycle.count_retry", cycle, cycle.territory, None, {"attempts": cycle.count_attempts})


def mark_failed(cycle_id, error):
    """Record a count that could not run (e.g. the queue was unreachable): staff may retry it."""
    _mark(cycle_id, count_state=FAILED, count_error=str(error)[:200])


def _mark(cycle_id, **values):
    values.setdefault("count_changed_at", datetime.now(timezone.utc))
    db.session.execute(update(Cycle).where(Cycle.id == cycle_id).values(**values),
                       execution_options={"synchronize_session": False})


def run_count(cycle_id, commit, then=None):
    """The job's one domain call: count the closed cycle and store the result, recording the
    state (running, progress, done) as it goes; `commit` ends each step so staff see it.
    `then(cycle)` runs in the count's transaction before it is marked done (the seal: a count is
    never done without it). Raises what the count raised, after recording the failure."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None or cycle.counted_at is not None:
        return None  # deleted, or counted by an earlier attempt
    _mark(cycle_id, count_state=RUNNING, count_progress=0, count_attempts=Cycle.count_attempts + 1)
    commit()

    def progress(percent):
        _mark(cycle_id, count_progress=percent)
        commit()

    try:
        cycle = db.session.get(Cycle, cycle_id)
        result = count_cycle(cycle, now=closing_instant(cycle), progress=progress)
        if then is not None:
            then(cycle)
        _mark(cycle_id, count_state=DONE, count_progress=100, count_error=None)
        commit()
        return result
    except Exception as error:
        db.session.rollback()
        mark_failed(cycle_id, type(error).__name__)
        commit()
        raise


def closing_instant(cycle):
    """When voting closed (the count is as of then): the latest move into `closed`."""
    moment = db.session.scalar(select(func.max(PhaseChange.at)).where(
        PhaseChange.cycle_id == cycle.id, PhaseChange.to_phase == Phase.CLOSED.value))
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # SQLite's max() returns the naive text
    return moment


def count_cycle(cycle, now=None, progress=None):
    """Count and store the result (run_count, in the job after the close). Idempotent:
    counting again replaces the stored rows with the same figures."""
    now = now or datetime.now(timezone.utc)
    result = compute_count(cycle, progress=progress)
    # Under the cycle's row lock: two attempts of one count store one after the other.
    db.session.execute(select(Cycle.id).where(Cycle.id == cycle.id).with_for_update())
    db.session.execute(delete(ProposalResult).where(ProposalResult.cycle_id == cycle.id),
                       execution_options={"synchronize_session": "fetch"})
    for figures in result.proposals:
        db.session.add(ProposalResult(
            proposal_id=figures.proposal_id, cycle_id=cycle.id, votes=figures.votes,
            voters_in_territory=figures.voters_in_territory, eligible=figures.eligible,
            selected=figures.selected, rank=figures.rank, price_per_voter=figures.price_per_voter))
    cycle.counted_at = now
    cycle.voters_count = result.voters
    db.session.flush()
    return result


def stored_results(cycle):
    return db.session.scalars(select(ProposalResult).where(ProposalResult.cycle_id == cycle.id)
                              .order_by(ProposalResult.proposal_id)).all()


def recount(cycle):
    """Recompute the count from the ballots and compare it with what is stored.

    Returns a list of differences, as plain text for operators; empty when they agree."""
    fresh = compute_count(cycle)
    stored = {row.proposal_id: row for row in stored_results(cycle)}
    differences = []
    if cycle.counted_at is None:
        differences.append("the cycle has not been counted")
    if (cycle.voters_count or 0) != fresh.voters and cycle.counted_at is not None:
        differences.append(f"voters: stored {cycle.voters_count}, recounted {fresh.voters}")
    names = ("votes", "voters_in_territory", "eligible", "selected", "rank", "price_per_voter")
    for figures in fresh.proposals:
        row = stored.pop(figures.proposal_id, None)
        if row is None:
            differences.append(f"proposal {figures.proposal_id}: no stored result")
            continue
        kept = (row.votes, row.voters_in_territory, row.eligible, row.selected, row.rank,
                row.price_per_voter)
        for name, was, now in zip(names, kept, figures.as_tuple()):
            if was != now:
                differences.append(f"proposal {figures.proposal_id}: {name} stored {was}, recounted {now}")
    for proposal_id in sorted(stored):
        differences.append(f"proposal {proposal_id}: stored but not on the ballot")
    return differences


def turnout(cycle):
    """Staff statistics: voters, ballots by home unit (with the share of its population where
    known), and the stored votes per proposal. Only for counted cycles: callers check
    access.counts_visible_to first."""
    by_unit = db.session.execute(
        select(Territory, func.count(Ballot.id))
        .join(Ballot, Ballot.territory_id == Territory.id)
        .where(Ballot.cycle_id == cycle.id)
        .group_by(Territory.id).order_by(Territory.path)).all()
    units = []
    for unit, ballots in by_unit:
        share = (ballots / unit.population) if unit.population else None
        units.append({"territory": unit, "ballots": ballots, "population": unit.population,
                      "share": share, "inside": cycle.territory.contains(unit)})
    voters = sum(u["ballots"] for u in units)
    population = cycle.territory.population
    return {
        "voters": voters,
        "population": population,
        "share": (voters / population) if population else None,
        "units": units,
        "proposals": [(row.proposal, row) for row in stored_results(cycle)],
        "counted_at": cycle.counted_at,
    }
