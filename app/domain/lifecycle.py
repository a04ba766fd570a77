"""Moving a cycle through its phases, and what each move sets off.

Entering `closed` counts the ballots (app.domain.counting); entering `published` stamps,
digests and freezes the results (app.domain.publication). Every move is one step forward, by
staff of the territory, and is logged.
"""
from datetime import datetime, timezone

from app.domain import audit, counting, phases, publication
from app.domain.errors import N_, Conflict, DomainError
from app.domain.permissions import require_staff_of
from app.models import Phase, PhaseChange


def advance(cycle, actor, to_phase, now=None):
    """Move the cycle one step forward, running what entering the new phase requires."""
    require_staff_of(actor, cycle.territory)
    try:
        target = Phase(to_phase)
    except ValueError:
        raise DomainError("unknown_phase", N_("Unknown phase."), field="phase")
    if target != phases.next_phase(cycle):
        raise Conflict("wrong_phase", N_("A cycle moves only to its next phase."))
    now = now or datetime.now(timezone.utc)
    before = cycle.phase
    if target == Phase.CLOSED:
        counting.count_cycle(cycle, now=now)
    elif target == Phase.PUBLISHED:
        publication.publish_cycle(cycle, actor, now=now)  # checks every admitted proposal is concluded
    cycle.phase = target.value
    cycle.phase_changes.append(PhaseChange(from_phase=before, to_phase=target.value, actor=actor, at=now))
    audit.record(actor, "cycle.phase", cycle, cycle.territory, {"phase": before}, {"phase": target.value})
    return cycle


def publish(cycle, actor, now=None):
    """The publish action: move a closed cycle into `published` (checks, stamps, freezes)."""
    return advance(cycle, actor, Phase.PUBLISHED.value, now=now)
