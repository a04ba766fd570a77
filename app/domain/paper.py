"""Paper ballots at polling points: entered twice, blind, by two staff members; counted once.

Residents without a smartphone or a digital signature vote on paper at a point the akimat
runs (the akimat, a public service centre, a school). Staff of the territory check the
resident's identity document, then type the IIN and the choices from the paper ballot:

1. The first entry is kept as a PaperEntry "awaiting_second_entry" (by IIN digest only: the
   IIN itself is never stored, logged or shown).
2. Another staff member enters the same ballot without seeing the first entry. Matching
   entries store the ballot: a Ballot row with channel "paper" and a receipt code. Differing
   entries go to the resolution queue ("mismatch"), where a third staff member, who made
   neither entry, reads the paper (or its scan) and settles it, or voids it.

One ballot per person per cycle whatever the channel is the database's job: the paper ballot
is a Ballot row under the same unique (cycle, voter) constraint as online ballots, so whichever
of a paper store and an online cast commits second fails the constraint and is told 409
`already_voted`. Likewise the unique (cycle, voter) of paper_entry makes two first entries of
the same person at once one entry and a second one: the loser of that race rolls back and
starts again from what the winner stored (as voting.cast_ballot does).

Identity at the point is the document the staff saw, so the cycle's minimum identity level for
online voting does not apply; a cycle that demands verified residence still does. A resident
with no account is added by staff with residence verified (the document they saw).

Every step is in the audit log with the entry's id, the staff member and the choices; never
the IIN. Pages and the API call the same functions; none of them imports Flask.
"""
import io
from dataclasses import dataclass
from datetime import datetime, time, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.domain import audit, files, phases, records, texts, voting
from app.domain.errors import N_, Conflict, DomainError, FieldErrors, NotAllowed, NotFound
from app.domain.iin import InvalidIIN, iin_digest, validate_adult_iin
from app.domain.permissions import is_resident_of, is_staff_of, require_staff_of
from app.extensions import db
from app.languages import LANGUAGES
from app.models import (
    Ballot,
    BallotItem,
    Channel,
    EntryStatus,
    PaperEntry,
    Phase,
    PollingPoint,
    Residence,
    Role,
    Territory,
    User,
)

MAX_PLACE = 300
MISMATCH = N_("The two entries of this ballot differ. It waits for a third staff member in the resolution queue.")
MAX_ATTEMPTS = 3
PAPER = Channel.PAPER.value
ONLINE = Channel.ONLINE.value
# Polling points are set up before voting opens and changed while it runs; not after.
POINT_PHASES = (Phase.DRAFT, Phase.PROPOSALS, Phase.REVIEW, Phase.VOTING)
# What the audit log keeps of an entry: who entered, when it was stored, settled or voided —
# never the choices. Admins read the audit log, and an entry belongs to a known resident, so
# choices there would tell staff who chose what (ballot secrecy, README "What the database keeps").
ENTRY_FIELDS = ("status", "point_id", "first_by_id", "second_by_id", "resolved_by_id", "ballot_id",
                "scan_file_id")


# --- polling points ------------------------------------------------------------------------

def require_can_manage_points(staff, cycle):
    require_staff_of(staff, cycle.territory)
    if phases.phase_of(cycle) not in POINT_PHASES:
        raise Conflict("wrong_phase", N_("Polling points can be set up only until voting closes."))


def points(cycle):
    return db.session.scalars(select(PollingPoint).where(PollingPoint.cycle_id == cycle.id)
                              .order_by(PollingPoint.id)).all()


def public_points(cycle):
    """The points the public cycle page lists: from when the cycle is announced until voting
    closes (afterwards they no longer take ballots)."""
    if phases.phase_of(cycle) in (Phase.PROPOSALS, Phase.REVIEW, Phase.VOTING):
        return points(cycle)
    return []


def home_units(cycle):
    """Units a resident added at a point may live in: the cycle's territory and the units inside."""
    return db.session.scalars(select(Territory).where(Territory.path.startswith(cycle.territory.path))
                              .order_by(Territory.path)).all()


def get_point(cycle, point_id):
    point = records.get(PollingPoint, point_id)
    if point is None or point.cycle_id != cycle.id:
        raise NotFound("point_not_found", N_("No such polling point in this cycle."), field="point")
    return point


def duty_candidates(cycle):
    """Staff who may be on duty at the cycle's points: staff of its territory (not admins
    elsewhere), by name."""
    staff = db.session.scalars(select(User).where(User.role == Role.STAFF.value, User.active.is_(True))
                               .order_by(User.full_name, User.id)).all()
    return [u for u in staff if is_staff_of(u, cycle.territory)]


def _parse_time(errors, name, value):
    if isinstance(value, time):
        return value
    try:
        hours, minutes = str(value or "").strip().split(":")[:2]
        return time(int(hours), int(minutes))
    except ValueError:
        errors.add(name, N_("Enter a time such as 09:00."))
        return None


def _check_point(cycle, values):
    errors = FieldErrors()
    places = texts.clean_texts(errors, "place", {lang: values.get(f"place_{lang}") for lang in LANGUAGES},
                               MAX_PLACE)
    for lang in ("kk", "ru"):
        if not (places.get(lang) or "").strip():
            errors.add(f"place_{lang}", N_("Enter the place and its address in Kazakh and in Russian."))
    opens = _parse_time(errors, "opens_at", values.get("opens_at"))
    closes = _parse_time(errors, "closes_at", values.get("closes_at"))
    if opens and closes and opens >= closes:
        errors.add("closes_at", N_("The point must close after it opens."))
    candidates = {u.id: u for u in duty_candidates(cycle)}
    chosen = []
    for raw in values.get("staff_ids") or []:
        try:
            chosen.append(candidates[int(raw)])
        except (KeyError, TypeError, ValueError):
            errors.add("staff_ids", N_("Choose staff of this territory from the list."))
            break
    errors.raise_if_any()
    return places, opens, closes, chosen


def save_point(staff, cycle, values, point=None):
    """Open a polling point for the cycle (point None) or change one: place in kk/ru (en
    optional), daily hours, staff on duty."""
    require_can_manage_points(staff, cycle)
    places, opens, closes, on_duty = _check_point(cycle, values)
    before = None
    if point is None:
        point = PollingPoint(cycle_id=cycle.id)
        db.session.add(point)
    else:
        before = _point_snapshot(point)
    for lang in LANGUAGES:
        setattr(point, f"place_{lang}", (places.get(lang) or "").strip())
    point.opens_at, point.closes_at = opens, closes
    point.staff = on_duty
    db.session.flush()
    audit.record(staff, "polling_point.save", point, cycle.territory, before, _point_snapshot(point))
    return point


def _point_snapshot(point):
    return {**audit.snapshot(point, ("place_kk", "place_ru", "place_en")),
            "hours": hours(point), "staff": [u.id for u in point.staff]}


def hours(point):
    """"09:00–18:00": the same in every language."""
    return f"{point.opens_at:%H:%M}–{point.closes_at:%H:%M}"


# --- who votes -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Newcomer:
    """A resident with no account, added by staff who saw their identity document."""

    full_name: str
    territory_code: str
    document: str


def require_can_enter(staff, cycle):
    """Staff of the cycle's territory, while voting is open."""
    require_staff_of(staff, cycle.territory)
    voting.require_voting_open(cycle)


def _add_resident(staff, cycle, digest, newcomer):
    from app.domain.accounts import MAX_NAME_LENGTH
    from app.domain.residence import DOCUMENTS

    errors = FieldErrors()
    name = " ".join((newcomer.full_name or "").split())
    if not name:
        errors.add("full_name", N_("Enter the resident's full name as in the document."))
    elif len(name) > MAX_NAME_LENGTH:
        errors.add("full_name", N_("The name is too long."))
    home = db.session.scalar(select(Territory).where(Territory.code == (newcomer.territory_code or "").strip()))
    if home is None or not cycle.territory.contains(home):
        errors.add("territory", N_("Choose the unit where the resident lives, inside this cycle's territory."))
    if newcomer.document not in DOCUMENTS[:-1]:
        errors.add("document", N_("Choose the document you saw."))
    errors.raise_if_any()
    user = User(iin_hmac=digest, full_name=name, territory=home, role=Role.RESIDENT.value,
                password_hash="", residence=Residence.VERIFIED.value,
                residence_verified_at=datetime.now(timezone.utc), residence_document=newcomer.document)
    db.session.add(user)
    db.session.flush()
    audit.record(staff, "resident.add_at_point", user, home, None,
                 audit.snapshot(user, ("residence", "residence_document", "territory_id")))
    return user


def find_voter(staff, cycle, iin, iin_key, newcomer=None):
    """The resident with this IIN, checked: an adult, a resident of the cycle's territory (or
    of a unit inside it), with verified residence where the cycle demands it. An IIN with no
    account needs `newcomer` (name, home, document): the resident is then added."""
    try:
        normalised = validate_adult_iin(iin)
    except InvalidIIN as error:
        raise DomainError(error.code, error.message, field="iin")
    digest = iin_digest(normalised, iin_key)
    user = db.session.scalar(select(User).where(User.iin_hmac == digest))
    if user is None:
        if newcomer is None:
            raise NotFound("resident_not_registered",
                           N_("No account has this IIN. Add the resident: full name, home and the "
                              "document you saw."), field="iin")
        return _add_resident(staff, cycle, digest, newcomer)
    if user.is_staff or not is_resident_of(user, cycle.territory):
        raise NotAllowed("not_resident_of_territory",
                         N_("This person is not a resident of this cycle's territory and cannot vote in it."),
                         field="iin")
    if cycle.residence_verified_to_vote and user.residence != Residence.VERIFIED.value:
        raise NotAllowed("assurance_required",
                         N_("This cycle accepts votes only from residents whose home is verified. "
                            "Verify the resident's home first (Staff console → Verify a resident's home)."),
                         field="iin")
    return user


# --- scans ---------------------------------------------------------------------------------

def check_scan(scan):
    """The bytes to keep of an optional scan (a PDF as it is; a photo re-encoded as JPEG without
    metadata) and its extension, or (None, None); raises ValidationFailed for a bad file.
    The checks are those of the other uploads: conclusions' PDFs and proposals' photos."""
    from app.domain import conclusions, proposals

    if scan is None:
        return None, None
    data = conclusions._read_document(scan)
    if not data:
        return None, None
    errors = FieldErrors()
    if len(data) > conclusions.MAX_DOCUMENT_BYTES:
        errors.add("scan", N_("The scan must be at most 10 MB."))
    elif data.startswith(conclusions.PDF_MAGIC):
        problem = conclusions.pdf_problem(data)
        if problem is not None:
            errors.add("scan", problem)
        else:
            return data, "pdf"
    else:
        image = proposals._decode_photo(data)
        if isinstance(image, tuple):
            errors.add("scan", N_("The scan must be a PDF file or a JPEG, PNG or WebP image."))
        else:
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85, optimize=True)
            return out.getvalue(), "jpg"
    errors.raise_if_any()
    return None, None


SCAN_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg"}


def scan_of(entry):
    """The entry's stored scan (staff of the territory only, never a public URL), or None."""
    return entry.scan if entry is not None else None


# --- entering ------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What an entry did: `status` is "awaiting_second_entry", "stored" or "mismatch"."""

    entry: PaperEntry
    status: str
    ballot: Ballot | None = None


def _existing_entry(cycle_id, voter_id):
    return db.session.scalar(select(PaperEntry).where(PaperEntry.cycle_id == cycle_id,
                                                      PaperEntry.voter_id == voter_id)
                             .with_for_update().execution_options(populate_existing=True))


def _require_no_ballot(cycle_id, voter_id):
    if db.session.scalar(select(Ballot.id).where(Ballot.cycle_id == cycle_id,
                                                 Ballot.voter_id == voter_id)) is not None:
        raise voting.already_voted()


def _store_ballot(entry, choices, now):
    """The paper ballot as a Ballot row; the unique (cycle, voter) refuses a second one."""
    ballot = Ballot(cycle_id=entry.cycle_id, voter_id=entry.voter_id,
                    territory_id=entry.voter.territory_id, receipt=voting.new_receipt(),
                    cast_at=now, updated_at=now, channel=PAPER)
    db.session.add(ballot)
    db.session.flush()
    for proposal_id in choices:
        db.session.add(BallotItem(ballot_id=ballot.id, proposal_id=proposal_id))
    entry.ballot_id = ballot.id
    entry.status = EntryStatus.STORED.value
    db.session.flush()
    return ballot


def _record(staff, action, entry, before=None):
    audit.record(staff, action, entry, entry.cycle.territory, before, audit.snapshot(entry, ENTRY_FIELDS))


def _enter_once(staff, cycle, iin, choices_ids, iin_key, point_id, newcomer, now):
    require_can_enter(staff, cycle)
    point = get_point(cycle, point_id) if point_id is not None else None
    voter = find_voter(staff, cycle, iin, iin_key, newcomer)
    choices = [p.id for p in voting.check_ballot_choice(cycle, choices_ids)]
    _require_no_ballot(cycle.id, voter.id)
    entry = _existing_entry(cycle.id, voter.id)
    if entry is None:
        entry = PaperEntry(cycle_id=cycle.id, voter_id=voter.id, point_id=point.id if point else None,
                           first_by_id=staff.id, first_at=now, first_choices=choices,
                           status=EntryStatus.AWAITING_SECOND.value)
        db.session.add(entry)
        db.session.flush()
        _record(staff, "paper.first_entry", entry)
        return Outcome(entry, entry.status)
    if entry.status == EntryStatus.MISMATCH.value:
        raise Conflict("entry_in_resolution", MISMATCH)
    if entry.status != EntryStatus.AWAITING_SECOND.value:
        raise voting.already_voted()
    if entry.first_by_id == staff.id:
        raise Conflict("second_entry_by_another",
                       N_("You made the first entry of this ballot: another staff member makes the second."))
    before = audit.snapshot(entry, ENTRY_FIELDS)
    entry.second_by_id, entry.second_at, entry.second_choices = staff.id, now, choices
    if entry.point_id is None and point is not None:
        entry.point_id = point.id
    if sorted(entry.first_choices) != choices:
        entry.status = EntryStatus.MISMATCH.value
        db.session.flush()
        _record(staff, "paper.mismatch", entry, before)
        return Outcome(entry, entry.status)
    ballot = _store_ballot(entry, choices, now)
    _record(staff, "paper.second_entry", entry, before)
    return Outcome(entry, entry.status, ballot)


def enter_ballot(staff, cycle, iin, proposal_ids, iin_key, point_id=None, newcomer=None, scan=None,
                 now=None):
    """Enter one paper ballot (first or second entry); returns an Outcome (flushed, not
    committed). A mismatch is an outcome, not an error: it must be kept for the third person,
    so the caller commits and then tells the staff member (API: 409 `entry_mismatch`)."""
    now = now or datetime.now(timezone.utc)
    scan_data, scan_ext = check_scan(scan)
    staff_id, cycle_id = staff.id, cycle.id
    for _attempt in range(MAX_ATTEMPTS):
        cycle = voting.lock_cycle(cycle_id)
        try:
            outcome = _enter_once(staff, cycle, iin, proposal_ids, iin_key, point_id, newcomer, now)
            phases.require(voting.lock_cycle(cycle_id), "vote")  # SQLite: closed meanwhile?
        except IntegrityError:
            # A racing request stored this person's entry, account or ballot first: start again
            # from what it stored (the second pass finds it and answers accordingly).
            db.session.rollback()
            staff = db.session.get(User, staff_id)
            continue
        if scan_data is not None:
            # A replaced scan is deleted with its relationship (delete-orphan), in this commit.
            outcome.entry.scan = files.save(scan_data, SCAN_TYPES[scan_ext])
            db.session.flush()
        return outcome
    raise Conflict("entry_busy", N_("This ballot is being entered by someone else right now. Try again."))


# --- the resolution queue ------------------------------------------------------------------

def get_entry(cycle, entry_id):
    entry = records.get(PaperEntry, entry_id)
    if entry is None or entry.cycle_id != cycle.id:
        raise NotFound("entry_not_found", N_("No such paper ballot entry in this cycle."))
    return entry


def require_can_resolve(staff, entry):
    """A third staff member of the territory (neither entry was theirs), while voting is open,
    on an entry whose two entries differ."""
    require_can_enter(staff, entry.cycle)
    if entry.status != EntryStatus.MISMATCH.value:
        raise Conflict("entry_not_in_resolution", N_("This entry is not waiting for a resolution."))
    if staff.id in (entry.first_by_id, entry.second_by_id):
        raise NotAllowed("third_person_required",
                         N_("You made one of the two entries: a third staff member settles the difference."))


def resolve_entry(staff, entry, proposal_ids, now=None):
    """The third person read the paper: store what it says (any valid choice, not only one of
    the two entries). Returns the stored Ballot."""
    now = now or datetime.now(timezone.utc)
    cycle = voting.lock_cycle(entry.cycle_id)
    require_can_resolve(staff, entry)
    choices = [p.id for p in voting.check_ballot_choice(cycle, proposal_ids)]
    _require_no_ballot(entry.cycle_id, entry.voter_id)
    before = audit.snapshot(entry, ENTRY_FIELDS)
    entry.resolved_by_id, entry.resolved_at = staff.id, now
    try:
        ballot = _store_ballot(entry, choices, now)
    except IntegrityError:
        db.session.rollback()
        raise voting.already_voted()
    audit.record(staff, "paper.resolve", entry, cycle.territory, before, audit.snapshot(entry, ENTRY_FIELDS))
    return ballot


def require_can_void(staff, entry):
    """An entry not stored may be voided: one awaiting its second entry by any staff member of
    the territory (a mistyped IIN), one in the resolution queue only by a third person."""
    if entry.status == EntryStatus.MISMATCH.value:
        require_can_resolve(staff, entry)
        return
    require_can_enter(staff, entry.cycle)
    if entry.status != EntryStatus.AWAITING_SECOND.value:
        raise Conflict("entry_stored", N_("This ballot is stored and cannot be voided."))


def void_entry(staff, entry):
    """Drop an entry that stores no ballot (the paper is unreadable, or the IIN was mistyped);
    the audit log keeps what it was."""
    require_can_void(staff, entry)
    audit.record(staff, "paper.void", entry, entry.cycle.territory, audit.snapshot(entry, ENTRY_FIELDS), None)
    db.session.delete(entry)  # its scan goes with it (delete-orphan)
    db.session.flush()


def pending_entries(cycle):
    """Entries that store no ballot yet: awaiting their second entry, or in the resolution queue."""
    return db.session.scalars(select(PaperEntry).where(
        PaperEntry.cycle_id == cycle.id,
        PaperEntry.status.in_((EntryStatus.AWAITING_SECOND.value, EntryStatus.MISMATCH.value)))).all()


def entries(cycle, status):
    return db.session.scalars(select(PaperEntry).where(PaperEntry.cycle_id == cycle.id,
                                                       PaperEntry.status == status)
                              .order_by(PaperEntry.id)).all()


def entry_json(entry):
    """An entry as the API shows it: never the IIN, never the first entry's choices."""
    return {"entry": entry.id, "status": entry.status, "point": entry.point_id,
            "entered_at": entry.first_at.isoformat() if entry.first_at else None}


# --- totals --------------------------------------------------------------------------------

def channel_totals(cycle):
    """Stored ballots by channel: {"online": n, "paper": m}."""
    totals = {ONLINE: 0, PAPER: 0}
    for channel, count in db.session.execute(select(Ballot.channel, func.count(Ballot.id))
                                             .where(Ballot.cycle_id == cycle.id).group_by(Ballot.channel)):
        totals[channel or ONLINE] = count
    return totals


def votes_by_channel(cycle, point=None):
    """{proposal_id: {"online": n, "paper": m}} from the stored ballots (the count's own data);
    with `point`, the paper votes entered at that point only. Callers check who sees counts."""
    query = (select(BallotItem.proposal_id, Ballot.channel, func.count(BallotItem.id))
             .join(Ballot, Ballot.id == BallotItem.ballot_id).where(Ballot.cycle_id == cycle.id))
    if point is not None:
        query = query.join(PaperEntry, PaperEntry.ballot_id == Ballot.id).where(PaperEntry.point_id == point.id)
    figures = {}
    for proposal_id, channel, count in db.session.execute(query.group_by(BallotItem.proposal_id, Ballot.channel)):
        figures.setdefault(proposal_id, {ONLINE: 0, PAPER: 0})[channel or ONLINE] = count
    return figures


def point_totals(cycle, point):
    """Entries at a point by status (the tally sheet's numbers; not the votes)."""
    rows = db.session.execute(select(PaperEntry.status, func.count(PaperEntry.id))
                              .where(PaperEntry.cycle_id == cycle.id, PaperEntry.point_id == point.id)
                              .group_by(PaperEntry.status)).all()
    totals = {status.value: 0 for status in EntryStatus}
    totals.update({status: count for status, count in rows})
    return totals
