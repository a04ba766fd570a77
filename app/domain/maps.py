"""Where proposals are: the places a cycle's map shows, and the GeoJSON anyone can download.

The GeoJSON is RFC 7946: one FeatureCollection whose Features have a Point geometry with
`coordinates` [longitude, latitude] in that order (§3.1.1, §9), WGS 84 decimal degrees with no
`crs` member (§4), rounded to six decimals (about 0.1 m; §11.2 advises against false precision).
Only proposals with a place are included, under the same visibility as the list of proposals
(app.domain.proposals.public_query: withdrawn ones never; a draft cycle only for its staff,
which app.domain.cycles.get_cycle decides before this). Votes, selection and the akimat's
decision are properties only once the results are published (app.domain.access.results_access
"public"), never earlier, not even for staff: the file is for the public.
"""
from sqlalchemy import select

from app.domain import access
from app.domain.proposals import public_query
from app.extensions import db
from app.models import ImplementationUpdate, Proposal

MAX_PLACES = 2000          # a map beyond this is unreadable; filters narrow it
COORDINATE_DECIMALS = 6


def located_proposals(cycle, category=None, status=None, q=None, limit=MAX_PLACES):
    """A cycle's public proposals that have a place, filtered, by id."""
    query = public_query(cycle, category, status, q).where(Proposal.latitude.is_not(None),
                                                           Proposal.longitude.is_not(None))
    return db.session.scalars(query.order_by(Proposal.id).limit(limit)).all()


def latest_implementation(proposal_ids):
    """{proposal id: the status of its latest implementation update}."""
    if not proposal_ids:
        return {}
    updates = db.session.scalars(
        select(ImplementationUpdate).where(ImplementationUpdate.proposal_id.in_(proposal_ids))
        .order_by(ImplementationUpdate.on_date, ImplementationUpdate.id)).all()
    return {u.proposal_id: u.status for u in updates}  # later updates overwrite earlier ones


def point(proposal):
    """RFC 7946 Point: [longitude, latitude]."""
    return {"type": "Point", "coordinates": [round(proposal.longitude, COORDINATE_DECIMALS),
                                             round(proposal.latitude, COORDINATE_DECIMALS)]}


def feature(proposal, published=False, implementation=None):
    properties = {"id": proposal.id, "title": proposal.title, "category": proposal.category,
                  "status": proposal.status, "cost": proposal.cost, "address": proposal.address}
    if published:
        result, conclusion = proposal.result, proposal.conclusion
        properties.update({
            "votes": result.votes if result else None,
            "eligible": result.eligible if result else None,
            "selected": bool(result and result.selected),
            "decision": conclusion.decision if conclusion else None,
            "implementation": implementation})
    return {"type": "Feature", "id": proposal.id, "geometry": point(proposal), "properties": properties}


def feature_collection(cycle, category=None, status=None, q=None):
    """The GeoJSON FeatureCollection of the cycle's located proposals the public may see."""
    published = access.results_access(None, cycle) == "public"
    proposals = located_proposals(cycle, category, status, q)
    stages = latest_implementation([p.id for p in proposals]) if published else {}
    return {"type": "FeatureCollection",
            "features": [feature(p, published, stages.get(p.id)) for p in proposals]}
