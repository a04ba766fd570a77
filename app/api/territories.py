from flask import request
from flask_babel import get_locale
from sqlalchemy import select

from app.api import bp
from app.extensions import db
from app.models import Territory


def territory_json(unit, locale):
    return {"code": unit.code, "name": unit.name(locale), "name_i18n": unit.names,
            "level": unit.level, "parent": unit.parent.code if unit.parent else None}


@bp.get("/territories")
def list_territories():
    locale = str(get_locale())
    query = select(Territory).order_by(Territory.path)
    within = request.args.get("within")
    if within:
        root = db.session.scalar(select(Territory).where(Territory.code == within))
        query = query.where(Territory.path.startswith(root.path if root else "\0"))
    level = request.args.get("level")
    if level:
        query = query.where(Territory.level == level)
    units = db.session.scalars(query).all()
    parents = {u.id: u for u in units}
    return [
        {"code": u.code, "name": u.name(locale), "name_i18n": u.names, "level": u.level,
         "parent": (parents[u.parent_id].code if u.parent_id in parents
                    else (u.parent.code if u.parent else None))}
        for u in units
    ]
