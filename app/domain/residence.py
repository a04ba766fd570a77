"""Verified residence: by staff of the territory who saw a document, or by the akimat's register
of residents imported from a CSV (IIN, KATO code; each IIN hashed on import, never stored).

A verification holds for the home it was made for. Moving home (accounts.choose_home) is a new
declaration; it is verified again only if the register lists the person at the new home.
"""
import csv
import io
from datetime import datetime, timezone

from sqlalchemy import select

from app.domain import audit
from app.domain.errors import N_, NotFound
from app.domain.iin import InvalidIIN, iin_digest, validate_adult_iin
from app.domain.permissions import require_staff_of
from app.extensions import db
from app.models import RegisteredResident, Residence, Role, Territory, User

DOCUMENTS = ("id_card", "passport", "address_certificate", "register")


class ImportFailed(Exception):
    def __init__(self, problems):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems  # [(line, text)]


def _mark_verified(user, document, now=None):
    user.residence = Residence.VERIFIED.value
    user.residence_verified_at = now or datetime.now(timezone.utc)
    user.residence_document = document


def find_resident(staff, iin, iin_key):
    """The resident with this IIN living in the staff member's territory; the same 404 whether
    the IIN has no account or lives elsewhere."""
    try:
        normalised = validate_adult_iin(iin)
    except InvalidIIN as error:
        raise NotFound("resident_not_found", error.message, field="iin")
    user = db.session.scalar(select(User).where(User.iin_hmac == iin_digest(normalised, iin_key)))
    if user is None or user.role != Role.RESIDENT.value or user.territory is None \
            or staff.territory is None or not staff.territory.contains(user.territory):
        raise NotFound("resident_not_found", N_("No resident with this IIN lives in your territory."),
                       field="iin")
    return user


def verify_by_staff(staff, iin, document, iin_key, now=None):
    """Staff of the resident's territory saw `document` and confirm the declared home."""
    if document not in DOCUMENTS[:-1]:
        raise NotFound("document_unknown", N_("Choose the document you saw."), field="document")
    user = find_resident(staff, iin, iin_key)
    require_staff_of(staff, user.territory)
    before = audit.snapshot(user, ("residence", "residence_document"))
    _mark_verified(user, document, now)
    audit.record(staff, "resident.verify", user, user.territory, before,
                 audit.snapshot(user, ("residence", "residence_document")))
    db.session.flush()
    return user


def match_register(user):
    """Verify a resident whose declared home is where the imported register lists them."""
    if user.territory_id is None:
        return False
    listed = db.session.scalar(select(RegisteredResident.territory_id)
                               .where(RegisteredResident.iin_hmac == user.iin_hmac))
    if listed is not None and listed == user.territory_id:
        _mark_verified(user, "register")
        return True
    return False


def import_register(text, iin_key, now=None):
    """Upsert the register from CSV text with columns iin,kato (a header row). All or nothing:
    any bad row raises ImportFailed naming every bad line. Returns (rows, accounts verified)."""
    rows, problems = [], []
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"iin", "kato"} <= {f.strip().lower() for f in reader.fieldnames}:
        raise ImportFailed([(1, "the header must name the columns iin and kato")])
    units = {code: unit_id for code, unit_id in db.session.execute(select(Territory.code, Territory.id))}
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            iin = validate_adult_iin(row.get("iin"))
        except InvalidIIN as error:
            problems.append((line, str(error)))  # the IIN itself is never echoed
            continue
        if row.get("kato") not in units:
            problems.append((line, f"unknown KATO code {row.get('kato')!r}"))
            continue
        rows.append((iin_digest(iin, iin_key), units[row["kato"]]))
    if problems:
        raise ImportFailed(problems)
    existing = {r.iin_hmac: r for r in db.session.scalars(select(RegisteredResident))}
    for digest, unit_id in rows:
        record = existing.get(digest)
        if record is None:
            record = RegisteredResident(iin_hmac=digest, territory_id=unit_id)
            db.session.add(record)
            existing[digest] = record
        record.territory_id = unit_id
        if now:
            record.imported_at = now
    db.session.flush()
    digests = [d for d, _ in rows]
    verified = 0
    for user in db.session.scalars(select(User).where(User.iin_hmac.in_(digests),
                                                      User.residence != Residence.VERIFIED.value)):
        verified += match_register(user)
    db.session.flush()
    return len(rows), verified
