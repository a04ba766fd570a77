"""The open-data files as HTTP responses, for the results pages and the API alike."""
from flask import Response, abort, current_app, request
from sqlalchemy import select

from app import feed
from app.domain import open_data
from app.extensions import db
from app.models import Territory


def results_csv(cycle):
    return Response(open_data.results_csv(cycle), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="cycle-{cycle.id}-results.csv"'})


def ballots_pb(cycle):
    text = open_data.ballots_pb(cycle, current_app.config["SECRET_KEY"])
    return Response(text, content_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="cycle-{cycle.id}-ballots.pb"'})


def atom_feed(territory_code=None):
    territory = None
    if territory_code is not None:
        territory = db.session.scalar(select(Territory).where(Territory.code == territory_code))
        if territory is None:
            abort(404)
    return Response(feed.atom(territory, request.args.get("lang")),
                    content_type="application/atom+xml; charset=utf-8")
