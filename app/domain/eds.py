"""Signing in with an electronic digital signature (EDS, ЭЦҚ / ЭЦП) issued by NCA RK.

The page asks NCALayer to sign a one-time challenge with the resident's authentication key and
sends us the CMS (PKCS#7) SignedData. `authenticate` then answers "who is this?" in four steps,
each refusing with its own stable code:

1. the CMS itself (asn1crypto parses it, `cryptography` checks the maths): exactly one signer,
   whose certificate is in the CMS; with signed attributes, messageDigest must equal the hash of
   the content and the signature covers the DER of those attributes (RFC 5652 §5.4); the content
   (attached, or the challenge when detached) must be the challenge text (`signature_invalid`,
   `challenge_invalid`, `algorithm_not_supported` for GOST keys);
2. the certificate chain up to a root of the trusted PEM bundle (EDS_TRUSTED_ROOTS), the
   intermediates taken from the CMS, dates included (`certificate_untrusted`,
   `certificate_expired`). This is what stops a self-made certificate carrying someone's IIN;
3. the purpose: key usage digitalSignature, and clientAuth when extended key usage is present,
   which NCA's authentication certificates have and its signing ones do not
   (`certificate_not_for_authentication`), then revocation by OCSP for every certificate that
   names a responder (`certificate_revoked`; 503 `revocation_unavailable` when no trustworthy
   answer can be had: we fail closed);
4. the person: the IIN from the subject's serialNumber ("IIN" + 12 digits, check digit
   verified) and the name from CN / GIVENNAME (`certificate_no_iin`, `certificate_no_name`).

Challenges are single use. Only their SHA-256 is stored; `consume_challenge` marks one used
with a single UPDATE … WHERE used_at IS NULL AND expires_at > now and trusts its row count, so
of two requests racing with the same signed challenge the database lets exactly one through.
`authenticate` consumes the challenge only after the signature verified: a failed attempt
leaves nothing to roll back, and a successful one can never be replayed.

No Flask here (the database is reached through the models, as elsewhere in the domain): the
web layer reads the PEM file, passes the time and translates the messages.
"""
import base64
import binascii
import hashlib
import hmac
import re
import secrets
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError
from sqlalchemy import delete, update

from app.domain.errors import N_, DomainError
from app.domain.iin import InvalidIIN, validate_adult_iin
from app.extensions import db
from app.models import EdsChallenge

CHALLENGE_BYTES = 32
CHALLENGE_TTL = timedelta(minutes=5)
MAX_CMS_BYTES = 64 * 1024  # a CMS with a three-certificate chain is about 6 KB
IIN_SERIAL = re.compile(r"IIN(\d{12})")
# Kazakh GOST 34.310 (NCA's "GOSTKNCA" keys) and Russian GOST R 34.10/34.11 families.
GOST_OID_PREFIXES = ("1.2.398.3.10.", "1.2.643.")
DIGESTS = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}

# Every code EdsRefused (401) carries; RevocationUnavailable is 503 `revocation_unavailable`,
# and a minor's certificate gets iin.InvalidIIN `iin_under_age` (422) as at registration.
REFUSAL_CODES = ("signature_invalid", "challenge_invalid", "algorithm_not_supported",
                 "certificate_untrusted", "certificate_expired",
                 "certificate_not_for_authentication", "certificate_revoked",
                 "certificate_no_iin", "certificate_no_name")

OCSP_TIMEOUT = 5  # seconds; the sign-in page waits for this
MAX_OCSP_BYTES = 64 * 1024
OCSP_CLOCK_SKEW = timedelta(minutes=5)
OCSP_MAX_AGE = timedelta(hours=1)  # for responses without nextUpdate


class EdsRefused(DomainError):
    """The signature does not prove who the signer is: sign-in refused."""

    status = 401


class RevocationUnavailable(DomainError):
    """No trustworthy revocation answer could be had; the signature may be fine: try later."""

    status = 503

    def __init__(self, detail):
        super().__init__("revocation_unavailable", N_(
            "The certificate's revocation status could not be checked right now. "
            "Please try again in a few minutes."))
        self.detail = detail  # for logs, never shown


def _refuse(code, message):
    raise EdsRefused(code, message)


def _invalid_signature():
    _refuse("signature_invalid", N_("The signature is not valid."))


def _challenge_invalid():
    # Unknown, used, expired or not the one signed: the resident's remedy is the same.
    _refuse("challenge_invalid", N_("This sign-in request has expired. Please try again."))


def _untrusted():
    _refuse("certificate_untrusted", N_(
        "The certificate is not trusted: it was not issued by the National Certification "
        "Authority of Kazakhstan."))


@dataclass(frozen=True)
class EdsIdentity:
    """Who signed, as the certificate says."""

    iin: str
    full_name: str  # "SURNAME NAME PATRONYMIC", as NCA writes it (capitals)
    surname: str | None
    patronymic: str | None  # NCA puts the patronymic in GIVENNAME; the first name is in CN
    certificate_serial: str  # hex, as NCA and NCALayer show it
    certificate_fingerprint: str  # SHA-256 of the DER, hex
    issuer: str  # RFC 4514
    valid_until: datetime


# --- challenges ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedChallenge:
    value: str
    expires_at: datetime


def new_challenge():
    """32 random bytes, base64url without padding: 43 ASCII characters."""
    return base64.urlsafe_b64encode(secrets.token_bytes(CHALLENGE_BYTES)).rstrip(b"=").decode()


def challenge_digest(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def issue_challenge(now=None, ttl=CHALLENGE_TTL):
    """Store a new challenge (flushed, committed by the caller) and return it with its expiry."""
    now = now or datetime.now(timezone.utc)
    value = new_challenge()
    db.session.add(EdsChallenge(challenge_hash=challenge_digest(value), created_at=now,
                                expires_at=now + ttl))
    db.session.flush()
    return IssuedChallenge(value, now + ttl)


def consume_challenge(value, now=None):
    """Mark a challenge used, once: unknown, used or expired challenges are refused."""
    now = now or datetime.now(timezone.utc)
    if not isinstance(value, str) or not value or len(value) > 200:
        _challenge_invalid()
    result = db.session.execute(
        update(EdsChallenge)
        .where(EdsChallenge.challenge_hash == challenge_digest(value),
               EdsChallenge.used_at.is_(None), EdsChallenge.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        _challenge_invalid()


def purge_challenges(now=None):
    """Delete challenges past their expiry (used or not); returns how many."""
    now = now or datetime.now(timezone.utc)
    result = db.session.execute(delete(EdsChallenge).where(EdsChallenge.expires_at <= now)
                                .execution_options(synchronize_session=False))
    return result.rowcount


def authenticate(challenge, cms_data, trusted_roots_pem, now=None, ocsp_fetcher=None):
    """Verify the signed challenge, then consume it: the identity, or a refusal."""
    now = now or datetime.now(timezone.utc)
    identity = verify_signed_challenge(cms_data, challenge, trusted_roots_pem, now, ocsp_fetcher)
    consume_challenge(challenge, now)
    return identity


# --- verification -------------------------------------------------------------------------

def verify_signed_challenge(cms_der_or_b64, expected_challenge, trusted_roots_pem, now,
                            ocsp_fetcher=None):
    """Check a CMS signature of `expected_challenge` by a valid, unrevoked NCA authentication
    certificate and return the signer's EdsIdentity; raise EdsRefused (or
    RevocationUnavailable) otherwise. Does not consume the challenge: see `authenticate`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    roots = load_trusted_roots(trusted_roots_pem)
    if not isinstance(expected_challenge, str) or not expected_challenge:
        _challenge_invalid()
    expected = expected_challenge.encode("utf-8")
    signed_data = _load_signed_data(cms_der_or_b64)
    try:  # asn1crypto parses lazily: a malformed part fails where it is first read
        signer_info = _only_signer(signed_data)
        certificates = _certificates(signed_data)
        signer_cert = _signer_certificate(signer_info["sid"], certificates)
        _refuse_unsupported_algorithms(signer_info, signer_cert)
        encapsulated = signed_data["encap_content_info"]
        if encapsulated["content_type"].native != "data":
            _invalid_signature()
        content = encapsulated["content"]
        content = expected if isinstance(content, core.Void) else content.native
        leaf = _to_cryptography(signer_cert)
        _verify_signature(signer_info, leaf, content)
    except (ValueError, TypeError, KeyError):
        _invalid_signature()
    if not hmac.compare_digest(content, expected):
        _challenge_invalid()

    intermediates = []
    for cert in certificates:
        if cert is not signer_cert:
            try:
                intermediates.append(x509.load_der_x509_certificate(cert.dump()))
            except ValueError:
                continue  # an unreadable extra certificate cannot be on the path anyway
    chain = _validated_chain(leaf, intermediates, roots, now)
    _require_authentication_usage(leaf)
    check_revocation(chain, now, ocsp_fetcher or fetch_ocsp)
    return _identity(leaf, now)


def load_trusted_roots(pem):
    """The certificates of a PEM bundle (str or bytes); ValueError when there are none."""
    if isinstance(pem, str):
        pem = pem.encode("utf-8")
    return x509.load_pem_x509_certificates(pem)


def _load_signed_data(data):
    if isinstance(data, str):
        if len(data) > MAX_CMS_BYTES * 2:
            _invalid_signature()
        # NCALayer may wrap its base64; PEM armour is tolerated as well.
        data = re.sub(r"-----(BEGIN|END) [A-Z0-9 ]+-----|\s", "", data)
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            _invalid_signature()
    if not isinstance(data, bytes) or not data or len(data) > MAX_CMS_BYTES:
        _invalid_signature()
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            _invalid_signature()
        return info["content"]
    except (ValueError, TypeError, KeyError):
        _invalid_signature()


def _only_signer(signed_data):
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        _invalid_signature()
    return signer_infos[0]


def _certificates(signed_data):
    choices = signed_data["certificates"]
    if isinstance(choices, core.Void):
        return []
    return [choice.chosen for choice in choices if choice.name == "certificate"]


def _signer_certificate(sid, certificates):
    for cert in certificates:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (cert.issuer == wanted["issuer"]
                    and cert.serial_number == wanted["serial_number"].native):
                return cert
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return cert
    _refuse("certificate_untrusted", N_("The signature does not include its certificate."))


def _refuse_unsupported_algorithms(signer_info, signer_cert):
    oids = (signer_info["digest_algorithm"]["algorithm"].dotted,
            signer_info["signature_algorithm"]["algorithm"].dotted,
            signer_cert["tbs_certificate"]["subject_public_key_info"]["algorithm"]["algorithm"].dotted)
    if any(oid.startswith(GOST_OID_PREFIXES) for oid in oids):
        _refuse("algorithm_not_supported", N_(
            "Signing in with a GOST key is not supported yet. Please choose your RSA "
            "authentication key (its file name begins with AUTH_RSA256)."))
    if signer_info["digest_algorithm"]["algorithm"].native not in DIGESTS:
        _refuse("algorithm_not_supported", N_(
            "This signature uses an algorithm that is not supported. Please sign with an RSA key "
            "and SHA-256."))


def _to_cryptography(cert):
    try:
        return x509.load_der_x509_certificate(cert.dump())
    except ValueError:
        _untrusted()


def _verify_signature(signer_info, leaf, content):
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    hash_algorithm = DIGESTS[digest_name]()
    signed_attrs = signer_info["signed_attrs"]
    if isinstance(signed_attrs, core.Void):
        signed_bytes = content
    else:
        attrs = {}
        for attr in signed_attrs:
            attrs.setdefault(attr["type"].native, []).extend(attr["values"])
        digests = attrs.get("message_digest", [])
        types = attrs.get("content_type", [])
        if (len(digests) != 1 or len(types) != 1 or types[0].native != "data"
                or not hmac.compare_digest(digests[0].native, _digest(hash_algorithm, content))):
            _invalid_signature()
        # The signature covers the attributes as a SET OF (tag 0x31), not as the [0] they are
        # sent in; untag() keeps the signer's own encoding of the contents.
        signed_bytes = signed_attrs.untag().dump()

    public_key = leaf.public_key()
    algorithm = signer_info["signature_algorithm"]
    signature = signer_info["signature"].native
    try:
        if algorithm.signature_algo == "rsassa_pss" and isinstance(public_key, rsa.RSAPublicKey):
            params = algorithm["parameters"]
            pss_hash = DIGESTS.get(params["hash_algorithm"]["algorithm"].native)
            mgf = params["mask_gen_algorithm"]
            mgf_hash = DIGESTS.get(mgf["parameters"]["algorithm"].native)
            if pss_hash is None or mgf_hash is None or mgf["algorithm"].native != "mgf1":
                _refuse("algorithm_not_supported", N_(
                    "This signature uses an algorithm that is not supported. Please sign with an "
                    "RSA key and SHA-256."))
            public_key.verify(signature, signed_bytes,
                              padding.PSS(mgf=padding.MGF1(mgf_hash()),
                                          salt_length=params["salt_length"].native),
                              pss_hash())
        elif (algorithm.signature_algo == "rsassa_pkcs1v15"
              and isinstance(public_key, rsa.RSAPublicKey)):
            _same_hash(algorithm, digest_name)
            public_key.verify(signature, signed_bytes, padding.PKCS1v15(), hash_algorithm)
        elif algorithm.signature_algo == "ecdsa" and isinstance(public_key, ec.EllipticCurvePublicKey):
            _same_hash(algorithm, digest_name)
            public_key.verify(signature, signed_bytes, ec.ECDSA(hash_algorithm))
        else:
            _refuse("algorithm_not_supported", N_(
                "This signature uses an algorithm that is not supported. Please sign with an RSA "
                "key and SHA-256."))
    except (InvalidSignature, ValueError, UnsupportedAlgorithm):
        _invalid_signature()


def _same_hash(algorithm, digest_name):
    """sha256WithRSAEncryption and the like name a hash: it must be the digest algorithm's."""
    try:
        named = algorithm.hash_algo
    except ValueError:  # plain rsaEncryption / ecPublicKey: the digest algorithm decides
        return
    if named != digest_name:
        _invalid_signature()


def _digest(hash_algorithm, data):
    h = hashes.Hash(hash_algorithm)
    h.update(data)
    return h.finalize()


def _validated_chain(leaf, intermediates, roots, now):
    """The chain leaf → … → root, checked by cryptography's RFC 5280 path builder. CA
    certificates follow the Web PKI profile; the leaf's extensions are checked by us below
    (NCA's personal certificates have no subjectAltName, which that profile requires)."""
    def verify_at(moment):
        verifier = (PolicyBuilder().store(Store(roots)).time(moment)
                    .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                        ee_policy=ExtensionPolicy.permit_all())
                    .build_client_verifier())
        return verifier.verify(leaf, intermediates).chain

    try:
        return verify_at(now)
    except VerificationError:
        pass
    # A genuine certificate out of its dates deserves a message naming that, not "untrusted".
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if not start <= now <= end:
        try:
            verify_at(end if now > end else start)
        except VerificationError:
            pass
        else:
            _refuse("certificate_expired", N_(
                "Your certificate has expired or is not valid yet. Please renew your EDS at "
                "NCA RK (pki.gov.kz)."))
    _untrusted()


def _require_authentication_usage(cert):
    not_for_authentication = N_(
        "This certificate is not for signing in. Please choose your authentication key "
        "(AUTH_RSA256…), not the signing one (RSA256…).")
    try:
        key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        _refuse("certificate_not_for_authentication", not_for_authentication)
    if not key_usage.digital_signature:
        _refuse("certificate_not_for_authentication", not_for_authentication)
    try:
        extended = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if ExtendedKeyUsageOID.CLIENT_AUTH not in extended:
        _refuse("certificate_not_for_authentication", not_for_authentication)


def _identity(cert, now):
    subject = cert.subject

    def first(oid):
        values = subject.get_attributes_for_oid(oid)
        return values[0].value.strip() if values else None

    iin = None
    for attr in subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        match = IIN_SERIAL.fullmatch(attr.value.strip())
        if match:
            iin = match.group(1)
    if iin is None:
        _refuse("certificate_no_iin", N_("This certificate does not name a person by IIN."))
    try:
        iin = validate_adult_iin(iin, today=now.date())
    except InvalidIIN as error:
        if error.code == "iin_under_age":
            raise
        _refuse("certificate_no_iin", N_("This certificate does not name a person by IIN."))

    common_name, surname, patronymic = (first(NameOID.COMMON_NAME), first(NameOID.SURNAME),
                                        first(NameOID.GIVEN_NAME))
    full_name = " ".join(part for part in (common_name or surname, patronymic) if part)
    if not full_name:
        _refuse("certificate_no_name", N_("This certificate does not give the holder's name."))
    return EdsIdentity(
        iin=iin, full_name=full_name, surname=surname, patronymic=patronymic,
        certificate_serial=format(cert.serial_number, "x"),
        certificate_fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        issuer=cert.issuer.rfc4514_string(), valid_until=cert.not_valid_after_utc)


# --- revocation ---------------------------------------------------------------------------

def fetch_ocsp(url, request_der, timeout=OCSP_TIMEOUT):
    """POST an OCSP request (RFC 6960 appendix A) and return the DER response."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an HTTP OCSP responder: {url}")
    request = urllib.request.Request(url, data=request_der, method="POST", headers={
        "Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
        body = response.read(MAX_OCSP_BYTES + 1)
    if len(body) > MAX_OCSP_BYTES:
        raise ValueError("OCSP response too large")
    return body


def ocsp_urls(cert):
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [d.access_location.value for d in access
            if d.access_method == AuthorityInformationAccessOID.OCSP
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
            and urllib.parse.urlsplit(d.access_location.value).scheme in ("http", "https")]


def check_revocation(chain, now, fetcher):
    """Ask the OCSP responder named by each certificate of the chain (except the root) about
    it; certificates that name none are not checked. `fetcher(url, request_der)` returns the
    DER response."""
    for cert, issuer in zip(chain, chain[1:]):
        urls = ocsp_urls(cert)
        if urls:
            _ocsp_check(cert, issuer, urls[0], now, fetcher)


def _ocsp_check(cert, issuer, url, now, fetcher):
    nonce = secrets.token_bytes(16)
    request = (ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
               .add_extension(x509.OCSPNonce(nonce), critical=False).build())
    try:
        response = ocsp.load_der_ocsp_response(fetcher(url, request.public_bytes(Encoding.DER)))
    except Exception as error:  # any transport or parsing failure: no answer, fail closed
        raise RevocationUnavailable(f"{url}: {error!r}") from error
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise RevocationUnavailable(f"{url}: {response.response_status.name}")
    _verify_ocsp_signature(response, issuer, now, url)
    try:
        echoed = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        echoed = None  # responders may omit it: freshness below still bounds a replay
    if echoed is not None and echoed != nonce:
        raise RevocationUnavailable(f"{url}: nonce mismatch")

    single = next((r for r in response.responses
                   if r.serial_number == request.serial_number
                   and r.issuer_key_hash == request.issuer_key_hash
                   and r.issuer_name_hash == request.issuer_name_hash
                   and r.hash_algorithm.name == request.hash_algorithm.name), None)
    if single is None:
        raise RevocationUnavailable(f"{url}: no answer about this certificate")
    fresh_until = single.next_update_utc or single.this_update_utc + OCSP_MAX_AGE
    if single.this_update_utc > now + OCSP_CLOCK_SKEW or fresh_until < now - OCSP_CLOCK_SKEW:
        raise RevocationUnavailable(f"{url}: stale answer")
    if single.certificate_status == ocsp.OCSPCertStatus.REVOKED:
        _refuse("certificate_revoked", N_(
            "Your certificate has been revoked. Please get a new EDS from NCA RK (pki.gov.kz)."))
    if single.certificate_status != ocsp.OCSPCertStatus.GOOD:
        _untrusted()


def _verify_ocsp_signature(response, issuer, now, url):
    """RFC 6960 §4.2.2.2: signed by the issuer itself, or by a responder certificate that the
    issuer signed for OCSP signing (id-kp-OCSPSigning) and that is valid now."""
    def is_responder(cert):
        if response.responder_name is not None:
            return cert.subject == response.responder_name
        key_id = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
        return key_id == response.responder_key_hash

    if is_responder(issuer):
        signer = issuer
    else:
        signer = next((c for c in response.certificates if is_responder(c)), None)
        if signer is None or not _delegated_by(signer, issuer, now):
            raise RevocationUnavailable(f"{url}: response not signed by an authorised responder")
    key = signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(response.signature, response.tbs_response_bytes, padding.PKCS1v15(),
                       response.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(response.signature, response.tbs_response_bytes,
                       ec.ECDSA(response.signature_hash_algorithm))
        else:
            raise RevocationUnavailable(f"{url}: unsupported responder key")
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError) as error:
        raise RevocationUnavailable(f"{url}: bad response signature") from error


def _delegated_by(responder, issuer, now):
    try:
        responder.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return (ExtendedKeyUsageOID.OCSP_SIGNING.dotted_string in _extended_key_usages(responder)
            and responder.not_valid_before_utc <= now <= responder.not_valid_after_utc)


def _extended_key_usages(cert):
    """The certificate's extended key usage OIDs, parsing that one extension only. NCA RK's
    OCSP responder certificate carries an ocspNoCheck whose value is empty instead of NULL:
    cryptography (cert.extensions) and asn1crypto's accessors refuse the whole list for it."""
    tbs = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))["tbs_certificate"]
    for extension in tbs["extensions"]:
        if extension["extn_id"].native == "extended_key_usage":
            try:
                return {oid.dotted for oid in extension["extn_value"].parsed}
            except ValueError:
                return set()
    return set()
