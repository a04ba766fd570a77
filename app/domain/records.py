"""Looking a record up by an id that came from outside (a URL, a form, a JSON body).

Ids beyond the columns' 32-bit range simply do not exist: PostgreSQL would refuse the query
(a 500), so every lookup by id goes through `get`, which answers None for them."""
from app.extensions import db

MAX_ID = 2**31 - 1


def valid_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def get(model, record_id):
    """The record with this id, or None (also for ids that cannot exist)."""
    return db.session.get(model, record_id) if valid_id(record_id) else None
