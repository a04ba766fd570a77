"""The audit log: every staff action recorded with actor, time and before/after."""
from datetime import date, datetime

from app.extensions import db
from app.models import AuditEntry


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
