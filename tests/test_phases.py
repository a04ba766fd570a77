import pytest

from app.domain import lifecycle, phases
from app.domain.errors import Conflict, NotAllowed
from app.extensions import db
from app.models import AuditEntry, Cycle, User


def test_phase_moves_forward_one_step_and_is_logged(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="draft")
    staff_id, _ = make_user(role="staff", territory="750000000")
    with app.app_context():
        cycle, staff = db.session.get(Cycle, cycle_id), db.session.get(User, staff_id)
        lifecycle.advance(cycle, staff, "proposals")
        with pytest.raises(Conflict):
            lifecycle.advance(cycle, staff, "voting")  # skipping review
        with pytest.raises(Conflict):
            lifecycle.advance(cycle, staff, "draft")  # backwards
        db.session.commit()
        assert cycle.phase == "proposals"
        assert [(c.from_phase, c.to_phase) for c in cycle.phase_changes] == [("draft", "proposals")]
        assert db.session.query(AuditEntry).filter_by(action="cycle.phase").count() == 1


def test_staff_of_another_territory_cannot_move_phases(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="draft", territory="750000000")
    other_staff, _ = make_user(role="staff", territory="710000000")
    district_staff, _ = make_user(role="staff", territory="751410000")
    resident, _ = make_user()
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        for user_id in (other_staff, district_staff, resident):
            with pytest.raises(NotAllowed):
                lifecycle.advance(cycle, db.session.get(User, user_id), "proposals")
        assert cycle.phase == "draft"


@pytest.mark.parametrize("phase, action, allowed", [
    ("proposals", "submit_proposal", True), ("review", "submit_proposal", False),
    ("review", "edit_settings", True), ("voting", "edit_settings", False),
    ("voting", "vote", True), ("closed", "vote", False),
    ("closed", "see_counts_public", False), ("published", "see_counts_public", True),
    ("closed", "conclude", True), ("published", "conclude", False),
])
def test_what_a_phase_allows(phase, action, allowed):
    assert phases.allows(Cycle(phase=phase), action) is allowed
