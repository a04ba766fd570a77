"""The staff console: cycles the member manages, phase moves, the Expert Council's review."""
import math

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required

from app.cycles.labels import ACTION_LABELS, CATEGORY_LABELS, local_input, parse_int, parse_local_datetime
from app.domain import audit_log, cycles as cycle_domain, phases, proposals as proposal_domain
from app.domain.errors import DomainError
from app.domain.permissions import is_staff_of
from app import notifications
from app.extensions import db
from app.staff import bp
from wtforms.fields.choices import SelectChoice

from app.staff.forms import CycleForm, PhaseForm, ProtocolForm, ReviewForm
from app.web import domain_action, show_domain_error

AUDIT_PER_PAGE = 50


@bp.before_request
@login_required
def staff_only():
    if not current_user.is_staff:
        abort(403)


def _managed_cycle(cycle_id):
    try:
        cycle = cycle_domain.get_cycle(cycle_id, current_user)
    except DomainError:
        abort(404)
    if not is_staff_of(current_user, cycle.territory):
        abort(403)
    return cycle


def _territory_choices(locale):
    return [SelectChoice(u.code, "\u2003" * u.depth + u.name(locale)) for u in cycle_domain.manageable_territories(current_user)]


def _cycle_values(form):
    values = {name: getattr(form, name).data or "" for name in cycle_domain.TEXT_FIELDS}
    for name in ("year", "budget", "max_project_cost", "max_choices", "min_voters"):
        values[name] = parse_int(getattr(form, name).data)
    values["categories"] = list(form.categories.data or [])
    values["ballot_style"] = form.ballot_style.data
    values["rule"] = form.rule.data
    for name in cycle_domain.SCHEDULE_FIELDS:
        values[name] = parse_local_datetime(getattr(form, name).data)
    return values


def _fill(form, cycle):
    for name in cycle_domain.TEXT_FIELDS:
        getattr(form, name).data = getattr(cycle, name)
    for name in ("year", "budget", "max_project_cost", "max_choices", "min_voters"):
        value = getattr(cycle, name)
        getattr(form, name).data = "" if value is None else str(value)
    form.categories.data = list(cycle.categories or [])
    form.ballot_style.data, form.rule.data = cycle.ballot_style, cycle.rule
    for name in cycle_domain.SCHEDULE_FIELDS:
        getattr(form, name).data = local_input(getattr(cycle, name))


@bp.route("/staff/")
def dashboard():
    return render_template("staff/dashboard.html", cycles=cycle_domain.managed_cycles(current_user))


@bp.route("/staff/cycles/new", methods=["GET", "POST"])
def new_cycle():
    form = CycleForm()
    form.territory.choices = _territory_choices(str(get_locale()))
    status = 200
    if request.method == "GET":
        defaults = cycle_domain.defaults()
        form.year.data, form.min_voters.data = str(defaults["year"]), str(defaults["min_voters"])
        form.max_choices.data, form.categories.data = str(defaults["max_choices"]), defaults["categories"]
        form.ballot_style.data, form.rule.data = defaults["ballot_style"], defaults["rule"]
        form.territory.data = current_user.territory.code
    if form.validate_on_submit():
        with domain_action(form) as outcome:
            territory = cycle_domain.find_territory(form.territory.data)
            cycle = cycle_domain.create_cycle(current_user, territory, _cycle_values(form))
        if outcome.failed:
            status = outcome.status
        else:
            flash(_("The cycle has been created as a draft."), "success")
            return redirect(url_for("staff.cycle", cycle_id=cycle.id))
    elif request.method == "POST":
        status = 400
    return render_template("staff/cycle_form.html", form=form, cycle=None), status


@bp.route("/staff/cycles/<int:cycle_id>/edit", methods=["GET", "POST"])
def edit_cycle(cycle_id):
    cycle = _managed_cycle(cycle_id)
    form = CycleForm()
    del form.territory
    status = 200
    if request.method == "GET":
        _fill(form, cycle)
    if form.validate_on_submit():
        with domain_action(form) as outcome:
            cycle_domain.update_cycle(current_user, cycle, _cycle_values(form))
        if outcome.failed:
            status = outcome.status
        else:
            flash(_("The cycle has been saved."), "success")
            return redirect(url_for("staff.cycle", cycle_id=cycle.id))
    elif request.method == "POST":
        status = 400
    return render_template("staff/cycle_form.html", form=form, cycle=cycle,
                           locked=not phases.allows(cycle, "edit_settings")), status


@bp.route("/staff/cycles/<int:cycle_id>")
def cycle(cycle_id):
    cycle = _managed_cycle(cycle_id)
    following = phases.next_phase(cycle)
    phase_form = PhaseForm(phase=following.value if following else "")
    return render_template("staff/cycle.html", cycle=cycle, next_phase=following and following.value,
                           phase_form=phase_form, protocol_form=ProtocolForm(),
                           queue=proposal_domain.review_queue(cycle),
                           can_review=phases.allows(cycle, "review"),
                           can_publish_protocol=phases.allows(cycle, "publish_protocol"))


@bp.route("/staff/cycles/<int:cycle_id>/phase", methods=["POST"])
def move_phase(cycle_id):
    cycle = _managed_cycle(cycle_id)
    form = PhaseForm()
    if not form.validate_on_submit():
        abort(400)
    if not form.confirm.data:
        flash(_("Tick the confirmation to move the cycle to the next phase."), "error")
        return redirect(url_for("staff.cycle", cycle_id=cycle.id))
    try:
        cycle_domain.move_phase(current_user, cycle, form.phase.data)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        show_domain_error(None, error)
    else:
        if cycle.phase == "published":
            notifications.notify_cycle_published(cycle)
        flash(_("The cycle has moved to the next phase."), "success")
    return redirect(url_for("staff.cycle", cycle_id=cycle.id))


@bp.route("/staff/proposals/<int:proposal_id>/review", methods=["GET", "POST"])
def review(proposal_id):
    try:
        proposal = proposal_domain.get_proposal(proposal_id, current_user)
    except DomainError:
        abort(404)
    if not is_staff_of(current_user, proposal.cycle.territory):
        abort(403)
    form = ReviewForm()
    status = 200
    if request.method == "GET":
        if proposal.status in ("admitted", "rejected", "revision_requested"):
            form.decision.data = proposal.status
        form.reason.data = proposal.review_reason
        form.revision_deadline.data = local_input(proposal.revision_deadline)
    if form.validate_on_submit():
        with domain_action(form) as outcome:
            proposal_domain.review_proposal(current_user, proposal, form.decision.data, form.reason.data or "",
                                            parse_local_datetime(form.revision_deadline.data))
        if outcome.failed:
            status = outcome.status
        else:
            notifications.notify_proposal_reviewed(proposal)
            flash(_("The decision has been recorded."), "success")
            return redirect(url_for("staff.cycle", cycle_id=proposal.cycle_id))
    elif request.method == "POST":
        status = 400
    elif not phases.allows(proposal.cycle, "review"):
        flash(_("Proposals are reviewed only during the review phase."), "error")
    return render_template("staff/review.html", form=form, proposal=proposal, cycle=proposal.cycle), status


@bp.route("/staff/cycles/<int:cycle_id>/protocol", methods=["POST"])
def publish_protocol(cycle_id):
    cycle = _managed_cycle(cycle_id)
    form = ProtocolForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        proposal_domain.publish_protocol(current_user, cycle)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        show_domain_error(None, error)
        return redirect(url_for("staff.cycle", cycle_id=cycle.id))
    flash(_("The admission protocol has been published."), "success")
    return redirect(url_for("cycles.protocol", cycle_id=cycle.id))


@bp.route("/staff/audit")
def audit():
    if not current_user.is_admin:
        abort(403)
    action = request.args.get("action") or None
    action = action if action in ACTION_LABELS else None
    object_type = request.args.get("object_type") or None
    object_type = object_type if object_type in ("cycle", "proposal") else None
    object_id = parse_int(request.args.get("object_id"))
    object_id = object_id if isinstance(object_id, int) else None
    territory = None
    if request.args.get("territory"):
        try:
            territory = cycle_domain.find_territory(request.args["territory"])
        except DomainError:
            territory = None
    page = parse_int(request.args.get("page"))
    page = page if isinstance(page, int) and page > 0 else 1
    entries, total = audit_log.search_audit(current_user, action=action, object_type=object_type,
                                            object_id=object_id, territory=territory, page=page,
                                            per_page=AUDIT_PER_PAGE)
    return render_template("staff/audit.html", entries=entries, total=total, page=page,
                           pages=max(1, math.ceil(total / AUDIT_PER_PAGE)), action=action,
                           object_type=object_type, object_id=object_id,
                           territory=request.args.get("territory", ""), categories=CATEGORY_LABELS)
