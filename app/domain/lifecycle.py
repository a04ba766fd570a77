"""Moving a cycle through its phases, and what each move sets off.

Entering `closed` queues the count of the ballots and their seal (app.domain.counting and
app.domain.seal: a background job runs them once the close has committed, so the move returns
at once); entering `published` stamps,
digests and freezes the results (app.domain.publication). Every move is one step forward, by
staff of the territory, and is logged. This is the one place phase moves happen, so its guards
hold for pages and API alike: voting opens only when every proposal is decided and the final
admission protocol is out, and a move outside the cycle's own schedule needs a confirmation
that the audit log keeps.
"""
from datetime import datetime, timezone

from app.domain import audit, counting, paper, phases, publication
from app.domain.errors import N_, Conflict, DomainError, Np_
from app.domain.permissions import require_staff_of
from app.models import Phase, PhaseChange, ProposalStatus

# The window in which entering each phase is on schedule: (not before, not after) — names of
# the cycle's schedule fields; an unset field sets no bound.
SCHEDULE_WINDOWS = {
    Phase.PROPOSALS: ("proposals_open", "proposals_close"),
    Phase.REVIEW: ("proposals_close", "voting_open"),
    Phase.VOTING: ("voting_open", "voting_close"),
    Phase.CLOSED: ("voting_close", None),
}
UNDECIDED = (ProposalStatus.SUBMITTED.value, ProposalStatus.REVISION_REQUESTED.value)


def _target(cycle, to_phase):
    try:
        target = Phase(to_phase)
    except ValueError:
        raise DomainError("unknown_phase", N_("Unknown phase."), field="phase")
    if target != phases.next_phase(cycle):
        raise Conflict("wrong_phase", N_("A cycle moves only to its next phase."))
    return target


def undecided_proposals(cycle):
    """Proposals still waiting for the council: submitted, or returned for a revision."""
    return [p for p in cycle.proposals if p.status in UNDECIDED]


def protocol_is_final(cycle):
    """The admission protocol was published after the council's last decision."""
    published = cycle.protocol_published_at
    if published is None:
        return False
    decided = [p.reviewed_at for p in cycle.proposals if p.reviewed_at is not None]
    return not decided or max(decided) <= published


def require_ready_for_voting(cycle):
    """Every proposal decided (409 proposals_undecided, listing them), then the final protocol
    published after the last decision (409 protocol_missing)."""
    undecided = undecided_proposals(cycle)
    if undecided:
        error = Conflict("proposals_undecided",
                         N_("Voting cannot open while proposals wait for a decision or a revision: %(list)s."),
                         list=", ".join(f"№{p.id}" for p in undecided))
        error.fields = {"proposals": [(N_("Waiting for a decision: №%(id)s %(title)s"), {"id": p.id, "title": p.title})
                                      for p in undecided]}
        error.proposals = [p.id for p in undecided]
        raise error
    if not protocol_is_final(cycle):
        raise Conflict("protocol_missing", N_("Voting cannot open before the final admission protocol "
                                              "is published, after the last decision."))


def require_paper_settled(cycle):
    """Voting closes only when no paper ballot waits for its second entry or for a third staff
    member (409 paper_entries_pending): an entry not stored by the close would be lost."""
    waiting = paper.pending_entries(cycle)
    if waiting:
        raise Conflict("paper_entries_pending",
                       Np_("Voting cannot close while %(n)s paper ballot waits for its second entry or for a "
                           "third staff member: store, settle or void it first.",
                           "Voting cannot close while %(n)s paper ballots wait for their second entry or for a "
                           "third staff member: store, settle or void them first."),
                       n=len(waiting))


def off_schedule(cycle, target, now):
    """("early", moment) or ("late", moment) when entering `target` now leaves the cycle's
    schedule; None when it keeps to it (or the schedule says nothing)."""
    opens, closes = SCHEDULE_WINDOWS.get(target, (None, None))
    start = getattr(cycle, opens) if opens else None
    end = getattr(cycle, closes) if closes else None
    if start is not None and now < start:
        return "early", start
    if end is not None and now > end:
        return "late", end
    return None


def require_on_schedule(cycle, target, now, confirmed=False):
    """A move outside the schedule needs an explicit confirmation (409 off_schedule)."""
    found = off_schedule(cycle, target, now)
    if found and not confirmed:
        when, moment = found
        message = (N_("The cycle's schedule sets this move for %(moment)s or later; confirm to move it early.")
                   if when == "early" else
                   N_("The cycle's schedule set this move for no later than %(moment)s; confirm to move it late."))
        raise Conflict("off_schedule", message, moment=moment, when=when)
    return found


def require_can_advance(actor, cycle, to_phase, now=None, confirm_off_schedule=False):
    """Everything a move checks before it happens; the pages ask this to show what blocks it."""
    require_staff_of(actor, cycle.territory)
    target = _target(cycle, to_phase)
    now = now or datetime.now(timezone.utc)
    if target == Phase.VOTING:
        require_ready_for_voting(cycle)
    elif target == Phase.CLOSED:
        require_paper_settled(cycle)
    elif target == Phase.PUBLISHED:
        publication.require_can_publish(actor, cycle)
    return target, require_on_schedule(cycle, target, now, confirm_off_schedule)


def advance(cycle, actor, to_phase, now=None, confirm_off_schedule=False):
    """Move the cycle one step forward, running what entering the new phase requires."""
    now = now or datetime.now(timezone.utc)
    target, outside = require_can_advance(actor, cycle, to_phase, now, confirm_off_schedule)
    before = cycle.phase
    if target == Phase.CLOSED:
        counting.queue_count(cycle, now=now)  # the count runs as a job once this close commits
    elif target == Phase.PUBLISHED:
        publication.publish_cycle(cycle, actor, now=now)  # checks every admitted proposal is concluded
    cycle.phase = target.value
    cycle.phase_changes.append(PhaseChange(from_phase=before, to_phase=target.value, actor=actor, at=now))
    after = {"phase": target.value}
    if outside:
        after.update(off_schedule=outside[0], scheduled=outside[1], confirmed=True)
    audit.record(actor, "cycle.phase", cycle, cycle.territory, {"phase": before}, after)
    return cycle


def publish(cycle, actor, now=None):
    """The publish action: move a closed cycle into `published` (checks, stamps, freezes)."""
    return advance(cycle, actor, Phase.PUBLISHED.value, now=now)
