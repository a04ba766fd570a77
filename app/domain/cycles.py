"""Budget cycles: creating and editing one territory's yearly round.

Every field is validated here, for the pages and the API alike. Ballot and counting settings
freeze from `voting` on (phases.require(cycle, "edit_settings")); texts and the schedule stay
editable until publication.
"""
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.domain import assurance, audit, lifecycle, phases, records
from app.domain.errors import N_, FieldErrors, NotFound, Np_
from app.domain.permissions import is_staff_of, require_staff_of
from app.extensions import db
from app.languages import LANGUAGES, STATE_LANGUAGES
from app.models import BallotStyle, Category, CountingRule, Cycle, Phase, Territory
from app.models.cycle import NATIONAL_MIN_VOTERS

TEXT_FIELDS = tuple(f"title_{lang}" for lang in LANGUAGES) + tuple(f"description_{lang}" for lang in LANGUAGES)
SCHEDULE_FIELDS = ("proposals_open", "proposals_close", "voting_open", "voting_close")
# Rules of the vote and the count: frozen once voting opens.
SETTINGS_FIELDS = ("year", "budget", "max_project_cost", "categories", "ballot_style", "max_choices",
                   "rule", "min_voters", "min_assurance_propose", "min_assurance_vote",
                   "residence_verified_to_vote")
ALL_FIELDS = TEXT_FIELDS + SCHEDULE_FIELDS + SETTINGS_FIELDS
CATEGORIES = tuple(c.value for c in Category)
STYLES = tuple(s.value for s in BallotStyle)
RULES = tuple(r.value for r in CountingRule)
MAX_TITLE = 200
MAX_DESCRIPTION = 10_000
MAX_TENGE = 10**15
MAX_MIN_VOTERS = 1_000_000


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _validate(values):
    """Check a complete set of cycle values; raises ValidationFailed naming every bad field."""
    errors = FieldErrors()
    _check_texts(errors, values)
    _check_money(errors, values)
    _check_ballot(errors, values)
    assurance.check_cycle_values(errors, values)
    _check_schedule(errors, values)
    errors.raise_if_any()


def _check_texts(errors, values):
    """Titles in the state languages (English optional) and descriptions, within their lengths."""
    for lang in LANGUAGES:
        title = values.get(f"title_{lang}")
        if title is None and lang not in STATE_LANGUAGES:
            title = ""
        if not isinstance(title, str):
            errors.add(f"title_{lang}", N_("This field has the wrong type."))
        elif not title.strip() and lang in STATE_LANGUAGES:
            errors.add(f"title_{lang}", N_("Enter the title in Kazakh and in Russian, the state languages."))
        elif len(title) > MAX_TITLE:
            errors.add(f"title_{lang}", Np_("At most %(n)s character.", "At most %(n)s characters."), n=MAX_TITLE)
        description = values.get(f"description_{lang}") or ""
        if not isinstance(description, str):
            errors.add(f"description_{lang}", N_("This field has the wrong type."))
        elif len(description) > MAX_DESCRIPTION:
            errors.add(f"description_{lang}", Np_("At most %(n)s character.", "At most %(n)s characters."),
                       n=MAX_DESCRIPTION)


def _check_money(errors, values):
    year = values.get("year")
    if not _is_int(year) or not 2000 <= year <= 2100:
        errors.add("year", N_("Enter a year between 2000 and 2100."))
    budget = values.get("budget")
    if not _is_int(budget) or not 0 < budget <= MAX_TENGE:
        errors.add("budget", N_("Enter the budget as a positive whole number of tenge."))
    cap = values.get("max_project_cost")
    if not _is_int(cap) or cap <= 0:
        errors.add("max_project_cost", N_("Enter the cost cap as a positive whole number of tenge."))
    elif _is_int(budget) and cap > budget:
        errors.add("max_project_cost", N_("The cost cap per project cannot exceed the budget."))


def _check_ballot(errors, values):
    """Categories, ballot style (and its number of choices), counting rule, minimum of voters."""
    categories = values.get("categories")
    if (not isinstance(categories, (list, tuple)) or not categories
            or any(c not in CATEGORIES for c in categories)):
        errors.add("categories", N_("Choose at least one category from the list."))
    style = values.get("ballot_style")
    if style not in STYLES:
        errors.add("ballot_style", N_("Choose a ballot style from the list."))
    max_choices = values.get("max_choices")
    if style == BallotStyle.APPROVAL.value:
        if not _is_int(max_choices) or not 1 <= max_choices <= 50:
            errors.add("max_choices", N_("For a ballot of several projects, enter how many projects a voter "
                                         "may choose (1 to 50)."))
    elif max_choices is not None and not _is_int(max_choices):
        errors.add("max_choices", N_("This field has the wrong type."))
    if values.get("rule") not in RULES:
        errors.add("rule", N_("Choose a counting rule from the list."))
    min_voters = values.get("min_voters")
    if not _is_int(min_voters) or min_voters < NATIONAL_MIN_VOTERS:
        errors.add("min_voters", N_("The minimum number of voters is at least %(n)s."), n=NATIONAL_MIN_VOTERS)
    elif min_voters > MAX_MIN_VOTERS:
        errors.add("min_voters", N_("The minimum number of voters is at most %(n)s."), n=MAX_MIN_VOTERS)


def _check_schedule(errors, values):
    previous = None
    for name in SCHEDULE_FIELDS:
        moment = values.get(name)
        if moment is None:
            continue
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            errors.add(name, N_("Enter a valid date and time."))
            continue
        if previous is not None and moment < previous:
            errors.add(name, N_("The schedule must run in order: proposals open, proposals close, "
                                "voting opens, voting closes."))
        previous = moment


def _normalise(values):
    values = dict(values)
    for name in TEXT_FIELDS:
        if isinstance(values.get(name), str):
            values[name] = values[name].strip()
    if isinstance(values.get("categories"), (list, tuple)):
        # Keep the canonical order; drop repeats.
        values["categories"] = [c for c in CATEGORIES if c in values["categories"]] + \
            [c for c in values["categories"] if c not in CATEGORIES]
    if values.get("ballot_style") in (BallotStyle.SINGLE.value, BallotStyle.KNAPSACK.value):
        values["max_choices"] = None  # meaningful only for approval ballots
    return values


def defaults():
    return {"categories": list(CATEGORIES), "ballot_style": BallotStyle.APPROVAL.value, "max_choices": 3,
            "rule": CountingRule.GREEDY.value, "min_voters": NATIONAL_MIN_VOTERS,
            "year": datetime.now(timezone.utc).year, **assurance.defaults()}


def create_cycle(actor, territory, values):
    """A new cycle in `draft` for the territory. values: the ALL_FIELDS names (flat)."""
    require_staff_of(actor, territory)
    merged = defaults()  # for what the caller leaves out; an explicit None is validated as given
    merged.update({k: v for k, v in values.items() if k in ALL_FIELDS})
    merged = _normalise(merged)
    _validate(merged)
    cycle = Cycle(territory=territory, phase=Phase.DRAFT.value, created_by=actor,
                  **{name: merged.get(name) for name in ALL_FIELDS if name in merged})
    for name in TEXT_FIELDS:
        setattr(cycle, name, merged.get(name) or "")
    db.session.add(cycle)
    db.session.flush()
    audit.record(actor, "cycle.create", cycle, territory, None, audit.snapshot(cycle, ALL_FIELDS))
    return cycle


def update_cycle(actor, cycle, changes):
    """Change some fields. Settings changes need a phase before voting (409 settings_locked)."""
    require_staff_of(actor, cycle.territory)
    current = {name: getattr(cycle, name) for name in ALL_FIELDS}
    merged = dict(current)
    merged.update({k: v for k, v in changes.items() if k in ALL_FIELDS})
    merged = _normalise(merged)
    changed = [name for name in ALL_FIELDS if merged.get(name) != current.get(name)]
    if not changed:
        return cycle
    if any(name in SETTINGS_FIELDS for name in changed):
        phases.require(cycle, "edit_settings")
    phases.require(cycle, "edit_texts")
    _validate(merged)
    before = {name: current[name] for name in changed}
    for name in changed:
        setattr(cycle, name, merged[name])
    audit.record(actor, "cycle.update", cycle, cycle.territory, before,
                 {name: merged[name] for name in changed})
    return cycle


def move_phase(actor, cycle, to_phase, now=None, confirm_off_schedule=False):
    """The staff's phase button and the API's phase endpoint: one step forward, logged."""
    return lifecycle.advance(cycle, actor, to_phase, now=now, confirm_off_schedule=confirm_off_schedule)


def get_cycle(cycle_id, viewer=None):
    """A cycle the viewer may see: drafts only for staff of the territory."""
    cycle = records.get(Cycle, cycle_id)
    if cycle is None or (cycle.phase == Phase.DRAFT.value and not is_staff_of(viewer, cycle.territory)):
        raise NotFound("cycle_not_found", N_("There is no such cycle."))
    return cycle


def find_territory(code):
    unit = db.session.scalar(select(Territory).where(Territory.code == code)) if isinstance(code, str) else None
    if unit is None:
        raise NotFound("territory_not_found", N_("There is no territory with this code."), field="territory")
    return unit


def list_cycles(territory=None, phase=None, viewer=None, year=None):
    """Cycles, newest first. Drafts appear only to staff who could edit them."""
    query = select(Cycle).join(Cycle.territory).order_by(Cycle.year.desc(), Cycle.id.desc())
    if territory is not None:
        query = query.where(Territory.path.startswith(territory.path))
    if phase:
        query = query.where(Cycle.phase == phase)
    if year:
        query = query.where(Cycle.year == year)
    cycles = db.session.scalars(query).all()
    return [c for c in cycles if c.phase != Phase.DRAFT.value or is_staff_of(viewer, c.territory)]


def managed_cycles(staff):
    """Cycles the staff member may manage (their unit and the units inside it)."""
    if staff is None or not staff.is_staff:
        return []
    query = select(Cycle).join(Cycle.territory).order_by(Cycle.year.desc(), Cycle.id.desc())
    if not staff.is_admin:
        query = query.where(Territory.path.startswith(staff.territory.path))
    return db.session.scalars(query).all()


def manageable_territories(staff):
    query = select(Territory).order_by(Territory.path)
    if not staff.is_admin:
        query = query.where(Territory.path.startswith(staff.territory.path))
    return db.session.scalars(query).all()


def current_cycles_by_phase():
    """[(phase, [cycles])] of public cycles not yet published, in phase order: the home page."""
    shown = (Phase.PROPOSALS, Phase.REVIEW, Phase.VOTING, Phase.CLOSED)
    cycles = db.session.scalars(select(Cycle).where(Cycle.phase.in_([p.value for p in shown]))
                                .options(joinedload(Cycle.territory)).order_by(Cycle.id.desc())).all()
    return [(p.value, [c for c in cycles if c.phase == p.value]) for p in shown
            if any(c.phase == p.value for c in cycles)]


def recently_published(limit=3):
    """The latest published cycles, newest publication first: the home page's results."""
    return db.session.scalars(select(Cycle).where(Cycle.phase == Phase.PUBLISHED.value)
                              .options(joinedload(Cycle.territory))
                              .order_by(Cycle.published_at.desc(), Cycle.id.desc()).limit(limit)).all()


def staff_to_notify(cycle):
    """Who is told when the cycle needs staff: the active staff of the nearest unit, from the
    cycle's own up through its parents, that has any (not administrators, not every level)."""
    from app.models import Role, User

    unit = cycle.territory
    while unit is not None:
        found = db.session.scalars(select(User).where(User.territory_id == unit.id, User.role == Role.STAFF.value,
                                                      User.active.is_(True)).order_by(User.id)).all()
        if found:
            return found
        unit = unit.parent
    return []
