"""The resident's ballot, its receipt and its proof in the seal; anyone's check of a receipt code."""
import json

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import observability
from app.domain import access, seal, voting
from app.domain.errors import DomainError, NotAllowed, NotFound, Throttled
from app.extensions import db
from app.models import BallotStyle
from app.security import ballots_by_account, throttled_receipt_check
from app.voting import bp
from app.voting.forms import BallotForm
from app.web import explain


def _selected_ids():
    ids = []
    for raw in request.form.getlist("proposals"):
        try:
            ids.append(int(raw))
        except ValueError:
            ids.append(raw)  # cast_ballot names it as not on the ballot
    return ids


def render_ballot(cycle, form, selected, error=None, status=200, existing=None):
    proposals = voting.ballot_proposals(cycle)
    chosen = [p for p in proposals if p.id in selected]
    return render_template(
        "voting/ballot.html", cycle=cycle, form=form, proposals=proposals, selected=set(selected),
        total=voting.ballot_total(chosen), count=len(chosen), error=error, existing=existing,
        max_choices=voting.max_choices(cycle) if cycle.ballot_style == BallotStyle.APPROVAL.value else None,
        locale=str(get_locale())), status


def render_receipt(cycle, ballot, notice=None, status=200):
    proposals = [item.proposal for item in ballot.items]
    sealed, proof = voting.ballot_in_seal(ballot)
    return render_template("voting/receipt.html", cycle=cycle, ballot=ballot, proposals=proposals,
                           total=voting.ballot_total(proposals), can_change=voting.can_change(cycle, ballot),
                           sealed=sealed, proof=proof,
                           results_public=access.results_access(current_user, cycle) == "public",
                           notice=notice, locale=str(get_locale())), status


@bp.route("/cycles/<id:cycle_id>/ballot", methods=["GET", "POST"])
@login_required
def ballot(cycle_id):
    cycle = voting.get_cycle(cycle_id)
    existing = voting.get_ballot(current_user, cycle)
    final = access.refusal(voting.require_can_change, cycle, existing) if existing is not None else None
    if final is not None:
        # The receipt, saying why the ballot does not open again (final, or voting closed).
        return render_receipt(cycle, existing, notice=explain(final),
                              status=200 if request.method == "GET" else final.status)
    refused = access.refusal(voting.require_can_vote, current_user, cycle)
    if refused is not None:
        return render_template("voting/refused.html", cycle=cycle, reason=refused), refused.status
    form = BallotForm()
    if request.method == "GET":
        selected = [item.proposal_id for item in existing.items] if existing else []
        return render_ballot(cycle, form, selected, existing=existing)
    if not form.validate_on_submit():
        return render_ballot(cycle, form, [], status=400, existing=existing,
                             error=_("The form has expired. Please go back, reload the page and try again."))
    selected = _selected_ids()
    action = request.form.get("action", "cast")
    try:
        if action == "total":  # knapsack without JavaScript: the server adds up the choice
            return render_ballot(cycle, form, selected, existing=existing)
        if cycle.ballot_style == BallotStyle.SINGLE.value and action != "confirm":
            chosen = voting.check_choice(current_user, cycle, selected)
            return render_template("voting/confirm.html", cycle=cycle, form=form, proposal=chosen[0],
                                   locale=str(get_locale()))
        key = str(current_user.id)
        ballots_by_account.take(key)
        voting.cast_ballot(current_user, cycle, selected)
        db.session.commit()
        observability.ballot_cast()
    except DomainError as error:
        db.session.rollback()
        if error.code == "ballot_final":
            flash(explain(error), "error")
            return redirect(url_for("voting.receipt", cycle_id=cycle_id))
        if isinstance(error, NotAllowed) or error.status in (404, 429) or error.code == "voting_not_open":
            raise
        cycle = voting.get_cycle(cycle_id)
        return render_ballot(cycle, form, [s for s in selected if isinstance(s, int)],
                             error=explain(error), status=error.status,
                             existing=voting.get_ballot(current_user, cycle))
    flash(_("Your ballot has been cast."), "success")
    return redirect(url_for("voting.receipt", cycle_id=cycle_id))


@bp.route("/cycles/<id:cycle_id>/ballot/receipt")
@login_required
def receipt(cycle_id):
    cycle = voting.get_cycle(cycle_id)
    return render_receipt(cycle, voting.require_ballot(current_user, cycle))


@bp.route("/cycles/<id:cycle_id>/ballot/proof.json")
@login_required
def ballot_proof(cycle_id):
    """The voter's proof as a file for `python -m app.tally verify-receipt` (it holds the secret)."""
    cycle = voting.get_cycle(cycle_id)
    proof = seal.proof_for_voter(current_user, cycle)
    return Response(json.dumps(proof, ensure_ascii=False, indent=2), content_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="cycle-{cycle.id}-proof.json"',
                             "Cache-Control": "no-store"})


@bp.route("/receipts")
def check_receipt():
    """Anyone types a receipt code: is that ballot stored, and once published, counted?"""
    code = " ".join((request.args.get("code") or "").split())[:64]
    result, error, status, headers = None, None, 200, {}
    if code:
        try:
            result = throttled_receipt_check(code)
        except (NotFound, Throttled) as refusal:
            error, status = refusal, refusal.status
            if isinstance(refusal, Throttled):
                headers["Retry-After"] = str(refusal.retry_after)
    return render_template("voting/check.html", code=code, result=result, error=error), status, headers
