"""Reading the audit log (administrators): filters and pages. Writing is app.domain.audit."""
from sqlalchemy import func, select

from app.domain.errors import N_, NotAllowed
from app.models import AuditEntry, Territory


def require_admin(user):
    if user is None or not getattr(user, "is_admin", False):
        raise NotAllowed("admins_only", N_("Only administrators can see the audit log."))


def search_audit(viewer, action=None, object_type=None, object_id=None, territory=None, page=1, per_page=50):
    """(entries on the page, total), newest first."""
    from app.extensions import db

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
