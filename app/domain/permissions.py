"""Who may do what where: the one place for role and territory checks."""
from app.domain.errors import N_, NotAllowed


def is_staff_of(user, territory):
    """Staff whose unit is this territory or contains it; administrators everywhere."""
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    if user.is_admin:
        return True
    return user.is_staff and user.territory is not None and user.territory.contains(territory)


def require_staff_of(user, territory):
    if not is_staff_of(user, territory):
        raise NotAllowed("not_staff_of_territory",
                         N_("Only staff of this territory's akimat can do this."))


def is_resident_of(user, territory):
    """A resident of a territory: a resident account whose home unit is the territory or any
    unit inside it (a district of the city, a village of the rural district). Staff and admin
    accounts administer; they do not propose or vote."""
    return (user is not None and getattr(user, "is_authenticated", True)
            and not user.is_staff and user.territory is not None
            and territory.contains(user.territory))


def require_resident_of(user, territory):
    if not is_resident_of(user, territory):
        raise NotAllowed("not_resident_of_territory",
                         N_("Only residents of this territory can do this."))
