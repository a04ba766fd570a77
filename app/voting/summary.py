"""What a cycle's page and its home card tell one visitor about voting, asked of the domain."""
from dataclasses import dataclass

from app.domain import access, phases, voting
from app.domain.access import Answer


@dataclass(frozen=True)
class VotingBox:
    """`answer`: may this visitor vote now (and why not); `ballot`: theirs, if cast;
    `can_change`: whether it may still be replaced; `closes`: the closing time while open."""

    cycle: object
    answer: Answer
    ballot: object = None
    can_change: bool = False
    closes: object = None


def voting_box(user, cycle):
    viewer = user if user is not None and user.is_authenticated else None
    ballot = voting.get_ballot(viewer, cycle)
    return VotingBox(cycle=cycle, answer=access.ask(voting.require_can_vote, viewer, cycle), ballot=ballot,
                     can_change=ballot is not None and voting.can_change(cycle, ballot),
                     closes=cycle.voting_close if phases.allows(cycle, "vote") else None)
