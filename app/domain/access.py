"""May this person do this now? The answers pages, templates and the API show before acting.

Each answer comes from the very function the domain calls when the action is attempted (a
`require_…` that raises a DomainError), so a page offers exactly what the domain will accept:
an "Edit" button cannot outlive the revision deadline that the edit itself enforces.
"""
from dataclasses import dataclass

from app.domain import phases
from app.domain.errors import DomainError, NotAllowed
from app.domain.permissions import is_staff_of


@dataclass(frozen=True)
class Answer:
    """Whether an action is open to someone now and, when it is not, why.

    `sign_in` is set for an anonymous visitor refused only for who they are (the phase allows
    the action): the page offers to sign in rather than a dead end."""

    allowed: bool
    reason: DomainError | None = None
    sign_in: bool = False

    def __bool__(self):
        return self.allowed


def refusal(check, *args, **kwargs):
    """The DomainError that check(*args) raises, or None when it passes."""
    try:
        check(*args, **kwargs)
    except DomainError as error:
        return error
    return None


def ask(check, user, *args, **kwargs):
    """Answer whether `user` may do what `check(user, *args)` guards (user None: anonymous).

    Checks test the state of things (phase, deadlines) before the person, so an anonymous
    visitor's refusal for who they are means a resident who signs in could go ahead."""
    error = refusal(check, user, *args, **kwargs)
    if error is None:
        return Answer(True)
    return Answer(False, error, sign_in=user is None and isinstance(error, NotAllowed))


def allowed(check, *args, **kwargs):
    return refusal(check, *args, **kwargs) is None


# --- Who sees what -------------------------------------------------------------------------

def results_access(user, cycle):
    """Who sees a cycle's counts and results: anyone once published, staff of the territory
    from closed, nobody while voting (counts stay secret).

    Returns "public", "staff", "forbidden" (counted but not published: 403) or "missing"
    (nothing counted yet, or no such cycle: 404)."""
    if cycle is None:
        return "missing"
    if phases.allows(cycle, "see_counts_public"):
        return "public"
    if phases.allows(cycle, "see_counts_staff"):
        return "staff" if is_staff_of(user, cycle.territory) else "forbidden"
    return "missing"


def counts_visible_to(user, cycle):
    return results_access(user, cycle) in ("public", "staff")


def protocol_visible_to(user, cycle):
    """The admission protocol: public once published, a draft for staff of the territory before."""
    return cycle.protocol_published_at is not None or is_staff_of(user, cycle.territory)
