"""Signing in with EDS, shared by the login page and the API: the trusted roots, the throttle
on challenges, and one sequence from a signed challenge to an account.

The roots are NCA RK's PEM bundle named by EDS_TRUSTED_ROOTS; with EDS_DEMO on (never in
production) the demo root of app/demo/eds.py is trusted too, so the "Demo certificate" button
can show the whole flow without NCALayer.
"""
from datetime import date

from flask import current_app, request
from flask_babel import get_locale

from app.domain import accounts, eds
from app.domain.errors import N_, DomainError
from app.domain.iin import make_iin
from app.security import Throttle

challenges_by_address = Throttle("EDS_CHALLENGES_PER_ADDRESS", "eds-challenge-addr")
challenges_overall = Throttle("EDS_CHALLENGES_OVERALL", "eds-challenge-all")

DEMO_IIN = make_iin(date(1988, 4, 12), serial="0777")
DEMO_NAME = "ДЕМОНОВ ДЕМО ДЕМОНОВИЧ"  # capitals, as NCA writes names


class EdsUnavailable(DomainError):
    status = 503

    def __init__(self):
        super().__init__("eds_unavailable", N_(
            "Signing in with an electronic digital signature is not available on this site yet."))


def demo_credentials():
    """The process's demo PKI (one per worker; the demo signs and verifies in one request)."""
    from app.demo import eds as demo_eds

    state = current_app.extensions.setdefault("qatysu_eds_demo", {})
    if "credentials" not in state:
        state["credentials"] = demo_eds.build_demo_pki(DEMO_IIN, DEMO_NAME)
    return state["credentials"]


def trusted_roots():
    """The PEM bundle to verify against; 503 `eds_unavailable` when none is configured."""
    state = current_app.extensions.setdefault("qatysu_eds_roots", {})
    path = current_app.config.get("EDS_TRUSTED_ROOTS")
    if path and path not in state:
        with open(path, encoding="ascii") as bundle:
            state[path] = bundle.read()
    pem = state.get(path, "") if path else ""
    if current_app.config.get("EDS_DEMO"):
        pem += "\n" + demo_credentials().root_pem
    if not pem.strip():
        raise EdsUnavailable()
    return pem


def issue_challenge():
    """A new challenge, under the per-address and overall limits (429 with Retry-After)."""
    address = request.remote_addr or "-"
    challenges_by_address.check(address)
    challenges_overall.check("all")
    challenges_by_address.hit(address)
    challenges_overall.hit("all")
    return eds.issue_challenge()


def sign_in(challenge, cms):
    """Verify the signed challenge, consume it, and return (user, created)."""
    identity = eds.authenticate(challenge, cms, trusted_roots(),
                                ocsp_fetcher=current_app.config.get("EDS_OCSP_FETCHER"))
    return accounts.sign_in_with_eds(identity, current_app.config["IIN_HMAC_KEY"], str(get_locale()))


def demo_sign_in():
    """The demo button: this server stands in for NCALayer with the demo certificate."""
    from app.demo import eds as demo_eds

    if not current_app.config.get("EDS_DEMO"):
        raise EdsUnavailable()
    issued = eds.issue_challenge()
    return sign_in(issued.value, demo_eds.sign_challenge(issued.value, demo_credentials()))
