"""Paper ballots in the staff console: polling points, the two blind entries, the resolution
queue, scans, the printable blank ballot and the point's tally sheet."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.domain import access, paper, voting
from app.files import send_stored_file
from app.form_values import parse_int
from app.i18n import translate
from app.languages import LANGUAGES
from app.models import BallotStyle, EntryStatus
from app.staff import bp
from app.staff.forms import PaperEntryForm, PaperResolveForm, PaperVoidForm, PollingPointForm
from app.staff.routes import managed_cycle
from app.templating import format_tenge
from app.web import domain_action, submit


def _numbered(cycle):
    """The ballot's proposals with the numbers printed on the paper (1, 2, …)."""
    return list(enumerate(voting.ballot_proposals(cycle), start=1))


def _chosen():
    ids = []
    for raw in request.form.getlist("proposals"):
        value = parse_int(raw)
        ids.append(value if isinstance(value, int) else raw)
    return ids


@bp.route("/staff/cycles/<id:cycle_id>/paper")
def paper_ballots(cycle_id):
    cycle = managed_cycle(cycle_id)
    mismatched = paper.entries(cycle, EntryStatus.MISMATCH.value)
    awaiting = paper.entries(cycle, EntryStatus.AWAITING_SECOND.value)
    points = paper.points(cycle)
    return render_template(
        "staff/paper/index.html", cycle=cycle, points=points, awaiting=awaiting, mismatched=mismatched,
        totals={p.id: paper.point_totals(cycle, p) for p in points},
        stored=len(paper.entries(cycle, EntryStatus.STORED.value)),
        enter=access.ask(paper.require_can_enter, current_user, cycle),
        manage_points=access.ask(paper.require_can_manage_points, current_user, cycle),
        resolvable={e.id for e in mismatched if access.allowed(paper.require_can_resolve, current_user, e)},
        voidable={e.id for e in awaiting if access.allowed(paper.require_can_void, current_user, e)},
        void_form=PaperVoidForm())


def _point_form(cycle, point=None):
    form = PollingPointForm()
    form.staff_ids.choices = [SelectChoice(str(u.id), u.full_name) for u in paper.duty_candidates(cycle)]
    if request.method == "GET" and point is not None:
        for lang in LANGUAGES:
            form[f"place_{lang}"].data = getattr(point, f"place_{lang}")
        form.opens_at.data, form.closes_at.data = f"{point.opens_at:%H:%M}", f"{point.closes_at:%H:%M}"
        form.staff_ids.data = [str(u.id) for u in point.staff]
    elif request.method == "GET":
        form.opens_at.data, form.closes_at.data = "09:00", "18:00"
    return form


@bp.route("/staff/cycles/<id:cycle_id>/paper/points/new", methods=["GET", "POST"],
          defaults={"point_id": None})
@bp.route("/staff/cycles/<id:cycle_id>/paper/points/<id:point_id>/edit", methods=["GET", "POST"])
def polling_point(cycle_id, point_id):
    cycle = managed_cycle(cycle_id)
    point = paper.get_point(cycle, point_id) if point_id is not None else None
    form = _point_form(cycle, point)
    values = lambda: {**{f"place_{lang}": form[f"place_{lang}"].data for lang in LANGUAGES},  # noqa: E731
                      "opens_at": form.opens_at.data, "closes_at": form.closes_at.data,
                      "staff_ids": form.staff_ids.data or []}
    done, status = submit(form, lambda: paper.save_point(current_user, cycle, values(), point),
                          _("The polling point is saved."),
                          lambda _p: url_for("staff.paper_ballots", cycle_id=cycle.id))
    return done or (render_template("staff/paper/point_form.html", form=form, cycle=cycle, point=point,
                                    refused=access.refusal(paper.require_can_manage_points, current_user, cycle)),
                    status)


def _entry_form(cycle):
    form = PaperEntryForm()
    lang = str(get_locale())
    form.point.choices = [SelectChoice(str(p.id), f"{p.place(lang)} ({paper.hours(p)})") for p in paper.points(cycle)]
    form.territory.choices = [SelectChoice("", _("Choose the unit"))] + [
        SelectChoice(u.code, "\u2003" * (u.depth - cycle.territory.depth) + u.name(lang))
        for u in paper.home_units(cycle)]
    return form


def _newcomer(form):
    if not (form.full_name.data or "").strip():
        return None  # a registered resident: the name fields stay empty
    return paper.Newcomer(form.full_name.data, form.territory.data or "", form.document.data or "")


def _flash_codes(ballot):
    # The paper voter's receipt slip: with both codes they check their ballot in the seal.
    flash(_("Write on the resident's receipt slip the receipt code %(code)s and the secret code "
            "%(secret)s: with both they can check that their ballot was counted and sealed.",
            code=ballot.receipt, secret=ballot.secret), "info")


def _flash_outcome(outcome):
    if outcome.status == EntryStatus.STORED.value:
        flash(_("Both entries agree: the ballot is stored."), "success")
        _flash_codes(outcome.ballot)
    elif outcome.status == EntryStatus.MISMATCH.value:
        flash(translate(paper.MISMATCH), "warning")
    else:
        flash(_("First entry saved (entry No. %(n)s). Another staff member now enters the same ballot.",
                n=outcome.entry.id), "success")


@bp.route("/staff/cycles/<id:cycle_id>/paper/enter", methods=["GET", "POST"])
def enter_paper_ballot(cycle_id):
    """Both the first and the second entry: the page never shows what was entered before."""
    cycle = managed_cycle(cycle_id)
    form = _entry_form(cycle)
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            with domain_action(form) as outcome:
                result = paper.enter_ballot(
                    current_user, cycle, form.iin.data, _chosen(), current_app.config["IIN_HMAC_KEY"],
                    point_id=parse_int(form.point.data) if form.point.data else None,
                    newcomer=_newcomer(form), scan=form.scan.data or None,
)
            if not outcome.failed:
                _flash_outcome(result)
                return redirect(url_for("staff.enter_paper_ballot", cycle_id=cycle.id, point=form.point.data))
            status = outcome.status
    elif request.args.get("point"):
        form.point.data = request.args["point"]
    form.iin.data = ""  # the IIN never travels back to the page
    return render_template("staff/paper/enter.html", form=form, cycle=cycle, numbered=_numbered(cycle),
                           single=cycle.ballot_style == BallotStyle.SINGLE.value,
                           refused=access.refusal(paper.require_can_enter, current_user, cycle)), status


@bp.route("/staff/cycles/<id:cycle_id>/paper/entries/<id:entry_id>/resolve", methods=["GET", "POST"])
def resolve_paper_ballot(cycle_id, entry_id):
    cycle = managed_cycle(cycle_id)
    entry = paper.get_entry(cycle, entry_id)
    form = PaperResolveForm()
    done, status = submit(form, lambda: paper.resolve_entry(current_user, entry, _chosen()),
                          None, lambda _b: url_for("staff.paper_ballots", cycle_id=cycle.id))
    if done:
        flash(_("The ballot is stored as the paper shows it."), "success")
        _flash_codes(paper.get_entry(cycle, entry_id).ballot)
        return done
    entry = paper.get_entry(cycle, entry_id)
    refused = access.refusal(paper.require_can_resolve, current_user, entry)
    return render_template("staff/paper/resolve.html", cycle=cycle, entry=entry, form=form, refused=refused,
                           numbered=_numbered(cycle), single=cycle.ballot_style == BallotStyle.SINGLE.value,
                           titles={p.id: f"{n}. {p.title}" for n, p in _numbered(cycle)},
                           void_form=PaperVoidForm()), status


@bp.route("/staff/cycles/<id:cycle_id>/paper/entries/<id:entry_id>/void", methods=["POST"])
def void_paper_entry(cycle_id, entry_id):
    cycle = managed_cycle(cycle_id)
    entry = paper.get_entry(cycle, entry_id)
    form = PaperVoidForm()
    back = url_for("staff.paper_ballots", cycle_id=cycle.id)
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm."), "error")
        return redirect(back)
    with domain_action() as outcome:
        paper.void_entry(current_user, entry)
    if not outcome.failed:
        flash(_("The entry is voided; the audit log keeps it."), "success")
    return redirect(back)


@bp.route("/staff/cycles/<id:cycle_id>/paper/entries/<id:entry_id>/scan")
def paper_scan(cycle_id, entry_id):
    """Staff of the territory only; never cached, never a public address."""
    cycle = managed_cycle(cycle_id)
    scan = paper.scan_of(paper.get_entry(cycle, entry_id))
    if scan is None:
        abort(404)
    suffix = ".pdf" if scan.content_type == "application/pdf" else ".jpg"
    return send_stored_file(scan.id, cache_control="private, no-store",
                            download_name=f"paper-ballot-{entry_id}{suffix}")


def _ballot_words(cycle):
    """The blank ballot's words in each language at once (the paper serves every reader)."""
    words = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            if cycle.ballot_style == BallotStyle.SINGLE.value:
                how = _("Put a mark in the box of one project only.")
            elif cycle.ballot_style == BallotStyle.APPROVAL.value:
                limit = voting.max_choices(cycle)
                how = ngettext("Put a mark in the boxes of at most %(num)s project.",
                               "Put a mark in the boxes of at most %(num)s projects.", limit)
            else:
                how = _("Put a mark in the box of each project you choose: together they must cost no more "
                        "than the budget of %(budget)s.", budget=format_tenge(cycle.budget))
            words[lang] = {"heading": _("Ballot"), "title": cycle.title(lang), "how": how,
                           "territory": cycle.territory.name(lang)}
    return words


@bp.route("/staff/cycles/<id:cycle_id>/paper/ballot")
def blank_paper_ballot(cycle_id):
    cycle = managed_cycle(cycle_id)
    return render_template("staff/paper/blank_ballot.html", cycle=cycle, numbered=_numbered(cycle),
                           words=_ballot_words(cycle))


@bp.route("/staff/cycles/<id:cycle_id>/paper/points/<id:point_id>/tally")
def tally_sheet(cycle_id, point_id):
    cycle = managed_cycle(cycle_id)
    point = paper.get_point(cycle, point_id)
    counts_visible = access.counts_visible_to(current_user, cycle)
    return render_template("staff/paper/tally_sheet.html", cycle=cycle, point=point, numbered=_numbered(cycle),
                           totals=paper.point_totals(cycle, point),
                           votes=paper.votes_by_channel(cycle, point) if counts_visible else None)

