"""Results pages, staff conclusions and publication, and the open-data downloads."""
from itertools import groupby

from flask import (Response, abort, current_app, flash, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app import LANG_PREFIX
from app.domain import conclusions as conclusions_domain, open_data, publication
from app.domain.errors import DomainError
from app.domain.permissions import is_staff_of
from app.extensions import db
from app.i18n import LANGUAGE_NAMES
from app.models import Cycle, ImplementationStatus, Phase, Proposal, ProposalStatus, Territory
from app import notifications
from app.results import bp, feed
from app.results.chart import bar_chart
from app.results.forms import ConclusionForm, ImplementationForm, PublishForm
from app.web import domain_action, show_domain_error


def _lang():
    return str(get_locale())


def _user():
    return current_user if current_user.is_authenticated else None


def visible_cycle(cycle_id):
    """The cycle whose results the visitor may see, or 403/404."""
    cycle = db.session.get(Cycle, cycle_id)
    access = open_data.results_access(_user(), cycle)
    if access == "missing":
        abort(404)
    if access == "forbidden":
        abort(403)
    return cycle


def staff_cycle(cycle_id):
    cycle = db.session.get(Cycle, cycle_id) or abort(404)
    if not is_staff_of(current_user, cycle.territory):
        abort(403)
    return cycle


def staff_proposal(proposal_id):
    proposal = db.session.get(Proposal, proposal_id) or abort(404)
    if not is_staff_of(current_user, proposal.cycle.territory):
        abort(403)
    return proposal


def _language_name(code):
    return LANGUAGE_NAMES.get(code, code)


# --- Public pages ---------------------------------------------------------------------------

@bp.route(LANG_PREFIX + "/results")
def index():
    cycles = db.session.scalars(
        select(Cycle).join(Territory).where(Cycle.phase == Phase.PUBLISHED.value)
        .order_by(Territory.path, Cycle.year.desc(), Cycle.id)).all()
    groups = [(territory, list(items)) for territory, items in groupby(cycles, key=lambda c: c.territory)]
    return render_template("results/index.html", groups=groups)


def _results_context(cycle):
    proposals = open_data.counted_proposals(cycle)
    lang = _lang()
    items = []
    for p in proposals:
        c = p.conclusion
        text, used = open_data.localized_justification(c, lang) if c else ("", lang)
        items.append({"proposal": p, "result": p.result, "conclusion": c, "justification": text,
                      "justification_lang": used, "fallback": bool(text) and used != lang,
                      "updates": open_data.implementation_list(p)})
    turnout = None
    if cycle.voters_count is not None and cycle.territory.population:
        turnout = cycle.voters_count / cycle.territory.population
    return {"cycle": cycle, "items": items, "chart": bar_chart(proposals, cycle.min_voters),
            "turnout": turnout, "language_name": _language_name,
            "recount": open_data.recount_command(cycle),
            "approved": sum(1 for i in items if i["conclusion"] and i["conclusion"].decision == "approved"),
            "is_staff": is_staff_of(_user(), cycle.territory)}


@bp.route(LANG_PREFIX + "/cycles/<int:cycle_id>/results")
def cycle_results(cycle_id):
    cycle = visible_cycle(cycle_id)
    return render_template("results/results.html", **_results_context(cycle))


@bp.route(LANG_PREFIX + "/cycles/<int:cycle_id>/results/protocol")
def protocol(cycle_id):
    cycle = visible_cycle(cycle_id)
    return render_template("results/protocol.html", **_results_context(cycle))


@bp.route("/proposals/<int:proposal_id>/conclusion.pdf")
def conclusion_document(proposal_id):
    proposal = db.session.get(Proposal, proposal_id) or abort(404)
    visible_cycle(proposal.cycle_id)
    path = conclusions_domain.document_path(proposal.conclusion, current_app.config["UPLOAD_DIR"])
    if path is None or not path.exists():
        abort(404)
    return send_file(path, mimetype="application/pdf", download_name=f"conclusion-{proposal.id}.pdf")


# --- Open data (no account; also served under /api/v1 by app.api.results) ----------------

def csv_response(cycle):
    return Response(open_data.results_csv(cycle), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="cycle-{cycle.id}-results.csv"'})


def pb_response(cycle):
    text = open_data.ballots_pb(cycle, current_app.config["SECRET_KEY"])
    return Response(text, content_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="cycle-{cycle.id}-ballots.pb"'})


def results_csv_response(cycle_id):
    return csv_response(visible_cycle(cycle_id))


def ballots_pb_response(cycle_id):
    return pb_response(visible_cycle(cycle_id))


def feed_response(territory_code=None):
    territory = None
    if territory_code is not None:
        territory = db.session.scalar(select(Territory).where(Territory.code == territory_code))
        if territory is None:
            abort(404)
    return Response(feed.atom(territory, request.args.get("lang")),
                    content_type="application/atom+xml; charset=utf-8")


bp.add_url_rule("/cycles/<int:cycle_id>/results.csv", "results_csv", results_csv_response)
bp.add_url_rule("/cycles/<int:cycle_id>/ballots.pb", "ballots_pb", ballots_pb_response)
bp.add_url_rule("/feed.atom", "feed", feed_response)
bp.add_url_rule("/territories/<territory_code>/feed.atom", "territory_feed", feed_response)


# --- Staff: conclusions and publication ---------------------------------------------------

@bp.route(LANG_PREFIX + "/staff/cycles/<int:cycle_id>/conclusions")
@login_required
def conclusions(cycle_id):
    cycle = staff_cycle(cycle_id)
    return _conclusions_page(cycle, PublishForm())


def _conclusions_page(cycle, form, status=200):
    proposals = [p for p in cycle.proposals if p.status == ProposalStatus.ADMITTED.value]
    proposals.sort(key=lambda p: (-(p.result.votes if p.result else 0), p.id))
    rows = [{"proposal": p, "result": p.result, "conclusion": p.conclusion,
             "missing": conclusions_domain.missing_languages(p.conclusion) if p.conclusion else None}
            for p in proposals]
    return render_template("results/conclusions.html", cycle=cycle, rows=rows, form=form,
                           missing=publication.missing_conclusions(cycle),
                           language_name=_language_name), status


@bp.route(LANG_PREFIX + "/staff/cycles/<int:cycle_id>/publish", methods=["POST"])
@login_required
def publish_results(cycle_id):
    cycle = staff_cycle(cycle_id)
    form = PublishForm()
    if not form.validate_on_submit():
        return _conclusions_page(cycle, form, 422)
    try:
        publication.publish(cycle, current_user)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        show_domain_error(form, error)
        return _conclusions_page(db.session.get(Cycle, cycle_id), form, error.status)
    notifications.notify_cycle_published(cycle)
    flash(_("The results are published."), "success")
    return redirect(url_for("results.cycle_results", cycle_id=cycle.id))


@bp.route(LANG_PREFIX + "/staff/proposals/<int:proposal_id>/conclusion", methods=["GET", "POST"])
@login_required
def conclusion_form(proposal_id):
    proposal = staff_proposal(proposal_id)
    conclusion = proposal.conclusion
    form = ConclusionForm(obj=conclusion)
    status = 200
    if form.validate_on_submit():
        with domain_action(form) as outcome:
            conclusions_domain.record_conclusion(
                current_user, proposal, form.decision.data,
                {lang: form[f"justification_{lang}"].data for lang in ("kk", "ru", "en")},
                document=form.document.data or None, document_number=form.document_number.data,
                document_date=form.document_date.data,
                upload_dir=current_app.config["UPLOAD_DIR"])
        if outcome.failed:
            status = outcome.status
            proposal = db.session.get(Proposal, proposal_id)
        else:
            notifications.notify_proposal_concluded(proposal)
            flash(_("The conclusion is saved."), "success")
            return redirect(url_for("results.conclusions", cycle_id=proposal.cycle_id))
    elif form.errors:
        status = 422
    return render_template("results/conclusion_form.html", form=form, proposal=proposal,
                           result=proposal.result, conclusion=proposal.conclusion,
                           frozen=proposal.cycle.phase == Phase.PUBLISHED.value,
                           missing=conclusions_domain.missing_languages(proposal.conclusion),
                           language_name=_language_name), status


@bp.route(LANG_PREFIX + "/staff/proposals/<int:proposal_id>/implementation", methods=["GET", "POST"])
@login_required
def implementation_form(proposal_id):
    proposal = staff_proposal(proposal_id)
    form = ImplementationForm()
    form.status.choices = [SelectChoice(s.value, status_label(s.value)) for s in ImplementationStatus]
    status = 200
    if form.validate_on_submit():
        with domain_action(form) as outcome:
            conclusions_domain.add_implementation_update(current_user, proposal, form.status.data,
                                                         form.on_date.data, form.note.data)
        if outcome.failed:
            status = outcome.status
            proposal = db.session.get(Proposal, proposal_id)
        else:
            flash(_("The update is added."), "success")
            return redirect(url_for("results.cycle_results", cycle_id=proposal.cycle_id))
    elif form.errors:
        status = 422
    return render_template("results/implementation_form.html", form=form, proposal=proposal,
                           updates=open_data.implementation_list(proposal)), status


def status_label(value):
    return {
        "planned": _("Planned"), "procurement": _("In procurement"), "works": _("Works under way"),
        "completed": _("Completed"), "cancelled": _("Cancelled"),
    }.get(value, value)


def rule_label(value):
    return {"greedy": _("Most votes first, within the budget (greedy)"),
            "mes": _("Method of Equal Shares")}.get(value, value)


@bp.app_context_processor
def results_helpers():
    return {"implementation_status_label": status_label, "rule_label": rule_label}
