"""The akimat's conclusion on each admitted proposal, and implementation tracking.

After voting closes, staff record for every admitted proposal whether it is approved for
implementation. The ten-voter minimum is not recomputed here: the count stored
`ProposalResult.eligible` (app.domain.counting.is_eligible) and that is the single source of
truth. The akimat has discretion beyond the vote: a selected proposal may be not approved and
an unselected one approved, but either needs a written justification.
"""
import io
from datetime import date, datetime, timezone

from pypdf import PdfReader

from app.domain import audit, counting, files, phases, texts
from app.domain.errors import N_, Conflict, DomainError, FieldErrors, NotFound, Np_
from app.domain.permissions import require_staff_of
from app.extensions import db
from app.languages import LANGUAGES
from app.models import Conclusion, Decision, ImplementationStatus, ImplementationUpdate, Phase, ProposalStatus

MAX_JUSTIFICATION = 5000
MAX_NOTE = 1000
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
AUDITED = ("decision", "justification_kk", "justification_ru", "justification_en",
           "document_sha256", "document_number", "document_date")


def require_not_published(cycle):
    """Published results and conclusions never change: 409 for every attempt, whoever asks."""
    if cycle.phase == Phase.PUBLISHED.value:
        raise Conflict("results_published",
                       N_("The results of this cycle are published and can no longer be changed."))


def missing_languages(conclusion):
    """The languages a conclusion's justification has no text in (kk, ru, en order)."""
    if conclusion is None:
        return list(LANGUAGES)
    return texts.missing_languages(texts.texts_of(conclusion, "justification"))


def needs_justification(decision, result):
    """Why a justification is required, or None: the rule the form and the API both apply."""
    if decision == Decision.NOT_APPROVED.value:
        return "not_approved"
    if decision == Decision.APPROVED.value and result is not None and not result.selected:
        return "approved_not_selected"
    return None


def _clean_justification(errors, justification):
    """{kk, ru, en} justification texts; only a dict by language is accepted here."""
    if justification is not None and not isinstance(justification, dict):
        errors.add("justification", N_("The justification must give texts by language (kk, ru, en)."))
        return {}
    return texts.clean_texts(errors, "justification", justification, MAX_JUSTIFICATION)


def _read_document(document):
    """Bytes of an uploaded file: werkzeug FileStorage, a file object, or bytes."""
    if isinstance(document, (bytes, bytearray)):
        return bytes(document[:MAX_DOCUMENT_BYTES + 1])
    stream = getattr(document, "stream", document)
    return stream.read(MAX_DOCUMENT_BYTES + 1)


def pdf_problem(data):
    """Why these bytes are not an acceptable signed PDF (a marked message), or None.

    The first bytes only say what a file claims to be: the document is parsed (pypdf) down to
    its pages. Encrypted PDFs are refused: a published document must open without a password."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return N_("The PDF is protected with a password or encrypted: upload it without "
                      "protection.")
        if len(reader.pages) < 1:
            return N_("The PDF is damaged and cannot be read.")
    except Exception:  # pypdf: "broken PDF files might cause other Exceptions" than its own
        return N_("The PDF is damaged and cannot be read.")
    return None


def require_can_conclude(staff, proposal):
    """Staff of the territory, after the count and before publication, on an admitted proposal."""
    require_staff_of(staff, proposal.cycle.territory)
    require_not_published(proposal.cycle)
    phases.require(proposal.cycle, "conclude")
    counting.require_counted(proposal.cycle)
    if proposal.status != ProposalStatus.ADMITTED.value:
        raise Conflict("not_admitted", N_("Only proposals admitted to voting receive a conclusion."))
    if proposal.result is None:
        raise Conflict("not_counted", N_("The votes for this proposal have not been counted."))


def _check_document(document, document_number, document_date):
    """The optional signed document and its number and date; returns (date, PDF bytes or None)."""
    errors = FieldErrors()
    if document_number is not None and not isinstance(document_number, str):
        errors.add("document_number", N_("This field has the wrong type."))
    elif document_number and len(document_number.strip()) > 60:
        errors.add("document_number", Np_("At most %(n)s character.", "At most %(n)s characters."), n=60)
    if document_date is not None and not isinstance(document_date, date):
        errors.add("document_date", N_("Enter a date."))
    elif isinstance(document_date, datetime):
        document_date = document_date.date()
    data = None
    if document is not None:
        data = _read_document(document)
        if not data:
            data = None
        elif len(data) > MAX_DOCUMENT_BYTES:
            errors.add("document", N_("The document must be at most 10 MB."))
        elif not data.startswith(PDF_MAGIC):
            errors.add("document", N_("The document must be a PDF file."))
        elif (problem := pdf_problem(data)) is not None:
            errors.add("document", problem)
    errors.raise_if_any()
    return document_date, data


def record_conclusion(staff, proposal, decision, justification, document=None, document_number=None,
                      document_date=None, now=None):
    """Record (or replace, until publication) the akimat's conclusion on an admitted proposal."""
    if proposal is None:
        raise NotFound("not_found", N_("This proposal does not exist."))
    cycle = proposal.cycle
    require_can_conclude(staff, proposal)
    result = proposal.result

    errors = FieldErrors()
    if decision not in (Decision.APPROVED.value, Decision.NOT_APPROVED.value):
        errors.add("decision", N_("Choose approved or not approved."))
    justifications = _clean_justification(errors, justification)
    errors.raise_if_any()

    # The ten-voter minimum: the eligibility stored at the count is the only source of truth.
    if decision == Decision.APPROVED.value and not result.eligible:
        raise DomainError(
            "below_min_voters",
            N_("This proposal cannot be approved for implementation: fewer residents voted for it "
               "than the minimum of %(min)s (voters from the territory: %(voters)s)."),
            field="decision", min=cycle.min_voters, voters=result.voters_in_territory)

    reason = needs_justification(decision, result)
    if reason and not any(justifications.values()):
        if reason == "not_approved":
            message = N_("Give a justification in at least one language for a proposal that is "
                         "not approved.")
        else:
            message = N_("This proposal was not selected by the vote: approving it is the "
                         "akimat's discretion and needs a justification in at least one language.")
        raise DomainError("justification_required", message, field="justification")
    document_date, data = _check_document(document, document_number, document_date)

    conclusion = proposal.conclusion
    before = audit.snapshot(conclusion, AUDITED) if conclusion else None
    if conclusion is None:
        conclusion = Conclusion(proposal=proposal)
        db.session.add(conclusion)
    conclusion.decision = decision
    for lang in LANGUAGES:
        setattr(conclusion, f"justification_{lang}", justifications.get(lang, ""))
    if data is not None:
        # delete-orphan: a replaced document is deleted in this transaction; the audit entry
        # keeps the SHA-256 of each.
        conclusion.document = files.save(data, "application/pdf")
        conclusion.document_filename = None
    if document_number is not None:
        conclusion.document_number = document_number.strip() or None
    if document_date is not None:
        conclusion.document_date = document_date
    conclusion.decided_by = staff
    conclusion.decided_at = now or datetime.now(timezone.utc)
    db.session.flush()
    audit.record(staff, "conclusion.record", conclusion, cycle.territory, before,
                 audit.snapshot(conclusion, AUDITED))
    return conclusion


def require_can_track(staff, proposal):
    """Staff of the territory add implementation updates to approved proposals once published."""
    if not phases.allows(proposal.cycle, "track_implementation"):
        raise Conflict("wrong_phase", N_("Implementation is tracked once the results are published."))
    if proposal.conclusion is None or proposal.conclusion.decision != Decision.APPROVED.value:
        raise Conflict("not_approved",
                       N_("Implementation is tracked only for proposals approved for implementation."))
    require_staff_of(staff, proposal.cycle.territory)


def add_implementation_update(staff, proposal, status, on_date=None, note=None, now=None, language=None):
    """A step in carrying out an approved proposal of a published cycle (append-only).

    note: {kk, ru, en} texts, or one string (see app.domain.texts); a cancellation needs a
    reason in at least one language."""
    if proposal is None:
        raise NotFound("not_found", N_("This proposal does not exist."))
    cycle = proposal.cycle
    require_can_track(staff, proposal)
    errors = FieldErrors()
    statuses = [s.value for s in ImplementationStatus]
    if status not in statuses:
        errors.add("status", N_("Choose a status."))
    notes = texts.clean_texts(errors, "note", note, MAX_NOTE, language)
    if status == ImplementationStatus.CANCELLED.value and not texts.has_text(notes):
        errors.add("note", N_("Give the reason for cancelling."))
    if on_date is not None and not isinstance(on_date, date):
        errors.add("on_date", N_("Enter a date."))
    errors.raise_if_any()
    now = now or datetime.now(timezone.utc)
    update = ImplementationUpdate(proposal=proposal, status=status, on_date=on_date or now.date(),
                                  created_by=staff, created_at=now)
    texts.set_texts(update, "note", notes)
    db.session.add(update)
    db.session.flush()
    audit.record(staff, "implementation.update", update, cycle.territory, None,
                 {"proposal": proposal.id, "status": status, "on_date": update.on_date,
                  **{f"note_{lang}": notes[lang] for lang in LANGUAGES}})
    return update


def implementation_updates(proposal):
    return db.session.scalars(
        db.select(ImplementationUpdate).where(ImplementationUpdate.proposal_id == proposal.id)
        .order_by(ImplementationUpdate.on_date, ImplementationUpdate.id)).all()
