"""Publication of results and conclusions, and the freeze that follows it.

`publish_cycle` runs when lifecycle.advance moves a cycle into `published` (lifecycle.publish is
the one-step action). It refuses while any admitted proposal lacks a conclusion, stamps the
time and the publisher, and stores the SHA-256 digest of the published data (recipe in
app.domain.open_data). From then on nothing in the results may change: the domain functions
refuse with 409, and a SQLAlchemy `before_flush` guard (plus a guard on bulk UPDATE/DELETE)
refuses any change that slipped past them (INSERT statements run through the session
too), whichever page, API, CLI or admin tool tried it.
The app factory installs that guard explicitly (`install_freeze_guard`).
"""
from datetime import datetime, timezone

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from app.domain import counting, phases, seal
from app.domain.errors import N_, Conflict
from app.domain.open_data import compute_digest
from app.domain.permissions import require_staff_of
from app.models import (
    Ballot,
    BallotItem,
    BallotSeal,
    Conclusion,
    Cycle,
    ImplementationUpdate,
    Phase,
    Proposal,
    ProposalResult,
    ProposalStatus,
)


def missing_conclusions(cycle):
    """Admitted proposals of the cycle that have no conclusion yet."""
    return [p for p in cycle.proposals
            if p.status == ProposalStatus.ADMITTED.value and p.conclusion is None]


def require_can_publish(actor, cycle):
    """Staff of the territory publish a closed cycle whose admitted proposals are all counted
    and concluded."""
    require_staff_of(actor, cycle.territory)
    phases.require(cycle, "publish")
    counting.require_counted(cycle)
    missing = missing_conclusions(cycle)
    if missing:
        error = Conflict("conclusions_missing",
                         N_("Every admitted proposal needs a conclusion before publication "
                            "(missing: %(count)s)."), count=len(missing))
        error.fields = {"proposals": [(N_("No conclusion yet: #%(id)s %(title)s"),
                                       {"id": p.id, "title": p.title}) for p in missing]}
        error.missing = [p.id for p in missing]
        raise error
    uncounted = [p for p in cycle.proposals
                 if p.status == ProposalStatus.ADMITTED.value and p.result is None]
    if uncounted:
        raise Conflict("not_counted", N_("The votes for this proposal have not been counted."))


def publish_cycle(cycle, actor, now=None):
    """Stamp and digest a closed cycle; lifecycle.advance sets the phase right after."""
    require_can_publish(actor, cycle)
    cycle.published_at = now or datetime.now(timezone.utc)
    cycle.published_by = actor
    seal.ensure_sealed(cycle, now=cycle.published_at)  # the seal's root is part of the digest
    cycle.results_digest = compute_digest(cycle)
    return cycle


# --- The freeze -----------------------------------------------------------------------------

FROZEN_MESSAGE = N_("The results of this cycle are published and can no longer be changed.")


class ResultsFrozen(Conflict):
    def __init__(self):
        super().__init__("results_published", FROZEN_MESSAGE)


def _persisted_phase(cycle):
    """The phase as stored before this flush: a cycle being published right now is not frozen
    yet, a published cycle being moved back is."""
    state = inspect(cycle)
    if state.pending or state.transient:
        return None
    history = state.attrs.phase.history
    if history.deleted:
        return history.deleted[0]
    return cycle.phase


def _frozen(session, cycle_id):
    if cycle_id is None:
        return False
    cycle = session.get(Cycle, cycle_id)
    return cycle is not None and _persisted_phase(cycle) == Phase.PUBLISHED.value


def _cycle_id_of(session, obj):
    if isinstance(obj, Cycle):
        return obj.id
    if isinstance(obj, (Proposal, ProposalResult, Ballot, BallotSeal)):
        if obj.cycle_id is not None:
            return obj.cycle_id
        return getattr(getattr(obj, "cycle", None), "id", None)
    if isinstance(obj, (Conclusion, ImplementationUpdate)):
        proposal = obj.proposal or (session.get(Proposal, obj.proposal_id) if obj.proposal_id else None)
        return proposal.cycle_id if proposal is not None else None
    if isinstance(obj, BallotItem):
        ballot = obj.ballot or (session.get(Ballot, obj.ballot_id) if obj.ballot_id else None)
        return ballot.cycle_id if ballot is not None else None
    return None


GUARDED = (Cycle, Proposal, ProposalResult, Conclusion, Ballot, BallotItem, BallotSeal)
_GUARDED_TABLES = frozenset(model.__tablename__ for model in GUARDED + (ImplementationUpdate,))


def _changed_columns(obj):
    state = inspect(obj)
    return {attr.key for attr in state.mapper.column_attrs
            if state.attrs[attr.key].history.has_changes()}


def refuse_changes_to_published_results(session, flush_context, instances):
    with session.no_autoflush:
        for obj in list(session.dirty):
            if isinstance(obj, ImplementationUpdate) and _changed_columns(obj):
                raise Conflict("implementation_append_only",
                               N_("Implementation updates are never edited: add a new update."))
            if not isinstance(obj, GUARDED) or not session.is_modified(obj):
                continue
            changed = _changed_columns(obj)
            if isinstance(obj, Proposal):
                changed.discard("updated_at")
            if changed and _frozen(session, _cycle_id_of(session, obj)):
                raise ResultsFrozen()
        for obj in list(session.deleted):
            if isinstance(obj, ImplementationUpdate):
                raise Conflict("implementation_append_only",
                               N_("Implementation updates are never edited: add a new update."))
            if isinstance(obj, GUARDED) and _frozen(session, _cycle_id_of(session, obj)):
                raise ResultsFrozen()
        for obj in list(session.new):
            if isinstance(obj, (ProposalResult, Conclusion, Ballot, BallotItem, Proposal, BallotSeal)) \
                    and _frozen(session, _cycle_id_of(session, obj)):
                raise ResultsFrozen()


# Bulk UPDATE/DELETE statements bypass the unit of work; refuse those touching published rows.
_BULK_CYCLE_COLUMN = {ProposalResult: ProposalResult.cycle_id, Proposal: Proposal.cycle_id,
                      Ballot: Ballot.cycle_id, BallotSeal: BallotSeal.cycle_id}


def _within_open_cycle(session, cycle_id):
    """A bulk statement whose caller says it touches only rows of this cycle (execution option
    `within_cycle`), a cycle this session holds, read under a row lock, and not published: no
    count query is needed (voting.cast_ballot replacing a ballot's items, on every replacement)."""
    if cycle_id is None:
        return False
    cycle = session.identity_map.get(inspect(Cycle).identity_key_from_primary_key((cycle_id,)))
    return cycle is not None and _persisted_phase(cycle) != Phase.PUBLISHED.value


def _plain(key, value):
    return getattr(key, "key", key), getattr(value, "value", value)  # Column/str, BindParameter/value


def _insert_rows(statement, params):
    """The rows an INSERT writes, as {column name: value}: its parameters and its VALUES."""
    rows = list(params) if isinstance(params, (list, tuple)) else [params or {}]
    inline = dict(_plain(k, v) for k, v in (getattr(statement, "_values", None) or {}).items())
    for block in getattr(statement, "_multi_values", ()) or ():
        for row in block:
            if isinstance(row, dict):
                rows.append(dict(_plain(k, v) for k, v in row.items()))
            else:  # positional: the table's columns in order
                rows.append(dict(_plain(c, v) for c, v in zip(statement.table.columns, row)))
    return [{**inline, **row} for row in rows] if inline else rows


def _refuse_statement_inserts(orm_execute_state):
    """INSERT statements run through the session bypass `before_flush` (voting.cast_ballot
    writes a ballot and its items so, without the unit of work). One into a guarded table that
    names its cycle (execution option `within_cycle`) must name a cycle this session holds under
    its row lock and not published; otherwise the cycles (or ballots) in its parameters are
    checked, one query."""
    table = getattr(orm_execute_state.statement, "table", None)
    if table is None or table.name not in _GUARDED_TABLES:
        return
    session = orm_execute_state.session
    cycle_id = orm_execute_state.execution_options.get("within_cycle")
    if cycle_id is not None:
        if not _within_open_cycle(session, cycle_id):
            raise ResultsFrozen()
        return
    rows = _insert_rows(orm_execute_state.statement, orm_execute_state.parameters)
    cycles = {row.get("cycle_id") for row in rows} - {None}
    ballots = {row.get("ballot_id") for row in rows} - {None}
    published = select(Cycle.id).where(Cycle.phase == Phase.PUBLISHED.value)
    with session.no_autoflush:
        if cycles and session.execute(select(func.count()).select_from(Cycle).where(
                Cycle.id.in_(cycles), Cycle.phase == Phase.PUBLISHED.value)).scalar():
            raise ResultsFrozen()
        if ballots and session.execute(select(func.count()).select_from(Ballot).where(
                Ballot.id.in_(ballots), Ballot.cycle_id.in_(published))).scalar():
            raise ResultsFrozen()


def refuse_bulk_changes_to_published_results(orm_execute_state):
    if orm_execute_state.is_insert:
        _refuse_statement_inserts(orm_execute_state)
        return
    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    mapper = orm_execute_state.bind_mapper
    entity = mapper.class_ if mapper is not None else None
    statement = orm_execute_state.statement
    session = orm_execute_state.session
    if _within_open_cycle(session, orm_execute_state.execution_options.get("within_cycle")):
        return
    published = select(Cycle.id).where(Cycle.phase == Phase.PUBLISHED.value)
    if entity is Cycle:
        query = select(func.count()).select_from(Cycle).where(Cycle.phase == Phase.PUBLISHED.value)
    elif entity in _BULK_CYCLE_COLUMN:
        query = select(func.count()).select_from(entity).where(
            _BULK_CYCLE_COLUMN[entity].in_(published))
    elif entity in (Conclusion, ImplementationUpdate):
        query = select(func.count()).select_from(entity).where(entity.proposal_id.in_(
            select(Proposal.id).where(Proposal.cycle_id.in_(published))))
    elif entity is BallotItem:
        query = select(func.count()).select_from(BallotItem).where(BallotItem.ballot_id.in_(
            select(Ballot.id).where(Ballot.cycle_id.in_(published))))
    else:
        return
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    with session.no_autoflush:
        touched = session.execute(query).scalar()
    if touched:
        raise ResultsFrozen()


def install_freeze_guard():
    """Refuse changes to published results in every session (idempotent; called by create_app)."""
    for name, listener in (("before_flush", refuse_changes_to_published_results),
                           ("do_orm_execute", refuse_bulk_changes_to_published_results)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
