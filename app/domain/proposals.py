"""Project proposals: residents submit and revise them; the Expert Council reviews them.

Descriptions are Markdown (CommonMark, rendered by markdown-it-py: paragraphs, lists, **bold**,
*italics*, links; HTML such as the descriptions stored before Markdown passes through) and then
sanitised with nh3 (a short allow-list of tags). Titles are plain text: tags are removed.
Photos are decoded with Pillow, re-encoded as JPEG (which drops EXIF, GPS and anything hidden in
the file) and stored in the database (app.domain.files) in the same transaction as the proposal,
under a random name that is their URL.
"""
import html
import io
import math
import secrets
import warnings
from datetime import datetime, timezone

import nh3
from markdown_it import MarkdownIt
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, or_, select

from app.domain import audit, files, phases, records, territories, texts
from app.domain.assurance import require_assurance
from app.domain.errors import N_, Conflict, DomainError, FieldErrors, NotAllowed, NotFound, Np_
from app.domain.permissions import is_staff_of, require_resident_of, require_staff_of
from app.extensions import db
from app.languages import LANGUAGES
from app.models import Phase, Proposal, ProposalPhoto, ProposalStatus

MAX_TITLE = 200
MIN_TITLE = 5
MAX_DESCRIPTION = 10_000
MAX_ADDRESS = 300
MAX_REASON = 5000
MAX_PHOTOS = 5
MAX_PAGE = 100_000
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_SIDE = 2000          # longer side after re-encoding, in pixels
# Pixel bombs: a few KB of PNG can declare 7000×7000 pixels, and decoding allocates every one
# (a worker went from 120 MB to 571 MB). The size is read from the header before decoding and
# refused above these limits. JPEGs are decoded at a reduced scale (draft mode, at most about
# 4× the stored size), so a 50-megapixel camera photo is fine; PNG and WebP decode whole.
MAX_JPEG_PIXELS = 50_000_000
MAX_SOURCE_PIXELS = 16_000_000  # PNG and WebP: 4000×4000
# Pillow's own guard for any decoding in this process (a warning above, an error above twice).
Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
DECISIONS = (ProposalStatus.ADMITTED.value, ProposalStatus.REJECTED.value,
             ProposalStatus.REVISION_REQUESTED.value)
REVIEW_FIELDS = ("status", "review_reason_kk", "review_reason_ru", "review_reason_en", "revision_deadline")
EDITABLE_FIELDS = ("title", "description", "category", "cost", "address", "latitude", "longitude")


# --- text ------------------------------------------------------------------------------------

# CommonMark with raw HTML allowed (nh3 decides what survives) and a line break kept as typed.
_MARKDOWN = MarkdownIt("commonmark", {"html": True, "breaks": True})


def sanitise_description(raw):
    """Safe HTML from what a resident typed (Markdown or HTML): limited tags, links
    rel=nofollow, no scripts. Plain text keeps its paragraphs and line breaks."""
    rendered = _MARKDOWN.render((raw or "").replace("\r\n", "\n").replace("\r", "\n"))
    return nh3.clean(rendered, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     link_rel="nofollow noopener", url_schemes={"http", "https", "mailto"},
                     strip_comments=True).strip()


def clean_title(raw):
    """A title as plain text: tags (and a script's or style's content) removed, entities decoded,
    spaces collapsed. Repeated so that escaped tags (`&lt;b&gt;`) do not come back as tags."""
    title = raw if isinstance(raw, str) else ""
    for _round in range(3):
        cleaned = html.unescape(nh3.clean(title, tags=set()))
        if cleaned == title:
            break
        title = cleaned
    return " ".join(title.split())


def plain_text(html):
    return nh3.clean(html or "", tags=set()).strip()


# --- photos ----------------------------------------------------------------------------------

def _read(upload):
    if isinstance(upload, (bytes, bytearray)):
        return bytes(upload)
    # A file-like object (werkzeug FileStorage or an open file): read one byte past the limit.
    return upload.read(MAX_PHOTO_BYTES + 1)


def _decode_photo(data):
    """A Pillow image ready to save, or a (message, params) tuple saying what is wrong."""
    if len(data) > MAX_PHOTO_BYTES:
        return (N_("Each photo may be at most %(n)s MB."), {"n": MAX_PHOTO_BYTES // (1024 * 1024)})
    if not data:
        return (N_("The file is empty."), {})
    too_large = (Np_("The image has too many pixels: at most %(n)s megapixel.",
                     "The image has too many pixels: at most %(n)s megapixels."),)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:  # reads the header only
                if probe.format not in ACCEPTED_FORMATS:
                    return (N_("Photos must be JPEG, PNG or WebP images."), {})
                limit = MAX_JPEG_PIXELS if probe.format == "JPEG" else MAX_SOURCE_PIXELS
                if probe.width * probe.height > limit:
                    return too_large + ({"n": limit // 1_000_000},)
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if image.format == "JPEG":
                image.draft("RGB", (MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
            image.load()
            image = ImageOps.exif_transpose(image)  # upright, before the EXIF goes
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return too_large + ({"n": MAX_SOURCE_PIXELS // 1_000_000},)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return (N_("This file is not a valid JPEG, PNG or WebP image."), {})
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    elif image.mode == "L":
        image = image.convert("RGB")
    image.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
    return _without_metadata(image)


def _without_metadata(image):
    """The pixels only: Pillow writes a JPEG comment (COM), ICC profile or XMP it finds in
    `info` when saving, and EXIF carries GPS positions and camera serials."""
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    return clean


def _check_photos(errors, uploads, existing_count):
    images = []
    uploads = [u for u in (uploads or []) if u is not None]
    if existing_count + len(uploads) > MAX_PHOTOS:
        errors.add("photos", Np_("At most %(n)s photo per proposal.", "At most %(n)s photos per proposal."),
                   n=MAX_PHOTOS)
        return []
    for upload in uploads:
        result = _decode_photo(_read(upload))
        if isinstance(result, tuple):
            errors.add("photos", result[0], **result[1])
        else:
            images.append(result)
    return images


def _store_photos(proposal, images):
    for image in images:
        buffer = io.BytesIO()
        # A fresh image re-encoded without `exif=`, `comment=` or `icc_profile=`: no metadata.
        image.save(buffer, "JPEG", quality=85, optimize=True)
        proposal.photos.append(ProposalPhoto(filename=secrets.token_hex(16) + ".jpg",
                                             file=files.save(buffer.getvalue(), "image/jpeg"),
                                             width=image.width, height=image.height))


# --- validation ------------------------------------------------------------------------------

def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_text(errors, values, clean):
    """The title (plain text) and the description (Markdown → safe HTML)."""
    title = clean_title(values.get("title"))
    if not title:
        errors.add("title", N_("Enter a title."))
    elif len(title) < MIN_TITLE or len(title) > MAX_TITLE:
        errors.add("title", N_("The title must be %(min)s to %(max)s characters long."),
                   min=MIN_TITLE, max=MAX_TITLE)
    clean["title"] = title
    raw = values.get("description")
    raw = raw if isinstance(raw, str) else ""
    description = sanitise_description(raw)
    if not plain_text(description):
        errors.add("description", N_("Describe the project."))
    elif len(description) > MAX_DESCRIPTION:
        errors.add("description", Np_("At most %(n)s character.", "At most %(n)s characters."), n=MAX_DESCRIPTION)
    clean["description"] = description


def _validate(errors, cycle, values):
    """Check proposal fields against the cycle's rules; returns the cleaned values."""
    clean = {}
    _validate_text(errors, values, clean)
    category = values.get("category")
    if category not in (cycle.categories or []):
        errors.add("category", N_("Choose one of the categories this cycle accepts."))
    clean["category"] = category
    cost = values.get("cost")
    if not _is_int(cost) or cost <= 0:
        errors.add("cost", N_("Enter the cost as a positive whole number of tenge."))
    elif cost > cycle.max_project_cost:
        errors.add("cost", N_("The cost may not exceed %(cap)s tenge in this cycle."),
                   cap=f"{cycle.max_project_cost:,}".replace(",", "\u00a0"))
    clean["cost"] = cost
    address = values.get("address") or ""
    if not isinstance(address, str):
        errors.add("address", N_("This field has the wrong type."))
        address = ""
    elif len(address.strip()) > MAX_ADDRESS:
        errors.add("address", Np_("At most %(n)s character.", "At most %(n)s characters."), n=MAX_ADDRESS)
    clean["address"] = address.strip()
    _validate_place(errors, cycle, values, clean)
    return clean


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _validate_place(errors, cycle, values, clean):
    """Latitude and longitude: both or neither, in range, and inside the cycle's territory
    where its bounding box is known (app.domain.territories.bounding_box)."""
    lat, lon = values.get("latitude"), values.get("longitude")
    clean["latitude"] = float(lat) if _is_number(lat) else None
    clean["longitude"] = float(lon) if _is_number(lon) else None
    if (lat is None) != (lon is None):
        errors.add("latitude", N_("Give both latitude and longitude, or neither."))
        return
    if lat is None:
        return
    lat_ok = _is_number(lat) and -90 <= lat <= 90
    lon_ok = _is_number(lon) and -180 <= lon <= 180
    if not lat_ok:
        errors.add("latitude", N_("The latitude must be between -90 and 90."))
    if not lon_ok:
        errors.add("longitude", N_("The longitude must be between -180 and 180."))
    if lat_ok and lon_ok:
        unit, box = territories.bounding_box(cycle.territory)
        if box is not None and not territories.box_contains(box, lat, lon):
            errors.add("latitude", N_("This place is outside %(unit)s: choose a place inside it."),
                       unit=unit.names)


# --- residents -------------------------------------------------------------------------------

def require_can_submit(user, cycle):
    """The cycle takes proposals, and the user is a resident of its territory."""
    phases.require(cycle, "submit_proposal")
    require_resident_of(user, cycle.territory)
    require_assurance(user, cycle, "propose")


def submit_proposal(author, cycle, values, photos=(), language="kk"):
    """A resident of the cycle's territory (or a unit inside it) proposes a project.

    values: title, description, category, cost, address?, latitude?, longitude?
    photos: bytes or file-like objects (at most MAX_PHOTOS)."""
    require_can_submit(author, cycle)
    errors = FieldErrors()
    clean = _validate(errors, cycle, values)
    images = _check_photos(errors, photos, 0)
    errors.raise_if_any()
    proposal = Proposal(cycle=cycle, author=author, territory=author.territory,
                        language=language if language in LANGUAGES else "kk",
                        status=ProposalStatus.SUBMITTED.value, **clean)
    db.session.add(proposal)
    _store_photos(proposal, images)
    db.session.flush()
    return proposal


def _require_author(user, proposal):
    if user is None or getattr(user, "id", None) != proposal.author_id:
        raise NotAllowed("not_author", N_("Only the author can change this proposal."))


def _require_editable(proposal, now):
    """Authors edit until review starts; during review only when asked, before the deadline."""
    if proposal.status == ProposalStatus.WITHDRAWN.value:
        raise Conflict("proposal_withdrawn", N_("This proposal was withdrawn."))
    if phases.allows(proposal.cycle, "edit_proposal"):
        return
    if proposal.status == ProposalStatus.REVISION_REQUESTED.value:
        phases.require(proposal.cycle, "revise_proposal")
        deadline = proposal.revision_deadline
        if deadline is not None and now > deadline:
            raise Conflict("revision_deadline_passed", N_("The deadline for the revision has passed."))
        return
    phases.require(proposal.cycle, "edit_proposal")


def require_can_edit(user, proposal, now=None):
    """The author, while the proposal is editable (see _require_editable)."""
    _require_editable(proposal, now or datetime.now(timezone.utc))
    _require_author(user, proposal)


def update_proposal(author, proposal, values, photos=(), remove_photo_ids=(), now=None):
    """The author edits (during `proposals`) or revises when the council asked (in `review`)."""
    now = now or datetime.now(timezone.utc)
    require_can_edit(author, proposal, now)
    merged = {name: getattr(proposal, name) for name in EDITABLE_FIELDS}
    merged.update({k: v for k, v in values.items() if k in EDITABLE_FIELDS})
    errors = FieldErrors()
    clean = _validate(errors, proposal.cycle, merged)
    removing = [p for p in proposal.photos if p.id in set(remove_photo_ids or ())]
    images = _check_photos(errors, photos, len(proposal.photos) - len(removing))
    errors.raise_if_any()
    for name, value in clean.items():
        setattr(proposal, name, value)
    for photo in removing:
        proposal.photos.remove(photo)  # delete-orphan: the photo and its stored file go
    _store_photos(proposal, images)
    if proposal.status == ProposalStatus.REVISION_REQUESTED.value:
        proposal.status = ProposalStatus.SUBMITTED.value  # back to the council for a decision
    proposal.updated_at = now
    db.session.flush()
    return proposal


def require_can_withdraw(user, proposal):
    """The author, while proposals are open."""
    if proposal.status == ProposalStatus.WITHDRAWN.value:
        raise Conflict("proposal_withdrawn", N_("This proposal was withdrawn."))
    phases.require(proposal.cycle, "edit_proposal")
    _require_author(user, proposal)


def withdraw_proposal(author, proposal):
    """The author withdraws while proposals are open."""
    require_can_withdraw(author, proposal)
    proposal.status = ProposalStatus.WITHDRAWN.value
    return proposal


# --- the Expert Council ----------------------------------------------------------------------

def require_can_review(staff, proposal):
    """Staff of the territory, during the review, on a proposal that was not withdrawn."""
    phases.require(proposal.cycle, "review")
    if proposal.status == ProposalStatus.WITHDRAWN.value:
        raise Conflict("proposal_withdrawn", N_("This proposal was withdrawn."))
    require_staff_of(staff, proposal.cycle.territory)


def review_proposal(staff, proposal, decision, reason=None, revision_deadline=None, now=None, language=None):
    """Admit, reject (a reason is required) or ask for a revision (a reason and a future deadline).

    reason: {kk, ru, en} texts, or one string (the text in `language`, else in the language its
    letters show: app.domain.texts). A rejection or a revision needs it in at least one language."""
    now = now or datetime.now(timezone.utc)
    cycle = proposal.cycle
    require_can_review(staff, proposal)
    errors = FieldErrors()
    if decision not in DECISIONS:
        errors.add("decision", N_("Choose a decision."))
    reasons = texts.clean_texts(errors, "reason", reason, MAX_REASON, language)
    given = texts.has_text(reasons)
    if decision == ProposalStatus.REJECTED.value and not given:
        errors.add("reason", N_("State the reason for the rejection: it is published."))
    if decision == ProposalStatus.REVISION_REQUESTED.value:
        if not given:
            errors.add("reason", N_("Say what the author should revise."))
        if not isinstance(revision_deadline, datetime) or revision_deadline.tzinfo is None:
            errors.add("revision_deadline", N_("Enter a deadline for the revision."))
        elif revision_deadline <= now:
            errors.add("revision_deadline", N_("The deadline must be in the future."))
    errors.raise_if_any()
    before = audit.snapshot(proposal, REVIEW_FIELDS)
    proposal.status = decision
    texts.set_texts(proposal, "review_reason", reasons)
    proposal.revision_deadline = revision_deadline if decision == ProposalStatus.REVISION_REQUESTED.value else None
    proposal.reviewed_by = staff
    proposal.reviewed_at = now
    audit.record(staff, "proposal.review", proposal, cycle.territory, before,
                 audit.snapshot(proposal, REVIEW_FIELDS))
    return proposal


def request_revision(staff, proposal, reason, deadline, now=None):
    return review_proposal(staff, proposal, ProposalStatus.REVISION_REQUESTED.value, reason, deadline, now=now)


def require_can_publish_protocol(staff, cycle):
    """In review (or voting), by staff of the territory, once every proposal has a decision
    (or awaits a revision): the staff page asks this before it shows the button."""
    phases.require(cycle, "publish_protocol")
    require_staff_of(staff, cycle.territory)
    undecided = [p for p in cycle.proposals if p.status == ProposalStatus.SUBMITTED.value]
    if undecided:
        raise Conflict("proposals_undecided",
                       Np_("Every proposal needs a decision before the protocol is published: %(n)s still waits.",
                           "Every proposal needs a decision before the protocol is published: %(n)s still wait."),
                       n=len(undecided))


def publish_protocol(staff, cycle, now=None):
    """Publish the admission protocol: every proposal has a decision (or awaits a revision).

    May be published again after revisions (the preliminary, then the final protocol)."""
    now = now or datetime.now(timezone.utc)
    require_can_publish_protocol(staff, cycle)
    before = {"protocol_published_at": cycle.protocol_published_at}
    cycle.protocol_published_at = now
    audit.record(staff, "cycle.protocol", cycle, cycle.territory, before,
                 {"protocol_published_at": now,
                  "decisions": {p.id: p.status for p in cycle.proposals}})
    return cycle


# --- reading ---------------------------------------------------------------------------------

def is_public(proposal):
    """Withdrawn proposals and those of draft cycles are seen only by their author and staff."""
    return proposal.status != ProposalStatus.WITHDRAWN.value and proposal.cycle.phase != Phase.DRAFT.value


def get_proposal(proposal_id, viewer=None):
    """A proposal the viewer may see: withdrawn ones and drafts' only for author and staff."""
    proposal = records.get(Proposal, proposal_id)
    if proposal is not None:
        insider = (viewer is not None and getattr(viewer, "id", None) == proposal.author_id) or \
            is_staff_of(viewer, proposal.cycle.territory)
        if is_public(proposal) or insider:
            return proposal
    raise NotFound("proposal_not_found", N_("There is no such proposal."))


def public_query(cycle, category=None, status=None, q=None):
    """The query of a cycle's public proposals (withdrawn ones are not listed), filtered: one
    rule for the list, the map and the GeoJSON."""
    query = select(Proposal).where(Proposal.cycle_id == cycle.id,
                                   Proposal.status != ProposalStatus.WITHDRAWN.value)
    if category:
        query = query.where(Proposal.category == category)
    if status:
        query = query.where(Proposal.status == status)
    if q:
        pattern = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Proposal.title.ilike(pattern, escape="\\"),
                                Proposal.address.ilike(pattern, escape="\\"),
                                Proposal.description.ilike(pattern, escape="\\")))
    return query


def search_proposals(cycle, category=None, status=None, q=None, page=1, per_page=20):
    """(proposals on the page, total) of a cycle's public proposals, filtered."""
    query = public_query(cycle, category, status, q)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = min(max(1, page), MAX_PAGE)
    items = db.session.scalars(query.order_by(Proposal.id).offset((page - 1) * per_page).limit(per_page)).all()
    return items, total


def proposals_of(author):
    return db.session.scalars(select(Proposal).where(Proposal.author_id == author.id)
                              .order_by(Proposal.created_at.desc(), Proposal.id.desc())).all()


def review_queue(cycle):
    """Proposals in the order the council works through them: undecided first."""
    order = {ProposalStatus.SUBMITTED.value: 0, ProposalStatus.REVISION_REQUESTED.value: 1,
             ProposalStatus.ADMITTED.value: 2, ProposalStatus.REJECTED.value: 3,
             ProposalStatus.WITHDRAWN.value: 4}
    return sorted(cycle.proposals, key=lambda p: (order.get(p.status, 9), p.id))


def photo_of(proposal_id, filename):
    photo = db.session.scalar(select(ProposalPhoto).where(ProposalPhoto.proposal_id == proposal_id,
                                                          ProposalPhoto.filename == filename))
    if photo is None:
        raise NotFound("photo_not_found", N_("There is no such photo."))
    return photo


__all__ = ["DomainError", "submit_proposal", "update_proposal", "withdraw_proposal", "review_proposal",
           "request_revision", "publish_protocol", "sanitise_description"]
