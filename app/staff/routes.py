"""The staff console: cycles the member manages, phase moves, the Expert Council's review."""
import math
from datetime import datetime, timezone

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app import notifications
from app.domain import access, console, counting, lifecycle, phases, publication, residence, texts
from app.domain import audit as audit_domain
from app.domain import cycles as cycle_domain
from app.domain import proposals as proposal_domain
from app.domain.errors import DomainError
from app.domain.permissions import is_staff_of
from app.form_values import local_input, parse_int, parse_local_datetime
from app.labels import ACTION_LABELS, CATEGORY_LABELS, PHASE_LABELS
from app.languages import LANGUAGE_NAMES, LANGUAGES
from app.staff import bp
from app.staff.forms import CycleForm, PhaseForm, ProtocolForm, ReviewForm, VerifyResidentForm
from app.web import domain_action, submit

AUDIT_PER_PAGE = 50


@bp.before_request
@login_required
def staff_only():
    if not current_user.is_staff:
        abort(403)


def _texts(form, name):
    """{kk, ru, en} from a form's `<name>_<lang>` fields."""
    return {lang: form[f"{name}_{lang}"].data or "" for lang in LANGUAGES}


def managed_cycle(cycle_id):
    """A cycle of the member's territory (404 for none, 403 for another territory's)."""
    cycle = cycle_domain.get_cycle(cycle_id, current_user)
    if not is_staff_of(current_user, cycle.territory):
        abort(403)
    return cycle


def managed_proposal(proposal_id):
    proposal = proposal_domain.get_proposal(proposal_id, current_user)
    if not is_staff_of(current_user, proposal.cycle.territory):
        abort(403)
    return proposal


def _territory_choices(locale):
    return [SelectChoice(u.code, "\u2003" * u.depth + u.name(locale))
            for u in cycle_domain.manageable_territories(current_user)]


def _cycle_values(form):
    values = {name: getattr(form, name).data or "" for name in cycle_domain.TEXT_FIELDS}
    for name in ("year", "budget", "max_project_cost", "max_choices", "min_voters"):
        values[name] = parse_int(getattr(form, name).data)
    values["categories"] = list(form.categories.data or [])
    values["ballot_style"] = form.ballot_style.data
    values["rule"] = form.rule.data
    for action in ("propose", "vote"):  # a form without the field keeps the cycle's (or default) level
        if getattr(form, f"min_assurance_{action}").data:
            values[f"min_assurance_{action}"] = getattr(form, f"min_assurance_{action}").data
    values["residence_verified_to_vote"] = bool(form.residence_verified_to_vote.data)
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
    form.min_assurance_propose.data = cycle.min_assurance_propose
    form.min_assurance_vote.data = cycle.min_assurance_vote
    form.residence_verified_to_vote.data = cycle.residence_verified_to_vote
    for name in cycle_domain.SCHEDULE_FIELDS:
        getattr(form, name).data = local_input(getattr(cycle, name))


@bp.route("/staff/")
def dashboard():
    todos = console.console(current_user, cycle_domain.managed_cycles(current_user))
    return render_template("staff/dashboard.html", todos=todos)


@bp.route("/staff/cycles/new", methods=["GET", "POST"])
def new_cycle():
    form = CycleForm()
    form.territory.choices = _territory_choices(str(get_locale()))
    if request.method == "GET":
        defaults = cycle_domain.defaults()
        form.year.data, form.min_voters.data = str(defaults["year"]), str(defaults["min_voters"])
        form.max_choices.data, form.categories.data = str(defaults["max_choices"]), defaults["categories"]
        form.ballot_style.data, form.rule.data = defaults["ballot_style"], defaults["rule"]
        form.min_assurance_propose.data = defaults["min_assurance_propose"]
        form.min_assurance_vote.data = defaults["min_assurance_vote"]
        form.territory.data = current_user.territory.code
    done, status = submit(
        form, lambda: cycle_domain.create_cycle(current_user, cycle_domain.find_territory(form.territory.data),
                                                _cycle_values(form)),
        _("The cycle has been created as a draft."), lambda cycle: url_for("staff.cycle", cycle_id=cycle.id))
    return done or (render_template("staff/cycle_form.html", form=form, cycle=None), status)


@bp.route("/staff/cycles/<id:cycle_id>/edit", methods=["GET", "POST"])
def edit_cycle(cycle_id):
    cycle = managed_cycle(cycle_id)
    form = CycleForm()
    del form.territory
    if request.method == "GET":
        _fill(form, cycle)
    done, status = submit(form, lambda: cycle_domain.update_cycle(current_user, cycle, _cycle_values(form)),
                          _("The cycle has been saved."), lambda _cycle: url_for("staff.cycle", cycle_id=cycle.id))
    return done or (render_template("staff/cycle_form.html", form=form, cycle=cycle,
                                    locked=not phases.allows(cycle, "edit_settings")), status)


@bp.route("/staff/cycles/<id:cycle_id>")
def cycle(cycle_id):
    cycle = managed_cycle(cycle_id)
    todo = console.cycle_todo(current_user, cycle)
    phase_form = PhaseForm(phase=todo.next_phase or "")
    queue = proposal_domain.review_queue(cycle)
    sections = console.cycle_sections(cycle)
    return render_template(
        "staff/cycle.html", cycle=cycle, todo=todo, next_phase=todo.next_phase, sections=sections,
        phase_form=phase_form, protocol_form=ProtocolForm(), queue=queue,
        reviewable={p.id for p in queue if access.allowed(proposal_domain.require_can_review, current_user, p)},
        protocol=access.ask(proposal_domain.require_can_publish_protocol, current_user, cycle),
        protocol_final=lifecycle.protocol_is_final(cycle),
        summary=console.count_summary(cycle) if sections["counts"] else None,
        count=counting.count_state(cycle), count_retry=counting.may_retry(cycle),
        missing=publication.missing_conclusions(cycle) if sections["conclusions"] else [],
        approved=console.approved_proposals(cycle) if sections["implementation"] else [],
        implementation_due={p.id for p in console.implementation_due(cycle, datetime.now(timezone.utc))}
        if sections["implementation"] else set())


@bp.route("/staff/cycles/<id:cycle_id>/phase", methods=["POST"])
def move_phase(cycle_id):
    cycle = managed_cycle(cycle_id)
    form = PhaseForm()
    if not form.validate_on_submit():
        abort(400)
    back = url_for("staff.cycle", cycle_id=cycle.id)
    if not form.confirm.data:
        flash(_("Tick the confirmation to move the cycle to the next phase."), "error")
        return redirect(back)
    with domain_action() as outcome:
        cycle_domain.move_phase(current_user, cycle, form.phase.data,
                                confirm_off_schedule=bool(form.confirm_off_schedule.data))
    if not outcome.failed:
        notifications.notify_phase_moved(cycle)
        flash(_("The cycle has moved to the next phase: %(phase)s.", phase=PHASE_LABELS[cycle.phase]), "success")
    return redirect(back)


@bp.route("/staff/cycles/<id:cycle_id>/count/retry", methods=["POST"])
def retry_count(cycle_id):
    """Start a failed (or lost) count again: a new job, once this commits."""
    cycle = managed_cycle(cycle_id)
    with domain_action() as outcome:
        counting.retry_count(current_user, cycle)
    if not outcome.failed:
        flash(_("The count has started again."), "success")
    return redirect(url_for("staff.cycle", cycle_id=cycle.id) + "#counting")


@bp.route("/staff/proposals/<id:proposal_id>/review", methods=["GET", "POST"])
def review(proposal_id):
    proposal = managed_proposal(proposal_id)
    form = ReviewForm()
    if request.method == "GET":
        if proposal.status in ("admitted", "rejected", "revision_requested"):
            form.decision.data = proposal.status
        for lang in LANGUAGES:
            form[f"reason_{lang}"].data = getattr(proposal, f"review_reason_{lang}")
        form.revision_deadline.data = local_input(proposal.revision_deadline)
    done, status = submit(
        form, lambda: proposal_domain.review_proposal(current_user, proposal, form.decision.data,
                                                      _texts(form, "reason"),
                                                      parse_local_datetime(form.revision_deadline.data)),
        _("The decision has been recorded."), lambda _p: url_for("staff.cycle", cycle_id=proposal.cycle_id))
    if done:
        notifications.notify_proposal_reviewed(proposal)
        return done
    return render_template("staff/review.html", form=form, proposal=proposal, cycle=proposal.cycle,
                           missing=texts.missing_languages(_texts(form, "reason")), language_name=LANGUAGE_NAMES.get,
                           refused=access.refusal(proposal_domain.require_can_review, current_user, proposal)), status


@bp.route("/staff/cycles/<id:cycle_id>/protocol", methods=["POST"])
def publish_protocol(cycle_id):
    cycle = managed_cycle(cycle_id)
    form = ProtocolForm()
    if not form.validate_on_submit():
        abort(400)
    with domain_action() as outcome:
        proposal_domain.publish_protocol(current_user, cycle)
    if outcome.failed:
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
            territory = None  # an unknown code filters nothing out
    page = parse_int(request.args.get("page"))
    page = page if isinstance(page, int) and page > 0 else 1
    entries, total = audit_domain.search_audit(current_user, action=action, object_type=object_type,
                                            object_id=object_id, territory=territory, page=page,
                                            per_page=AUDIT_PER_PAGE)
    return render_template("staff/audit.html", entries=entries, total=total, page=page,
                           pages=max(1, math.ceil(total / AUDIT_PER_PAGE)), action=action,
                           object_type=object_type, object_id=object_id,
                           territory=request.args.get("territory", ""), categories=CATEGORY_LABELS)


@bp.route("/staff/residents", methods=["GET", "POST"])
def verify_resident():
    """A resident came in with a document: find them by IIN (hashed, never shown), verify."""
    form = VerifyResidentForm()
    done, status = submit(
        form, lambda: residence.verify_by_staff(current_user, form.iin.data, form.document.data,
                                                current_app.config["IIN_HMAC_KEY"]),
        _("The resident's home is now verified."), lambda user: url_for("staff.verify_resident"))
    form.iin.data = ""  # the IIN never travels back to the page
    return done or (render_template("staff/residents.html", form=form), status)
