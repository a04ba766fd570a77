from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.api import bp
from app.api.common import ApiError
from app.extensions import cache, db
from app.models import Territory


@bp.get("/territories")
def list_territories():
    within = request.args.get("within", "")
    if within and db.session.scalar(select(Territory.id).where(Territory.code == within)) is None:
        raise ApiError(404, "territory_not_found", _("No territory has this KATO code."))
    return territory_rows(str(get_locale()), request.args.get("within", ""),
                          request.args.get("level", ""))


def _bbox(box):
    """GeoJSON's order (RFC 7946, 5): west, south, east, north; None when no box was imported."""
    if box is None:
        return None
    min_lat, min_lon, max_lat, max_lon = box
    return [min_lon, min_lat, max_lon, max_lat]


@cache.memoize()  # the whole country is 15,000 rows; cleared by `territories import`
def territory_rows(locale, within, level):
    query = select(Territory).order_by(Territory.path)
    if within:
        root = db.session.scalar(select(Territory).where(Territory.code == within))
        query = query.where(Territory.path.startswith(root.path))
    if level:
        query = query.where(Territory.level == level)
    units = db.session.scalars(query).all()
    # Parent codes in one query rather than one lazy load per unit (15,000 in the whole country).
    codes = dict(db.session.execute(select(Territory.id, Territory.code)).all())
    return [
        {"code": u.code, "name": u.name(locale), "name_i18n": u.names, "level": u.level,
         "parent": codes.get(u.parent_id), "bbox": _bbox(u.box)}
        for u in units
    ]
