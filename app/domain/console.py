"""The staff console as a to-do list: for each cycle, what needs doing now and what blocks the
next phase.

Plain data for the page to word and link (app/templates/staff/dashboard.html): every count and
date comes from here, every blocker from the guard the move itself runs (lifecycle), so the
console never promises a move the domain would refuse.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.domain import access, audit, counting, lifecycle, open_data, phases, publication
from app.extensions import db
from app.models import AuditEntry, Cycle, EntryStatus, ImplementationStatus, Phase, Proposal, ProposalStatus

# Approved projects get an implementation update at least this often until they are done.
IMPLEMENTATION_UPDATE_EVERY = timedelta(days=30)
REPORTED = "proposal.deadline_reported"  # audit action: staff told a revision deadline passed
FINISHED = (ImplementationStatus.COMPLETED.value, ImplementationStatus.CANCELLED.value)


@dataclass
class Task:
    """One thing to do: `kind` names it for the page; `proposals` are the ones concerned."""

    kind: str
    count: int = 0
    date: datetime | None = None
    proposals: list = field(default_factory=list)


@dataclass
class CycleTodo:
    cycle: object
    next_phase: str | None
    tasks: list
    blocker: object = None       # the DomainError the move to next_phase would raise now
    off_schedule: tuple | None = None  # ("early"|"late", moment) if the move now needs a confirmation
    opens_at: datetime | None = None   # when the schedule sets the next move

    @property
    def ready(self):
        return self.next_phase is not None and self.blocker is None


def _review_tasks(cycle, now):
    tasks = []
    waiting = [p for p in cycle.proposals if p.status == ProposalStatus.SUBMITTED.value]
    if waiting:
        tasks.append(Task("review", len(waiting), proposals=waiting))
    revising = [p for p in cycle.proposals if p.status == ProposalStatus.REVISION_REQUESTED.value]
    due = [p for p in revising if p.revision_deadline is None or p.revision_deadline >= now]
    overdue = [p for p in revising if p.revision_deadline is not None and p.revision_deadline < now]
    if due:
        dates = [p.revision_deadline for p in due if p.revision_deadline is not None]
        tasks.append(Task("revisions_due", len(due), date=max(dates) if dates else None, proposals=due))
    if overdue:
        tasks.append(Task("revisions_overdue", len(overdue), proposals=overdue))
    if not waiting and not revising and not lifecycle.protocol_is_final(cycle) and phases.allows(cycle, "review"):
        tasks.append(Task("protocol"))
    return tasks


def implementation_due(cycle, now):
    """Approved proposals, not yet completed or cancelled, with no implementation update in the
    last month (or none at all since publication)."""
    due = []
    for proposal in cycle.proposals:
        conclusion = proposal.conclusion
        if conclusion is None or conclusion.decision != "approved":
            continue
        updates = open_data.implementation_list(proposal)
        if updates and updates[-1].status in FINISHED:
            continue
        latest = max((u.created_at for u in updates), default=None)
        if latest is None or now - latest >= IMPLEMENTATION_UPDATE_EVERY:
            due.append(proposal)
    return due


def _paper_tasks(cycle):
    """Paper ballots that are not stored yet: they count only once settled, before the close."""
    from app.domain import paper

    tasks = []
    for kind, status in (("paper_mismatch", EntryStatus.MISMATCH), ("paper_awaiting", EntryStatus.AWAITING_SECOND)):
        waiting = paper.entries(cycle, status.value)
        if waiting:
            tasks.append(Task(kind, len(waiting)))
    return tasks


def _phase_tasks(cycle, now):
    phase = phases.phase_of(cycle)
    live = [p for p in cycle.proposals if p.status != ProposalStatus.WITHDRAWN.value]
    if phase == Phase.PROPOSALS:
        return [Task("submitted", len(live), proposals=live)]
    if phase == Phase.REVIEW:
        return _review_tasks(cycle, now)
    if phase == Phase.VOTING:
        tasks = [Task("voting_until", date=cycle.voting_close)] if cycle.voting_close else []
        return tasks + _paper_tasks(cycle)
    if phase == Phase.CLOSED and cycle.counted_at is None:
        state = counting.count_state(cycle) or {"state": counting.QUEUED, "progress": 0}
        return [Task("count_failed" if state["state"] == counting.FAILED else "counting", state["progress"])]
    if phase == Phase.CLOSED:
        missing = publication.missing_conclusions(cycle)
        return [Task("conclusions_missing", len(missing), proposals=missing)] if missing else [Task("publish")]
    if phase == Phase.PUBLISHED:
        due = implementation_due(cycle, now)
        return [Task("implementation_due", len(due), proposals=due)] if due else []
    return [Task("open_proposals")]


def cycle_todo(actor, cycle, now=None):
    """What `actor` (staff of the cycle's territory) has to do on the cycle now."""
    now = now or datetime.now(timezone.utc)
    following = phases.next_phase(cycle)
    todo = CycleTodo(cycle, following.value if following else None, _phase_tasks(cycle, now))
    if following is None:
        return todo
    # The blocker ignores the schedule (a confirmation overrides it), then the schedule is told apart.
    todo.blocker = access.refusal(lifecycle.require_can_advance, actor, cycle, following.value, now,
                                  confirm_off_schedule=True)
    todo.off_schedule = lifecycle.off_schedule(cycle, following, now)
    opens = lifecycle.SCHEDULE_WINDOWS.get(following, (None, None))[0]
    todo.opens_at = getattr(cycle, opens) if opens else None
    return todo


def console(actor, cycles, now=None):
    """The to-do list of every cycle given (the staff member's managed cycles), unfinished first."""
    now = now or datetime.now(timezone.utc)
    todos = [cycle_todo(actor, c, now) for c in cycles]
    return sorted(todos, key=lambda t: t.cycle.phase == Phase.PUBLISHED.value and not t.tasks)


def cycle_sections(cycle):
    """Which parts of the staff cycle page the phase calls for."""
    return {
        "awaiting_review": phases.phase_of(cycle) in (Phase.DRAFT, Phase.PROPOSALS),
        "review": phases.allows(cycle, "review"),
        "protocol": phases.allows(cycle, "publish_protocol"),
        "counts": phases.allows(cycle, "see_counts_staff") and cycle.counted_at is not None,
        "counting": phases.allows(cycle, "see_counts_staff") and cycle.counted_at is None,
        "conclusions": phases.allows(cycle, "conclude") and cycle.counted_at is not None,
        "implementation": phases.allows(cycle, "track_implementation"),
    }


def count_summary(cycle):
    """The count in numbers, for staff once voting has closed."""
    admitted = [p for p in cycle.proposals if p.status == ProposalStatus.ADMITTED.value]
    results = [p.result for p in admitted if p.result is not None]
    selected = [r for r in results if r.selected]
    return {"voters": cycle.voters_count or 0, "admitted": len(admitted),
            "eligible": sum(1 for r in results if r.eligible), "selected": len(selected),
            "selected_cost": sum(r.proposal.cost for r in selected), "budget": cycle.budget,
            "counted_at": cycle.counted_at}


def approved_proposals(cycle):
    return [p for p in cycle.proposals if p.conclusion is not None and p.conclusion.decision == "approved"]


def overdue_revisions(now=None):
    """Proposals whose revision deadline has passed, in cycles still in review, that the staff
    were not yet told about (for that deadline). Telling is recorded with `mark_reported`."""
    now = now or datetime.now(timezone.utc)
    candidates = db.session.scalars(
        select(Proposal).join(Proposal.cycle)
        .where(Cycle.phase == Phase.REVIEW.value, Proposal.status == ProposalStatus.REVISION_REQUESTED.value,
               Proposal.revision_deadline < now).order_by(Proposal.id)).all()
    if not candidates:
        return []
    reported = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == REPORTED, AuditEntry.object_type == "proposal",
        AuditEntry.object_id.in_([p.id for p in candidates]))).all()
    told = {(e.object_id, (e.after or {}).get("revision_deadline")) for e in reported}
    return [p for p in candidates if (p.id, audit.snapshot(p, ["revision_deadline"])["revision_deadline"]) not in told]


def mark_reported(proposal):
    """Remember that the staff were told this proposal's revision deadline passed."""
    audit.record(None, REPORTED, proposal, proposal.cycle.territory, None,
                 audit.snapshot(proposal, ["revision_deadline"]))
