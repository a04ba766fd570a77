"""Shared by the voting and counting tests: many voters fast, ballots written directly."""
import secrets

from sqlalchemy import select

from app.extensions import db
from app.models import Ballot, BallotItem, Territory, User


def unit(code):
    return db.session.scalar(select(Territory).where(Territory.code == code))


def residents(app, code, n):
    """n resident accounts living in unit `code`, without the cost of hashing passwords
    (they never log in); returns their ids."""
    with app.app_context():
        home = unit(code)
        users = [User(iin_hmac=secrets.token_hex(32), full_name=f"Voter {i}", territory=home,
                      role="resident", password_hash="!") for i in range(n)]
        db.session.add_all(users)
        db.session.commit()
        return [u.id for u in users]


def write_ballot(voter_id, cycle_id, proposal_ids, territory_code=None):
    """A ballot row as if cast; territory_code overrides the home unit recorded at casting
    (a voter who has since moved)."""
    voter = db.session.get(User, voter_id)
    territory = unit(territory_code) if territory_code else voter.territory
    ballot = Ballot(cycle_id=cycle_id, voter_id=voter_id, territory_id=territory.id,
                    receipt=secrets.token_hex(8))
    ballot.items = [BallotItem(proposal_id=pid) for pid in proposal_ids]
    db.session.add(ballot)
    return ballot
