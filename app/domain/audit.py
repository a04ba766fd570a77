"""The audit log: every staff action recorded with actor, time and before/after, and read back
by administrators with filters and pages."""
from datetime import date, datetime

from sqlalchemy import func, select

from app.domain.errors import N_, NotAllowed
from app.extensions import db
from app.models import AuditEntry, Territory


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def snapshot(obj, fields):
    """The named attributes of obj, for the before/after of an audit entry."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def record(actor, action, obj, territory=None, before=None, after=None):
    entry = AuditEntry(actor=actor, action=action, object_type=type(obj).__name__.lower(),
                       object_id=getattr(obj, "id", None), territory=territory,
                       before=_jsonable(before), after=_jsonable(after))
    db.session.add(entry)
    return entry


# --- Reading (administrators) ---------------------------------------------------------------


def require_admin(user):
    if user is None or not getattr(user, "is_admin", False):
        raise NotAllowed("admins_only", N_("Only administrators can see the audit log."))


def search_audit(viewer, action=None, object_type=None, object_id=None, territory=None, page=1, per_page=50):
    """(entries on the page, total), newest first."""
    require_admin(viewer)
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None and 0 < object_id < 2**31:
        query = query.where(AuditEntry.object_id == object_id)
    if territory is not None:
        query = query.join(AuditEntry.territory).where(Territory.path.startswith(territory.path))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = min(max(1, page), 100_000)
    entries = db.session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                 .offset((page - 1) * per_page).limit(per_page)).all()
    return entries, total
