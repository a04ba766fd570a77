"""Published results: the pages, the printable protocol, and the open-data downloads."""
from itertools import groupby

from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import select

from app import downloads, results_cache
from app.domain import access, counting, open_data, paper, records
from app.domain import conclusions as conclusions_domain
from app.domain.permissions import is_staff_of
from app.extensions import db
from app.files import send_stored_file
from app.languages import LANG_PREFIX
from app.models import Cycle, Phase, Proposal, Territory
from app.results import bp
from app.results.chart import bar_chart
from app.results.csv_columns import CSV_COLUMN_DOCS


def _user():
    return current_user if current_user.is_authenticated else None


def visible_cycle(cycle_id):
    """The cycle whose results the visitor may see, or 403/404."""
    cycle = records.get(Cycle, cycle_id)
    seen_as = access.results_access(_user(), cycle)
    if seen_as == "missing":
        abort(404)
    if seen_as == "forbidden":
        abort(403)
    return cycle


@bp.route(LANG_PREFIX + "/results")
def index():
    cycles = db.session.scalars(
        select(Cycle).join(Territory).where(Cycle.phase == Phase.PUBLISHED.value)
        .order_by(Territory.path, Cycle.year.desc(), Cycle.id)).all()
    groups = [(territory, list(items)) for territory, items in groupby(cycles, key=lambda c: c.territory)]
    return render_template("results/index.html", groups=groups)


def _results_context(cycle):
    proposals = open_data.counted_proposals(cycle)
    user = _user()
    items = []
    for p in proposals:
        items.append({"proposal": p, "result": p.result, "conclusion": p.conclusion,
                      "updates": open_data.implementation_list(p),
                      "can_track": access.allowed(conclusions_domain.require_can_track, user, p)})
    turnout = None
    if cycle.voters_count is not None and cycle.territory.population:
        turnout = cycle.voters_count / cycle.territory.population
    return {"cycle": cycle, "items": items, "chart": bar_chart(proposals, counting.minimum_voters(cycle.min_voters)),
            "located": [i for i in items if i["proposal"].latitude is not None
                        and i["proposal"].longitude is not None],
            "turnout": turnout, "channels": paper.channel_totals(cycle),
            "published": access.results_access(user, cycle) == "public",
            "approved": sum(1 for i in items if i["conclusion"] and i["conclusion"].decision == "approved"),
            "is_staff": is_staff_of(user, cycle.territory)}


@bp.route(LANG_PREFIX + "/cycles/<id:cycle_id>/results")
def cycle_results(cycle_id):
    cycle = visible_cycle(cycle_id)
    results_cache.offer(cycle)
    return render_template("results/results.html", **_results_context(cycle))


@bp.route(LANG_PREFIX + "/cycles/<id:cycle_id>/results/protocol")
def protocol(cycle_id):
    cycle = visible_cycle(cycle_id)
    results_cache.offer(cycle)
    return render_template("results/protocol.html", **_results_context(cycle))


@bp.route("/proposals/<id:proposal_id>/conclusion.pdf")
def conclusion_document(proposal_id):
    proposal = records.get(Proposal, proposal_id) or abort(404)
    visible_cycle(proposal.cycle_id)
    conclusion = proposal.conclusion
    # Cache-Control as for every page (app.security): a document may be replaced until publication.
    return send_stored_file(conclusion.document_file_id if conclusion else None,
                            download_name=f"conclusion-{proposal.id}.pdf")


# --- Open data (no account; also served under /api/v1) --------------------------------------

@bp.route("/cycles/<id:cycle_id>/results.csv")
def results_csv(cycle_id):
    return downloads.results_csv(visible_cycle(cycle_id))


@bp.route("/cycles/<id:cycle_id>/ballots.pb")
def ballots_pb(cycle_id):
    return downloads.ballots_pb(visible_cycle(cycle_id))


@bp.route("/feed.atom")
def feed():
    return downloads.atom_feed()


@bp.route("/territories/<territory_code>/feed.atom")
def territory_feed(territory_code):
    return downloads.atom_feed(territory_code)


# --- Explanations for people who check: how to verify, what the CSV columns mean -------------

@bp.route(LANG_PREFIX + "/cycles/<id:cycle_id>/results/check")
def how_to_check(cycle_id):
    cycle = visible_cycle(cycle_id)
    return render_template("results/check.html", cycle=cycle, recount=open_data.recount_command(cycle),
                           recount_explicit=open_data.explicit_recount_command(cycle),
                           seal=open_data.seal_summary(cycle), rule=open_data.PABULIB_RULE[cycle.rule][1])


@bp.route(LANG_PREFIX + "/open-data/results-csv")
def csv_columns():
    return render_template("results/csv_columns.html", columns=[(name, *CSV_COLUMN_DOCS[name])
                                                                for name in open_data.CSV_COLUMNS])
