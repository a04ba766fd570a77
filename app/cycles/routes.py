"""Public pages of cycles and proposals, and the resident's own proposals."""
import math

from babel import Locale
from flask import abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app import notifications
from app.cycles import bp
from app.cycles.forms import ProposalForm, WithdrawForm
from app.domain import access, maps, open_data
from app.domain import cycles as cycle_domain
from app.domain import paper as paper_domain
from app.domain import proposals as proposal_domain
from app.domain import voting as voting_domain
from app.domain.permissions import is_staff_of
from app.files import send_stored_file
from app.form_values import parse_float, parse_int
from app.labels import CATEGORY_LABELS, PHASE_LABELS, STATUS_LABELS
from app.voting.summary import voting_box
from app.web import post_action, submit

PER_PAGE = 20


def _viewer():
    return current_user if current_user.is_authenticated else None


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


@bp.route("/cycles/<id:cycle_id>")
def cycle(cycle_id):
    cycle = cycle_domain.get_cycle(cycle_id, _viewer())
    category = request.args.get("category") or None
    status = request.args.get("status") or None
    category = category if category in CATEGORY_LABELS else None
    status = status if status in STATUS_LABELS else None
    q = (request.args.get("q") or "").strip()[:100] or None
    page = _page_arg()
    items, total = proposal_domain.search_proposals(cycle, category=category, status=status, q=q,
                                                    page=page, per_page=PER_PAGE)
    pages = max(1, math.ceil(total / PER_PAGE))
    places = maps.located_proposals(cycle, category=category, status=status, q=q)
    viewer = _viewer()
    box = voting_box(viewer, cycle)
    results_seen_as = access.results_access(viewer, cycle)
    return render_template("cycles/cycle.html", cycle=cycle, proposals=items, total=total, page=page,
                           places=places,
                           pages=pages, category=category, status=status, q=q or "",
                           propose=access.ask(proposal_domain.require_can_submit, viewer, cycle),
                           box=box, show_voting=box.ballot is not None or results_seen_as not in ("public", "staff"),
                           receipts_checkable=voting_domain.ballots_possible(cycle),
                           results_seen_as=results_seen_as,
                           protocol_visible=access.protocol_visible_to(viewer, cycle),
                           locale=str(get_locale()), is_staff=is_staff_of(viewer, cycle.territory),
                           polling_points=paper_domain.public_points(cycle))


@bp.route("/cycles/<id:cycle_id>/proposals/new", methods=["GET", "POST"])
@login_required
def new_proposal(cycle_id):
    cycle = cycle_domain.get_cycle(cycle_id, current_user)
    form = ProposalForm()
    form.category.choices = _category_choices(cycle)
    made = []  # the new proposal, to tell the staff once it is committed
    done, status = submit(
        form, lambda: made.append(proposal_domain.submit_proposal(
            current_user, cycle, _proposal_values(form), photos=_uploads(form),
            language=str(get_locale()))) or made[-1],
        _("Your proposal has been submitted. The Expert Council will review it."),
        lambda proposal: url_for("cycles.proposal", proposal_id=proposal.id))
    if done:
        notifications.notify_proposal_submitted(made[-1])
        return done
    refused = access.refusal(proposal_domain.require_can_submit, current_user, cycle)
    if request.method == "GET" and refused:
        status = refused.status
    return render_template("cycles/proposal_form.html", form=form, cycle=cycle, proposal=None,
                           refused=refused), status


@bp.route("/proposals/<id:proposal_id>")
def proposal(proposal_id):
    viewer = _viewer()
    proposal = proposal_domain.get_proposal(proposal_id, viewer)
    seen_as = access.results_access(viewer, proposal.cycle)
    lang = str(get_locale())
    outcome = open_data.proposal_outcome(proposal, lang) if seen_as in ("public", "staff") else None
    return render_template("cycles/proposal.html", proposal=proposal, cycle=proposal.cycle,
                           outcome=outcome, results_published=seen_as == "public",
                           language_name=lambda code: Locale.parse(code).get_display_name(lang),
                           is_author=viewer is not None and viewer.id == proposal.author_id,
                           withdraw_form=WithdrawForm(),
                           can_edit=access.allowed(proposal_domain.require_can_edit, viewer, proposal),
                           can_withdraw=access.allowed(proposal_domain.require_can_withdraw, viewer, proposal),
                           can_review=access.allowed(proposal_domain.require_can_review, viewer, proposal))


@bp.route("/proposals/<id:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit_proposal(proposal_id):
    proposal = proposal_domain.get_proposal(proposal_id, current_user)
    if proposal.author_id != current_user.id:
        abort(403)
    form = ProposalForm(obj=proposal if request.method == "GET" else None)
    form.category.choices = _category_choices(proposal.cycle)
    form.submit.label.text = _("Save changes")
    if request.method == "GET":
        form.cost.data = str(proposal.cost)
        form.latitude.data = "" if proposal.latitude is None else str(proposal.latitude)
        form.longitude.data = "" if proposal.longitude is None else str(proposal.longitude)

    def save():
        removed = [parse_int(v) for v in request.form.getlist("remove_photo")]
        return proposal_domain.update_proposal(
            current_user, proposal, _proposal_values(form), photos=_uploads(form),
            remove_photo_ids=[r for r in removed if isinstance(r, int)])

    done, status = submit(form, save, _("Your changes have been saved."),
                          lambda _proposal: url_for("cycles.proposal", proposal_id=proposal.id))
    if done:
        return done
    refused = access.refusal(proposal_domain.require_can_edit, current_user, proposal)
    if request.method == "GET" and refused:
        status = refused.status
    return render_template("cycles/proposal_form.html", form=form, cycle=proposal.cycle, proposal=proposal,
                           refused=refused), status


@bp.route("/proposals/<id:proposal_id>/withdraw", methods=["POST"])
@login_required
def withdraw_proposal(proposal_id):
    proposal = proposal_domain.get_proposal(proposal_id, current_user)
    return post_action(lambda: proposal_domain.withdraw_proposal(current_user, proposal),
                       _("The proposal has been withdrawn."),
                       url_for("cycles.proposal", proposal_id=proposal.id), form=WithdrawForm())


@bp.route("/my/proposals")
@login_required
def my_proposals():
    return render_template("cycles/my_proposals.html", proposals=proposal_domain.proposals_of(current_user))


@bp.route("/cycles/<id:cycle_id>/protocol")
def protocol(cycle_id):
    cycle = cycle_domain.get_cycle(cycle_id, _viewer())
    if not access.protocol_visible_to(_viewer(), cycle):
        abort(404)
    listed = [p for p in cycle.proposals if p.status != "withdrawn"]
    return render_template("cycles/protocol.html", cycle=cycle, proposals=listed,
                           draft=cycle.protocol_published_at is None,
                           is_staff=is_staff_of(_viewer(), cycle.territory))


@bp.route("/proposals/<id:proposal_id>/photos/<filename>")
def photo(proposal_id, filename):
    proposal = proposal_domain.get_proposal(proposal_id, _viewer())
    photo = proposal_domain.photo_of(proposal.id, filename)
    # A photo's URL never shows other bytes (a new photo gets a new name): immutable. A day at
    # most in shared caches, so a withdrawn proposal's photos leave them by the next day.
    return send_stored_file(photo.file_id, "public, max-age=86400, immutable"
                            if proposal_domain.is_public(proposal) else "private, no-store")
