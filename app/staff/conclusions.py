"""After the vote: turnout, the akimat's conclusions, publication and implementation updates."""
from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app import notifications
from app.domain import access, counting, lifecycle, open_data, paper, publication, texts
from app.domain import conclusions as conclusions_domain
from app.domain.errors import N_, Conflict
from app.labels import IMPLEMENTATION_LABELS
from app.languages import LANGUAGE_NAMES, LANGUAGES
from app.models import ImplementationStatus, ProposalStatus
from app.staff import bp
from app.staff.forms import ConclusionForm, ImplementationForm, PublishForm
from app.staff.routes import managed_cycle, managed_proposal
from app.web import submit


@bp.route("/staff/cycles/<id:cycle_id>/turnout")
def turnout(cycle_id):
    cycle = managed_cycle(cycle_id)
    if not access.counts_visible_to(current_user, cycle):
        raise Conflict("counts_hidden", N_("Counts stay hidden until voting has closed."))
    return render_template("staff/turnout.html", cycle=cycle, stats=counting.turnout(cycle),
                           minimum_voters=counting.minimum_voters(cycle.min_voters),
                           channels=paper.channel_totals(cycle), by_channel=paper.votes_by_channel(cycle))


@bp.route("/staff/cycles/<id:cycle_id>/conclusions")
def conclusions(cycle_id):
    return _conclusions_page(managed_cycle(cycle_id), PublishForm())


def _conclusions_page(cycle, form, status=200):
    proposals = [p for p in cycle.proposals if p.status == ProposalStatus.ADMITTED.value]
    proposals.sort(key=lambda p: (-(p.result.votes if p.result else 0), p.id))
    rows = [{"proposal": p, "result": p.result, "conclusion": p.conclusion,
             "missing": conclusions_domain.missing_languages(p.conclusion) if p.conclusion else None,
             "can_conclude": access.allowed(conclusions_domain.require_can_conclude, current_user, p)}
            for p in proposals]
    return render_template("staff/conclusions.html", cycle=cycle, rows=rows, form=form,
                           missing=publication.missing_conclusions(cycle),
                           publish=access.ask(publication.require_can_publish, current_user, cycle),
                           published=cycle.published_at is not None,
                           language_name=LANGUAGE_NAMES.get), status


@bp.route("/staff/cycles/<id:cycle_id>/publish", methods=["POST"])
def publish_results(cycle_id):
    cycle = managed_cycle(cycle_id)
    form = PublishForm()
    done, status = submit(form, lambda: lifecycle.publish(cycle, current_user), _("The results are published."),
                          lambda _cycle: url_for("results.cycle_results", cycle_id=cycle.id))
    if done:
        notifications.notify_cycle_published(cycle)
        return done
    return _conclusions_page(managed_cycle(cycle_id), form, 422 if status == 400 else status)


@bp.route("/staff/proposals/<id:proposal_id>/conclusion", methods=["GET", "POST"])
def conclusion_form(proposal_id):
    proposal = managed_proposal(proposal_id)
    form = ConclusionForm(obj=proposal.conclusion)
    done, status = submit(
        form, lambda: conclusions_domain.record_conclusion(
            current_user, proposal, form.decision.data,
            {lang: form[f"justification_{lang}"].data for lang in LANGUAGES},
            document=form.document.data or None, document_number=form.document_number.data,
            document_date=form.document_date.data),
        _("The conclusion is saved."),
        lambda _conclusion: url_for("staff.conclusions", cycle_id=proposal.cycle_id))
    if done:
        notifications.notify_proposal_concluded(proposal)
        return done
    proposal = managed_proposal(proposal_id)
    return render_template("staff/conclusion_form.html", form=form, proposal=proposal,
                           result=proposal.result, conclusion=proposal.conclusion,
                           refused=access.refusal(conclusions_domain.require_can_conclude, current_user, proposal),
                           missing=conclusions_domain.missing_languages(proposal.conclusion),
                           language_name=LANGUAGE_NAMES.get), 422 if status == 400 else status


@bp.route("/staff/proposals/<id:proposal_id>/implementation", methods=["GET", "POST"])
def implementation_form(proposal_id):
    proposal = managed_proposal(proposal_id)
    form = ImplementationForm()
    form.status.choices = [SelectChoice(s.value, IMPLEMENTATION_LABELS[s.value]) for s in ImplementationStatus]
    done, status = submit(
        form, lambda: conclusions_domain.add_implementation_update(
            current_user, proposal, form.status.data, form.on_date.data,
            {lang: form[f"note_{lang}"].data or "" for lang in LANGUAGES}),
        _("The update is added."), lambda _update: url_for("results.cycle_results", cycle_id=proposal.cycle_id))
    if done:
        return done
    proposal = managed_proposal(proposal_id)
    return render_template("staff/implementation_form.html", form=form, proposal=proposal,
                           missing=texts.missing_languages({lang: form[f"note_{lang}"].data for lang in LANGUAGES})
                           if request.method == "POST" else [], language_name=LANGUAGE_NAMES.get,
                           updates=open_data.implementation_list(proposal)), 422 if status == 400 else status
