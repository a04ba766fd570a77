from flask import request
from flask_babel import get_locale
from sqlalchemy import select

from app.api import bp
from app.extensions import db
from app.models import Territory


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
    # Parent codes in one query rather than one lazy load per unit (15,000 in the whole country).
    codes = dict(db.session.execute(select(Territory.id, Territory.code)).all())
    return [
        {"code": u.code, "name": u.name(locale), "name_i18n": u.names, "level": u.level,
         "parent": codes.get(u.parent_id)}
        for u in units
    ]
