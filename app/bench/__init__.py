"""A baseline endpoint for bench/vote_load.py: one insert and a commit, nothing else.

Registered only when QATYSU_BENCH=1 and the configuration is not production (see create_app)."""
from flask import Blueprint

from app.extensions import csrf, db
from app.models import AuditEntry

bp = Blueprint("bench", __name__)


@bp.post("/bench/insert")
def insert():
    entry = AuditEntry(action="bench.insert", object_type="bench")
    db.session.add(entry)
    db.session.commit()
    return {"id": entry.id}


csrf.exempt(bp)
