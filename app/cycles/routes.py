"""Public pages of cycles and proposals, and the resident's own proposals."""
import math

from flask import abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.cycles import bp
from app.cycles.forms import ProposalForm, WithdrawForm
from app.cycles.labels import CATEGORY_LABELS, PHASE_LABELS, STATUS_LABELS, parse_float, parse_int
from app.domain import cycles as cycle_domain, phases, proposals as proposal_domain
from app.domain.errors import DomainError
from app.domain.permissions import is_resident_of, is_staff_of
from app.extensions import db
from app.web import domain_action, show_domain_error

PER_PAGE = 20


def _viewer():
    return current_user if current_user.is_authenticated else None


def _cycle_or_404(cycle_id):
    try:
        return cycle_domain.get_cycle(cycle_id, _viewer())
    except DomainError:
        abort(404)


def _proposal_or_404(proposal_id):
    try:
        return proposal_domain.get_proposal(proposal_id, _viewer())
    except DomainError:
        abort(404)


def _page_arg():
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def _proposal_values(form):
    return {"title": form.title.data, "description": form.description.data, "category": form.category.data,
            "cost": parse_int(form.cost.data), "address": form.address.data or "",
            "latitude": parse_float(form.latitude.data), "longitude": parse_float(form.longitude.data)}


def _uploads(form):
    return [f for f in (form.photos.data or []) if getattr(f, "filename", "")]


def _category_choices(cycle):
    return [SelectChoice("", _("Choose…"))] + [SelectChoice(c, str(CATEGORY_LABELS.get(c, c)))
                                              for c in cycle.categories or []]


@bp.route("/cycles")
def index():
    phase = request.args.get("phase") or None
    if phase not in PHASE_LABELS:
        phase = None
    cycles = cycle_domain.list_cycles(phase=phase, viewer=_viewer())
    return render_template("cycles/index.html", cycles=cycles, phase=phase)


@bp.route("/cycles/<int:cycle_id>")
def cycle(cycle_id):
    cycle = _cycle_or_404(cycle_id)
    category = request.args.get("category") or None
    status = request.args.get("status") or None
    category = category if category in CATEGORY_LABELS else None
    status = status if status in STATUS_LABELS else None
    q = (request.args.get("q") or "").strip()[:100] or None
    page = _page_arg()
    items, total = proposal_domain.search_proposals(cycle, category=category, status=status, q=q,
                                                    page=page, per_page=PER_PAGE)
    pages = max(1, math.ceil(total / PER_PAGE))
    can_propose = phases.allows(cycle, "submit_proposal") and (
        not current_user.is_authenticated or is_resident_of(current_user, cycle.territory))
    return render_template("cycles/cycle.html", cycle=cycle, proposals=items, total=total, page=page,
                           pages=pages, category=category, status=status, q=q or "",
                           can_propose=can_propose, locale=str(get_locale()),
                           is_staff=is_staff_of(_viewer(), cycle.territory))


@bp.route("/cycles/<int:cycle_id>/proposals/new", methods=["GET", "POST"])
@login_required
def new_proposal(cycle_id):
    cycle = _cycle_or_404(cycle_id)
    form = ProposalForm()
    form.category.choices = _category_choices(cycle)
    status = 200
    if form.validate_on_submit():
        with domain_action(form) as outcome:
            proposal = proposal_domain.submit_proposal(
                current_user, cycle, _proposal_values(form), photos=_uploads(form),
                upload_dir=current_app.config["UPLOAD_DIR"], language=str(get_locale()))
        if outcome.failed:
            status = outcome.status
        else:
            flash(_("Your proposal has been submitted. The Expert Council will review it."), "success")
            return redirect(url_for("cycles.proposal", proposal_id=proposal.id))
    elif request.method == "POST":
        status = 400
    elif not phases.allows(cycle, "submit_proposal"):
        flash(_("This cycle is not taking proposals now."), "error")
        status = 409
    elif not is_resident_of(current_user, cycle.territory):
        flash(_("Only residents of this territory can do this."), "error")
        status = 403
    return render_template("cycles/proposal_form.html", form=form, cycle=cycle, proposal=None), status


@bp.route("/proposals/<int:proposal_id>")
def proposal(proposal_id):
    proposal = _proposal_or_404(proposal_id)
    viewer = _viewer()
    is_author = viewer is not None and viewer.id == proposal.author_id
    return render_template("cycles/proposal.html", proposal=proposal, cycle=proposal.cycle,
                           is_author=is_author, withdraw_form=WithdrawForm(),
                           can_edit=is_author and _editable(proposal),
                           can_withdraw=is_author and proposal.status != "withdrawn"
                           and phases.allows(proposal.cycle, "edit_proposal"),
                           is_staff=is_staff_of(viewer, proposal.cycle.territory))


def _editable(proposal):
    if proposal.status == "withdrawn":
        return False
    return phases.allows(proposal.cycle, "edit_proposal") or (
        proposal.status == "revision_requested" and phases.allows(proposal.cycle, "revise_proposal"))


@bp.route("/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit_proposal(proposal_id):
    proposal = _proposal_or_404(proposal_id)
    if proposal.author_id != current_user.id:
        abort(403)
    form = ProposalForm(obj=proposal if request.method == "GET" else None)
    form.category.choices = _category_choices(proposal.cycle)
    form.submit.label.text = _("Save changes")
    if request.method == "GET":
        form.cost.data = str(proposal.cost)
        form.latitude.data = "" if proposal.latitude is None else str(proposal.latitude)
        form.longitude.data = "" if proposal.longitude is None else str(proposal.longitude)
    status = 200
    if form.validate_on_submit():
        remove = [parse_int(v) for v in request.form.getlist("remove_photo")]
        with domain_action(form) as outcome:
            proposal_domain.update_proposal(current_user, proposal, _proposal_values(form), photos=_uploads(form),
                                            remove_photo_ids=[r for r in remove if isinstance(r, int)],
                                            upload_dir=current_app.config["UPLOAD_DIR"])
        if outcome.failed:
            status = outcome.status
        else:
            flash(_("Your changes have been saved."), "success")
            return redirect(url_for("cycles.proposal", proposal_id=proposal.id))
    elif request.method == "POST":
        status = 400
    elif not _editable(proposal):
        flash(_("Proposals can no longer be edited: the review has started."), "error")
        status = 409
    return render_template("cycles/proposal_form.html", form=form, cycle=proposal.cycle, proposal=proposal), status


@bp.route("/proposals/<int:proposal_id>/withdraw", methods=["POST"])
@login_required
def withdraw_proposal(proposal_id):
    proposal = _proposal_or_404(proposal_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            proposal_domain.withdraw_proposal(current_user, proposal)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            show_domain_error(None, error)
        else:
            flash(_("The proposal has been withdrawn."), "info")
    return redirect(url_for("cycles.proposal", proposal_id=proposal.id))


@bp.route("/my/proposals")
@login_required
def my_proposals():
    return render_template("cycles/my_proposals.html", proposals=proposal_domain.proposals_of(current_user))


@bp.route("/cycles/<int:cycle_id>/protocol")
def protocol(cycle_id):
    cycle = _cycle_or_404(cycle_id)
    is_staff = is_staff_of(_viewer(), cycle.territory)
    if cycle.protocol_published_at is None and not is_staff:
        abort(404)
    listed = [p for p in cycle.proposals if p.status != "withdrawn"]
    return render_template("cycles/protocol.html", cycle=cycle, proposals=listed, draft=cycle.protocol_published_at is None)


@bp.route("/proposals/<int:proposal_id>/photos/<filename>")
def photo(proposal_id, filename):
    proposal = _proposal_or_404(proposal_id)
    try:
        proposal_domain.photo_of(proposal.id, filename)
    except DomainError:
        abort(404)
    response = send_from_directory(current_app.config["UPLOAD_DIR"], filename, mimetype="image/jpeg")
    response.headers["Cache-Control"] = ("public, max-age=86400" if proposal_domain.is_public(proposal)
                                         else "private, no-store")
    return response
