"""How sure we are of who a resident is, and what a cycle demands of them.

An account's identity level is `password` (an IIN typed into a form), `phone` (and a phone
confirmed by a one-time code) or `eds` (signed in with an NCA RK authentication certificate
carrying that IIN); its residence is `declared` (the resident chose their home) or `verified`
(staff saw a document, or the akimat's register of residents lists them there). Each cycle
says the weakest level that may propose and vote, and whether a voter's residence must be
verified. The one check, `require_assurance`, is called by voting.require_can_vote and
proposals.require_can_submit, so pages and the API meet the same rule.

The level that counts is the session's, not the account's: an account that once signed in with
EDS and later signs in with its password counts as `password` (or `phone` with a confirmed
number) for that session. The web layer records how each session and API token was signed in
and sets `user.signed_in_with` on the request's user (app/security.py, accounts.user_for_token);
without it (the CLI, the domain's own callers) the account's level counts.
"""
from app.domain.errors import N_, NotAllowed
from app.models import ASSURANCE_ORDER, Assurance, Residence, SignIn

ACTIONS = ("propose", "vote")
LEVELS = ASSURANCE_ORDER

# What a new cycle demands unless its staff choose otherwise; production sets vote to `eds`
# (config DEFAULT_MIN_ASSURANCE_VOTE, applied by configure_defaults at start-up).
_defaults = {"propose": Assurance.PASSWORD.value, "vote": Assurance.PASSWORD.value}

# What to do, per missing level: the refusal tells the resident the way forward.
_HOW = {
    Assurance.PHONE.value: N_("This cycle accepts only residents whose identity is confirmed. "
                              "Sign in with your electronic digital signature (EDS): log out, "
                              "then choose “Sign in with EDS” on the login page."),
    Assurance.EDS.value: N_("This cycle accepts only residents who signed in with an "
                            "electronic digital signature (EDS). Log out, then choose "
                            "“Sign in with EDS” on the login page."),
}


def configure_defaults(propose=None, vote=None):
    for action, level in (("propose", propose), ("vote", vote)):
        if level:
            if level not in LEVELS:
                raise ValueError(f"unknown assurance level {level!r}")
            _defaults[action] = level


def defaults():
    return {"min_assurance_propose": _defaults["propose"],
            "min_assurance_vote": _defaults["vote"], "residence_verified_to_vote": False}


def check_cycle_values(errors, values):
    """Add a cycle form's errors for the requirement fields to `errors` (a FieldErrors)."""
    for action in ACTIONS:
        if values.get(f"min_assurance_{action}") not in LEVELS:
            errors.add(f"min_assurance_{action}", N_("Choose an identity level from the list."))
    if not isinstance(values.get("residence_verified_to_vote"), bool):
        errors.add("residence_verified_to_vote", N_("This field has the wrong type."))


def rank(level):
    return LEVELS.index(level) if level in LEVELS else -1


def session_level(user):
    """The identity level this request's user counts for: what the sign-in method can prove,
    capped by what the account has proven."""
    proven = getattr(user, "assurance", None) or Assurance.PASSWORD.value
    method = getattr(user, "signed_in_with", None)
    if method is None:
        return proven
    if method == SignIn.EDS.value:
        ceiling = Assurance.EDS.value
    elif getattr(user, "confirmed_phone", None):
        ceiling = Assurance.PHONE.value  # a password, on an account whose phone is confirmed
    else:
        ceiling = Assurance.PASSWORD.value
    return LEVELS[min(rank(proven), rank(ceiling))]


def meets(user, level):
    return rank(session_level(user)) >= rank(level)


def required_level(cycle, action):
    return getattr(cycle, f"min_assurance_{action}") or Assurance.PASSWORD.value


def require_assurance(user, cycle, action):
    """403 `assurance_required` when the user's identity level (or, to vote, unverified
    residence) is below what the cycle demands for `action` ("propose" or "vote")."""
    if not meets(user, required_level(cycle, action)):
        raise NotAllowed("assurance_required", _HOW[required_level(cycle, action)])
    if action == "vote" and cycle.residence_verified_to_vote \
            and user.residence != Residence.VERIFIED.value:
        raise NotAllowed("assurance_required", N_(
            "This cycle accepts votes only from residents whose home address is verified. "
            "Bring your identity document to the akimat of your territory to have it verified."))
