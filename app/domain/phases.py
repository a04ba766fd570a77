"""The phases of a budget cycle and what each allows: the one place that decides.

draft → proposals → review → voting → closed → published, moved forward one step at a time by
staff of the territory (app.domain.lifecycle runs the moves). This module only answers what a
phase allows; it depends on nothing else in the domain.
"""
from app.domain.errors import N_, Conflict
from app.models import Phase

ORDER = [Phase.DRAFT, Phase.PROPOSALS, Phase.REVIEW, Phase.VOTING, Phase.CLOSED, Phase.PUBLISHED]

# What each phase allows. Ask with allows(cycle, action) / require(cycle, action).
ALLOWED = {
    "edit_settings": {Phase.DRAFT, Phase.PROPOSALS, Phase.REVIEW},   # ballot + counting rules
    "edit_texts": {Phase.DRAFT, Phase.PROPOSALS, Phase.REVIEW, Phase.VOTING, Phase.CLOSED},
    "submit_proposal": {Phase.PROPOSALS},
    "edit_proposal": {Phase.PROPOSALS},          # the author, until review starts
    "revise_proposal": {Phase.REVIEW},           # the author, when the council asked for it
    "review": {Phase.REVIEW},
    "publish_protocol": {Phase.REVIEW, Phase.VOTING},
    "vote": {Phase.VOTING},
    "see_counts_staff": {Phase.CLOSED, Phase.PUBLISHED},
    "see_counts_public": {Phase.PUBLISHED},
    "conclude": {Phase.CLOSED},
    "publish": {Phase.CLOSED},
    "track_implementation": {Phase.PUBLISHED},
}

WRONG_PHASE_MESSAGES = {
    "edit_settings": N_("Ballot and counting settings cannot change once voting has opened."),
    "submit_proposal": N_("This cycle is not taking proposals now."),
    "edit_proposal": N_("Proposals can no longer be edited: the review has started."),
    "revise_proposal": N_("Proposals can be revised only during the review, when asked."),
    "review": N_("Proposals are reviewed only during the review phase."),
    "vote": N_("Voting is not open in this cycle."),
    "conclude": N_("Conclusions are recorded only after voting has closed and before publication."),
    "publish": N_("Only a closed cycle can be published."),
}
WRONG_PHASE_CODES = {"edit_settings": "settings_locked", "vote": "voting_not_open",
                     "conclude": "wrong_phase", "publish": "wrong_phase"}


def phase_of(cycle):
    return Phase(cycle.phase)


def allows(cycle, action):
    return phase_of(cycle) in ALLOWED[action]


def require(cycle, action):
    if not allows(cycle, action):
        raise Conflict(WRONG_PHASE_CODES.get(action, "wrong_phase"),
                       WRONG_PHASE_MESSAGES.get(action, N_("This cannot be done in the current phase.")))


def next_phase(cycle):
    index = ORDER.index(phase_of(cycle))
    return ORDER[index + 1] if index + 1 < len(ORDER) else None
