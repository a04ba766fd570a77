"""Plain helpers the tests share: paths, constants, page scraping, data written directly.

Fixtures live in conftest.py, where pytest registers them; this module keeps no state.
"""
import functools
import io
import re
import secrets
import threading
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from app.domain.errors import Conflict
from app.extensions import db
from app.models import Ballot, BallotItem, Territory, User

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
KATO_DEMO = ROOT / "app" / "demo" / "kato_demo.csv"
PASSWORD = "correct-horse-battery"


@functools.lru_cache(maxsize=None)
def _catalogue(lang):
    from babel.messages.pofile import read_po

    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def catalogue_translation(msgid, lang, **params):
    """What the kk or ru catalogue says for msgid: the page or API must show exactly this."""
    message = _catalogue(lang).get(msgid)
    assert message is not None and message.string, f"{msgid!r} is not translated in {lang}"
    text = message.string if isinstance(message.string, str) else message.string[0]
    return text % params if params else text


def csrf_token(response):
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', response.data) or \
        re.search(rb'name="csrf_token" value="([^"]+)"', response.data)
    assert match, "no CSRF token in the page"
    return match.group(1).decode()


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, iin, password=PASSWORD, lang="en"):
        page = self.client.get(f"/{lang}/login")
        return self.client.post(f"/{lang}/login", data={
            "iin": iin, "password": password, "csrf_token": csrf_token(page)})

    def logout(self, lang="en"):
        page = self.client.get(f"/{lang}/")
        return self.client.post(f"/{lang}/logout", data={"csrf_token": csrf_token(page)})


def image_bytes(fmt="PNG", size=(64, 48), color=(30, 120, 200), exif=None):
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def login(client, iin, lang="en"):
    response = AuthActions(client).login(iin, lang=lang)
    assert response.status_code == 302, response.data[:500]
    return response


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


# --- The counted cycle of the results tests --------------------------------------------------
# Test data for the results area: a counted, closed cycle with ballots, written directly.
#
# Voters are inserted as rows (no password hashing) so that a cycle with 25 voters costs
# milliseconds. The stored count follows greedy with the ten-voter minimum:
#
#     A  8 000 000 ₸  25 voters  eligible, selected (rank 1)
#     B  7 000 000 ₸  15 voters  eligible, selected (rank 2)
#     C  9 000 000 ₸  12 voters  eligible, not selected (does not fit: 15 M + 9 M > 20 M)
#     D  3 000 000 ₸   9 voters  below the minimum (fits, but is not eligible)

PLAN = {"A": (8_000_000, 25, True, 1), "B": (7_000_000, 15, True, 2),
        "C": (9_000_000, 12, False, None), "D": (3_000_000, 9, False, None)}
TITLES = {"A": "Сквер на Абая", "B": "Освещение двора", "C": "Спортивная площадка",
          "D": "Тротуар у школы"}


def ballot_choices(k):
    """The projects voter k approves (at most three)."""
    chosen = ["A"]
    if k < 15:
        chosen.append("B")
    if 10 <= k < 22:
        chosen.append("C")
    if k < 9:
        chosen.append("D")
    return chosen


JUSTIFICATIONS = {
    "A": ("approved", {"kk": "Жоба іске асыруға мақұлданды.", "ru": "Проект одобрен к реализации.",
                       "en": "Approved for implementation."}),
    "B": ("approved", {"ru": "Одобрено: средства предусмотрены в бюджете."}),
    "C": ("not_approved", {"ru": "Не вошло в бюджет по итогам голосования.",
                           "en": "Did not fit the budget after the vote."}),
    "D": ("not_approved", {"kk": "Оннан аз адам дауыс берді.", "ru": "Менее десяти проголосовавших."}),
}


def conclude_all(app, ids, staff_id, skip=()):
    from app.domain.conclusions import record_conclusion
    from app.models import Proposal, User

    with app.app_context():
        user = db.session.get(User, staff_id)
        for key, (decision, texts) in JUSTIFICATIONS.items():
            if key in skip:
                continue
            record_conclusion(user, db.session.get(Proposal, ids["proposals"][key]), decision, texts)
        db.session.commit()


def publish(app, ids, staff_id):
    from app.domain.lifecycle import publish as do_publish
    from app.models import Cycle, User

    with app.app_context():
        do_publish(db.session.get(Cycle, ids["cycle"]), db.session.get(User, staff_id))
        db.session.commit()


# --- a small EDS PKI (root → intermediate → a resident's authentication certificate) -----------
# The same shape as tests/test_eds.py's (which also builds every bad variant); copied here so no
# test module imports another.

def _eds_certificate(subject, key, issuer, issuer_key, *, ca):
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = datetime.now(timezone.utc)
    flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment",
                           "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
                           "encipher_only", "decipher_only"), False)
    flags.update({"key_cert_sign": True, "crl_sign": True} if ca
                 else {"digital_signature": True, "key_encipherment": True})
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=30)).not_valid_after(now + timedelta(days=300))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(**flags), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer != subject:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class EdsPki:
    """A root and intermediate; `person(iin, name)` issues an authentication certificate and
    `sign(challenge, person)` returns the base64 CMS NCALayer would."""

    def __init__(self, keys):
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding
        from cryptography.x509.oid import NameOID

        self.keys = keys
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TEST EDS ROOT")])
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TEST EDS AUTHORITY")])
        self.root = _eds_certificate(root_name, keys[0], root_name, keys[0], ca=True)
        self.intermediate = _eds_certificate(ca_name, keys[1], root_name, keys[0], ca=True)
        self.roots_pem = self.root.public_bytes(Encoding.PEM)

    def person(self, iin, full_name="ТЕСТОВ ТЕСТ ТЕСТОВИЧ"):
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        parts = full_name.split()
        subject = x509.Name([x509.NameAttribute(oid, value) for oid, value in (
            (NameOID.COMMON_NAME, " ".join(parts[:2])), (NameOID.SURNAME, parts[0]),
            (NameOID.SERIAL_NUMBER, f"IIN{iin}"), (NameOID.COUNTRY_NAME, "KZ"),
            (NameOID.GIVEN_NAME, " ".join(parts[2:]) or None)) if value])
        return _eds_certificate(subject, self.keys[2], self.intermediate.subject, self.keys[1], ca=False)

    def sign(self, challenge, certificate):
        import base64

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

        der = (pkcs7.PKCS7SignatureBuilder().set_data(challenge.encode())
               .add_signer(certificate, self.keys[2], hashes.SHA256())
               .add_certificate(self.intermediate)
               .sign(Encoding.DER, [pkcs7.PKCS7Options.Binary]))
        return base64.b64encode(der).decode("ascii")


def race(app, attempts, timeout=60):
    """Run every attempt at once, each in its own thread with its own session (connection), and
    commit it; returns ("ok", what it returned) or ("refused", the Conflict's code) for each."""
    barrier = threading.Barrier(len(attempts))
    outcomes = []

    def run(attempt):
        with app.app_context():
            barrier.wait()
            try:
                result = attempt()
                db.session.commit()
                outcomes.append(("ok", result))
            except Conflict as error:
                db.session.rollback()
                outcomes.append(("refused", error.code))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return outcomes
