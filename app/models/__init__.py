"""The database models, one module per aggregate. Import from here: `from app.models import User`."""
from app.models.audit import AuditEntry
from app.models.ballot import Ballot, BallotItem
from app.models.conclusion import Conclusion, Decision, ImplementationStatus, ImplementationUpdate
from app.models.cycle import BallotStyle, Category, CountingRule, Cycle, Phase, PhaseChange
from app.models.eds import EdsChallenge
from app.models.proposal import Proposal, ProposalPhoto, ProposalStatus
from app.models.residence import RegisteredResident
from app.models.result import ProposalResult
from app.models.territory import Territory, TerritoryLevel
from app.models.user import (
    ASSURANCE_ORDER,
    ApiToken,
    Assurance,
    PasswordReset,
    PhoneCode,
    RecoveryCode,
    Residence,
    Role,
    SignIn,
    User,
)

__all__ = [
    "ASSURANCE_ORDER", "ApiToken", "Assurance", "AuditEntry", "Ballot", "BallotItem", "BallotStyle",
    "Category", "Conclusion", "CountingRule", "Cycle", "Decision", "EdsChallenge", "ImplementationStatus",
    "ImplementationUpdate", "PasswordReset", "Phase", "PhoneCode", "RecoveryCode", "SignIn",
    "PhaseChange", "Proposal", "ProposalPhoto", "ProposalResult",
    "ProposalStatus", "RegisteredResident", "Residence", "Role", "Territory", "TerritoryLevel", "User",
]
