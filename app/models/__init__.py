"""The database models, one module per aggregate. Import from here: `from app.models import User`."""
from app.models.audit import AuditEntry
from app.models.ballot import Ballot, BallotItem, BallotSeal
from app.models.conclusion import Conclusion, Decision, ImplementationStatus, ImplementationUpdate
from app.models.cycle import BallotStyle, Category, CountingRule, Cycle, Phase, PhaseChange
from app.models.eds import EdsChallenge
from app.models.paper import Channel, EntryStatus, PaperEntry, PollingPoint, polling_point_staff
from app.models.proposal import Proposal, ProposalPhoto, ProposalStatus
from app.models.residence import RegisteredResident
from app.models.result import ProposalResult
from app.models.stored_file import StoredFile
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
    "ASSURANCE_ORDER", "ApiToken", "Assurance", "AuditEntry", "Ballot", "BallotItem", "BallotSeal",
    "BallotStyle", "Category", "Channel", "Conclusion", "CountingRule", "Cycle", "Decision",
    "EdsChallenge", "EntryStatus", "ImplementationStatus", "ImplementationUpdate", "PaperEntry",
    "PasswordReset", "Phase", "PhaseChange", "PhoneCode", "PollingPoint", "Proposal", "ProposalPhoto",
    "ProposalResult", "ProposalStatus", "RecoveryCode", "RegisteredResident", "Residence", "Role",
    "SignIn", "StoredFile", "Territory", "TerritoryLevel", "User", "polling_point_staff",
]
