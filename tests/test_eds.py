"""EDS sign-in: real signatures over a PKI made here (root, intermediate, residents'
certificates), a local OCSP responder, and every way a signature must be refused."""
import base64
import hashlib
import threading
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from app.domain import eds
from app.domain.eds import EdsRefused, RevocationUnavailable
from app.domain.iin import InvalidIIN, make_iin
from app.extensions import db
from app.models import EdsChallenge

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
IIN = make_iin(date(1988, 3, 14), serial="0421")
CHALLENGE = "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c"
CLIENT_AUTH = [ExtendedKeyUsageOID.CLIENT_AUTH]
AUTH_USAGE = {"digital_signature": True, "key_encipherment": True}
_KEYS = []


def rsa_key(n):
    """The n-th test key; 2048-bit generation is slow, so each is made once per session."""
    while len(_KEYS) <= n:
        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _KEYS[n]


def make_certificate(subject, key, issuer=None, issuer_key=None, *, ca=False, usage=None,
                     extended=CLIENT_AUTH, not_before=NOW - timedelta(days=30),
                     not_after=NOW + timedelta(days=335), ocsp_url=None):
    issuer, issuer_key = issuer or subject, issuer_key or key
    flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment",
                           "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
                           "encipher_only", "decipher_only"), False)
    flags.update(usage or ({"key_cert_sign": True, "crl_sign": True} if ca else AUTH_USAGE))
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(**flags), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False))
    if issuer != subject:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False)
    if extended and not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    if ocsp_url:
        builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def name(common_name, *, serial=f"IIN{IIN}", surname="ТЕСТОВ", patronymic="ТЕСТОВИЧ"):
    attrs = [(NameOID.COMMON_NAME, common_name), (NameOID.SURNAME, surname),
             (NameOID.SERIAL_NUMBER, serial), (NameOID.COUNTRY_NAME, "KZ"),
             (NameOID.GIVEN_NAME, patronymic)]
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs if value])


def ca_name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")])


def pem(*certs):
    return b"".join(c.public_bytes(Encoding.PEM) for c in certs)


class OcspResponder:
    """Answers OCSP requests for the test intermediate, signed by it, echoing the nonce."""

    def __init__(self, issuer, issuer_key):
        self.issuer, self.issuer_key = issuer, issuer_key
        self.known, self.revoked, self.requests = {}, set(), 0
        self.signing_key = issuer_key  # a test swaps it for a forger's
        self.this_update = NOW - timedelta(minutes=1)
        self.delegate = None  # (certificate, key) of a responder the issuer delegated to
        self.next_update = timedelta(hours=4)

    def answer(self, request_der):
        self.requests += 1
        request = ocsp.load_der_ocsp_request(request_der)
        cert = self.known[request.serial_number]
        revoked = request.serial_number in self.revoked
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=cert, issuer=self.issuer, algorithm=hashes.SHA1(),
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=self.this_update,
            next_update=self.next_update and self.this_update + self.next_update,
            revocation_time=NOW - timedelta(days=2) if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None)
        if self.delegate:  # as NCA RK does: by name, its own certificate included
            responder, key = self.delegate
            builder = builder.responder_id(ocsp.OCSPResponderEncoding.NAME, responder)
            builder = builder.certificates([responder])
        else:
            builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, self.issuer)
            key = self.signing_key
        for extension in request.extensions:
            builder = builder.add_extension(extension.value, critical=extension.critical)
        return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)

    def fetcher(self, url, request_der):
        return self.answer(request_der)


class Pki:
    """Root → intermediate → residents, like NCA RK's; the intermediate runs an OCSP
    responder on 127.0.0.1 that residents' certificates name."""

    def __init__(self):
        self.root_key, self.intermediate_key = rsa_key(0), rsa_key(1)
        years = {"not_before": NOW - timedelta(days=3650), "not_after": NOW + timedelta(days=3650)}
        self.root = make_certificate(ca_name("TEST ROOT CA (RSA)"), self.root_key, ca=True,
                                     **years)
        self.intermediate = make_certificate(ca_name("TEST ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA)"),
                                             self.intermediate_key, self.root.subject,
                                             self.root_key, ca=True, **years)
        self.roots_pem = pem(self.root)
        self.responder = OcspResponder(self.intermediate, self.intermediate_key)
        responder = self.responder

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = responder.answer(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.ocsp_url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def resident(self, subject=None, key_index=2, **options):
        options.setdefault("ocsp_url", self.ocsp_url)
        key = rsa_key(key_index)
        cert = make_certificate(subject or name("ТЕСТОВ ТЕСТ"), key, self.intermediate.subject,
                                self.intermediate_key, **options)
        self.responder.known[cert.serial_number] = cert
        return cert, key

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def pki():
    pki = Pki()
    yield pki
    pki.close()


@pytest.fixture
def resident(pki):
    return pki.resident()


def sign_cms(content, cert, key, chain=(), *, attached=True, signed_attrs=True, pss=False,
             digest="sha256", signature_oid=None, message_digest=None, signed_content=None,
             content_type="data"):
    """CMS SignedData built with asn1crypto: `content` is what the CMS carries,
    `signed_content` (default: the same) what the signature and messageDigest are over."""
    signed_content = content if signed_content is None else signed_content
    hash_algorithm = {"sha256": hashes.SHA256(), "sha1": hashes.SHA1()}.get(digest, hashes.SHA256())
    digest_algorithm = algos.DigestAlgorithm({"algorithm": digest})
    to_sign, attrs = signed_content, None
    if signed_attrs:
        h = hashes.Hash(hash_algorithm)
        h.update(signed_content)
        attrs = cms.CMSAttributes([
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": NOW})]}),
            cms.CMSAttribute({"type": "message_digest",
                              "values": [message_digest or h.finalize()]}),
        ])
        to_sign = attrs.dump()
    if pss:
        signature = key.sign(to_sign, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                  salt_length=32), hashes.SHA256())
        signature_algorithm = algos.SignedDigestAlgorithm({
            "algorithm": "rsassa_pss", "parameters": algos.RSASSAPSSParams({
                "hash_algorithm": {"algorithm": "sha256"},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
                "salt_length": 32})})
    else:
        signature = key.sign(to_sign, padding.PKCS1v15(), hash_algorithm)
        signature_algorithm = algos.SignedDigestAlgorithm(
            {"algorithm": signature_oid or "rsassa_pkcs1v15"})
    asn1_cert = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    signer_info = {
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": asn1_cert.issuer, "serial_number": asn1_cert.serial_number})}),
        "digest_algorithm": digest_algorithm,
        "signature_algorithm": signature_algorithm,
        "signature": signature,
    }
    if attrs is not None:
        signer_info["signed_attrs"] = attrs
    encap = {"content_type": content_type}
    if attached:
        encap["content"] = content if content_type == "data" else core.OctetString(content)
    signed_data = cms.SignedData({
        "version": "v1", "digest_algorithms": [digest_algorithm], "encap_content_info": encap,
        "certificates": [asn1_cert] + [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER))
                                       for c in chain],
        "signer_infos": [cms.SignerInfo(signer_info)],
    })
    der = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return base64.b64encode(der).decode("ascii")


def verify(pki, cms_data, challenge=CHALLENGE, now=NOW, **options):
    return eds.verify_signed_challenge(cms_data, challenge, pki.roots_pem, now, **options)


def refused(code, pki, cms_data, **options):
    with pytest.raises(EdsRefused) as caught:
        verify(pki, cms_data, **options)
    assert caught.value.code == code, caught.value
    assert caught.value.code in eds.REFUSAL_CODES and caught.value.status == 401
    return caught.value


# --- accepted signatures ------------------------------------------------------------------

def test_resident_signature_gives_their_identity(pki, resident):
    cert, key = resident
    requests = pki.responder.requests
    identity = verify(pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]))
    assert identity.iin == IIN
    assert identity.full_name == "ТЕСТОВ ТЕСТ ТЕСТОВИЧ"
    assert identity.surname == "ТЕСТОВ" and identity.patronymic == "ТЕСТОВИЧ"
    assert identity.certificate_serial == format(cert.serial_number, "x")
    assert identity.certificate_fingerprint == cert.fingerprint(hashes.SHA256()).hex()
    assert "TEST" in identity.issuer and identity.valid_until == cert.not_valid_after_utc
    assert pki.responder.requests == requests + 1  # asked the responder named in the AIA, over HTTP


@pytest.mark.parametrize("variant", [
    {"attached": False}, {"pss": True}, {"signed_attrs": False},
    {"signature_oid": "sha256_rsa"},
])
def test_cms_variants_are_accepted(pki, resident, variant):
    cert, key = resident
    cms_data = sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate], **variant)
    assert verify(pki, cms_data).iin == IIN


def test_cms_from_cryptographys_pkcs7_builder_raw_der_and_wrapped_base64(pki, resident):
    cert, key = resident
    der = (pkcs7.PKCS7SignatureBuilder().set_data(CHALLENGE.encode())
           .add_signer(cert, key, hashes.SHA256()).add_certificate(pki.intermediate)
           .sign(Encoding.DER, [pkcs7.PKCS7Options.Binary]))
    assert verify(pki, der).iin == IIN
    wrapped = base64.encodebytes(der).decode()  # NCALayer-style line breaks
    assert verify(pki, wrapped, ocsp_fetcher=pki.responder.fetcher).iin == IIN


def test_certificate_without_responder_is_not_asked_about(pki):
    cert, key = pki.resident(ocsp_url=None)
    def no_fetch(url, request):
        raise AssertionError("no OCSP responder is named")
    assert verify(pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]),
                  ocsp_fetcher=no_fetch).iin == IIN


# --- refused signatures -------------------------------------------------------------------

def test_tampered_content_is_refused(pki, resident):
    cert, key = resident
    cms_data = sign_cms(b"x" + CHALLENGE.encode()[1:], cert, key, [pki.intermediate],
                        signed_content=CHALLENGE.encode())
    refused("signature_invalid", pki, cms_data)


def test_tampered_signature_is_refused(pki, resident):
    cert, key = resident
    der = bytearray(base64.b64decode(sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate])))
    der[-5] ^= 0x01  # the signature is the last field of the CMS
    refused("signature_invalid", pki, bytes(der))


def test_message_digest_of_other_content_is_refused(pki, resident):
    cert, key = resident
    cms_data = sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate],
                        message_digest=hashlib.sha256(b"something else").digest())
    refused("signature_invalid", pki, cms_data)


def test_detached_signature_of_another_challenge_is_refused(pki, resident):
    cert, key = resident
    cms_data = sign_cms(b"another challenge", cert, key, [pki.intermediate], attached=False)
    refused("signature_invalid", pki, cms_data)


@pytest.mark.parametrize("garbage", ["", "not base64 !!", base64.b64encode(b"\x30\x03\x02\x01\x01").decode(),
                                     b"\x00" * 10, "A" * 200_000])
def test_garbage_is_refused(pki, garbage):
    refused("signature_invalid", pki, garbage)


def test_content_that_is_not_data_is_refused(pki, resident):
    cert, key = resident
    refused("signature_invalid", pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate],
                                               content_type="1.2.398.9.9"))


@pytest.mark.parametrize("challenge", [None, "", 42])
def test_missing_challenge_is_refused(pki, resident, challenge):
    cert, key = resident
    refused("challenge_invalid", pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]),
            challenge=challenge)


def test_signature_of_another_challenge_is_refused(pki, resident):
    cert, key = resident
    cms_data = sign_cms(b"an old challenge", cert, key, [pki.intermediate])
    refused("challenge_invalid", pki, cms_data)


def test_self_made_certificate_with_someones_iin_is_refused(pki):
    # The classic forgery: a CA of one's own with the very names NCA's certificates carry.
    fake_root = make_certificate(pki.root.subject, rsa_key(3), ca=True)
    fake_intermediate = make_certificate(pki.intermediate.subject, rsa_key(4), fake_root.subject,
                                         rsa_key(3), ca=True)
    cert = make_certificate(name("ТЕСТОВ ТЕСТ"), rsa_key(5), fake_intermediate.subject, rsa_key(4))
    refused("certificate_untrusted", pki,
            sign_cms(CHALLENGE.encode(), cert, rsa_key(5), [fake_intermediate, fake_root]))
    self_signed = make_certificate(name("ТЕСТОВ ТЕСТ"), rsa_key(5))
    refused("certificate_untrusted", pki, sign_cms(CHALLENGE.encode(), self_signed, rsa_key(5)))


def test_chain_without_its_intermediate_is_refused(pki, resident):
    cert, key = resident
    refused("certificate_untrusted", pki, sign_cms(CHALLENGE.encode(), cert, key))


@pytest.mark.parametrize("dates", [
    {"not_before": NOW - timedelta(days=400), "not_after": NOW - timedelta(days=35)},
    {"not_before": NOW + timedelta(days=1), "not_after": NOW + timedelta(days=365)},
])
def test_expired_or_future_certificate_is_refused(pki, dates):
    cert, key = pki.resident(**dates)
    refused("certificate_expired", pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]))


def test_expired_self_made_certificate_is_untrusted_not_expired(pki):
    cert = make_certificate(name("ТЕСТОВ ТЕСТ"), rsa_key(5), not_before=NOW - timedelta(days=400),
                            not_after=NOW - timedelta(days=35))
    refused("certificate_untrusted", pki, sign_cms(CHALLENGE.encode(), cert, rsa_key(5)))


def test_revoked_certificate_is_refused_by_the_local_responder(pki):
    cert, key = pki.resident()
    pki.responder.revoked.add(cert.serial_number)
    refused("certificate_revoked", pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]))


def test_revoked_certificate_is_refused_through_an_injected_fetcher(pki):
    cert, key = pki.resident()
    pki.responder.revoked.add(cert.serial_number)
    asked = []

    def fetcher(url, request_der):
        asked.append(url)
        return pki.responder.answer(request_der)

    refused("certificate_revoked", pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]),
            ocsp_fetcher=fetcher)
    assert asked == [pki.ocsp_url]


def test_unreachable_responder_fails_closed(pki):
    cert, key = pki.resident(ocsp_url="http://127.0.0.1:9/")  # discard port: nothing listens
    with pytest.raises(RevocationUnavailable) as caught:
        verify(pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]))
    assert caught.value.code == "revocation_unavailable" and caught.value.status == 503


def nca_style_responder(pki, extended=(ExtendedKeyUsageOID.OCSP_SIGNING,)):
    """A delegated responder shaped like NCA RK's: EKU OCSPSigning, and an ocspNoCheck whose
    value is empty instead of NULL, which makes the certificate's extension list unparsable."""
    key = rsa_key(6)
    builder = (x509.CertificateBuilder().subject_name(ca_name("TEST OCSP RESPONDER"))
               .issuer_name(pki.intermediate.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW - timedelta(days=30)).not_valid_after(NOW + timedelta(days=300))
               .add_extension(x509.ExtendedKeyUsage(list(extended)), critical=False)
               .add_extension(x509.UnrecognizedExtension(x509.OID_OCSP_NO_CHECK, b""),
                              critical=False))
    return builder.sign(pki.intermediate_key, hashes.SHA256()), key


def test_delegated_responder_shaped_like_ncas_is_trusted(pki, resident, monkeypatch):
    cert, key = resident
    responder = nca_style_responder(pki)
    with pytest.raises(ValueError):
        responder[0].extensions  # what NCA's real responder certificate does to cryptography
    monkeypatch.setattr(pki.responder, "delegate", responder)
    monkeypatch.setattr(pki.responder, "next_update", None)  # NCA answers without nextUpdate
    assert verify(pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate])).iin == IIN
    pki.responder.revoked.add(cert.serial_number)
    refused("certificate_revoked", pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]))


def test_answer_signed_by_a_certificate_not_for_ocsp_fails_closed(pki, resident, monkeypatch):
    # Another resident's certificate is issued by the same authority, but may not vouch for others.
    cert, key = resident
    other, other_key = pki.resident(name("БАСҚА АДАМ", serial=f"IIN{make_iin(date(1970, 1, 1))}"),
                                    key_index=7)
    monkeypatch.setattr(pki.responder, "delegate", (other, other_key))
    with pytest.raises(RevocationUnavailable):
        verify(pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]))
    monkeypatch.setattr(pki.responder, "delegate",
                        nca_style_responder(pki, [ExtendedKeyUsageOID.CLIENT_AUTH]))
    with pytest.raises(RevocationUnavailable):
        verify(pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]))


@pytest.mark.parametrize("attack", ["forged", "stale", "garbage"])
def test_untrustworthy_ocsp_answer_fails_closed(pki, resident, monkeypatch, attack):
    cert, key = resident
    if attack == "forged":  # "good", signed by a key that is not the issuer's
        monkeypatch.setattr(pki.responder, "signing_key", rsa_key(3))
    elif attack == "stale":  # a genuine "good" from before the revocation, replayed
        monkeypatch.setattr(pki.responder, "this_update", NOW - timedelta(days=3))
    fetcher = (lambda url, der: b"\x30\x03\x0a\x01\x00") if attack == "garbage" else None
    with pytest.raises(RevocationUnavailable):
        verify(pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]),
               ocsp_fetcher=fetcher)


@pytest.mark.parametrize("options", [
    {"usage": {"content_commitment": True}, "extended": None},  # a signing-only key
    {"usage": {"key_encipherment": True}},  # no digitalSignature
    {"usage": {"digital_signature": True, "content_commitment": True},
     "extended": [ExtendedKeyUsageOID.EMAIL_PROTECTION]},  # NCA's signing certificate (RSA256…)
])
def test_certificate_not_for_authentication_is_refused(pki, options):
    cert, key = pki.resident(**options)
    refused("certificate_not_for_authentication", pki,
            sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]))


@pytest.mark.parametrize("serial", [None, "BIN123456789012", "IIN" + IIN[:11] + str((int(IIN[11]) + 1) % 10),
                                    "IIN12345"])
def test_certificate_without_a_valid_iin_is_refused(pki, serial):
    cert, key = pki.resident(name("ТЕСТОВ ТЕСТ", serial=serial))
    refused("certificate_no_iin", pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]))


def test_certificate_without_a_name_is_refused(pki):
    cert, key = pki.resident(name(None, surname=None, patronymic=None))
    refused("certificate_no_name", pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]))


def test_minor_is_refused_like_at_registration(pki):
    minor = make_iin(date(2012, 6, 1))
    cert, key = pki.resident(name("ТЕСТОВ ТЕСТ", serial=f"IIN{minor}"))
    with pytest.raises(InvalidIIN) as caught:
        verify(pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]))
    assert caught.value.code == "iin_under_age"


@pytest.mark.parametrize("options", [
    {"digest": "1.2.398.3.10.1.3.1"},  # GOST 34.311-95, NCA's GOSTKNCA keys
    {"signature_oid": "1.2.398.3.10.1.1.1.2"},  # GOST 34.310-2004
    {"signature_oid": "1.2.643.7.1.1.3.2"},  # GOST R 34.10-2012
])
def test_gost_signature_is_not_supported_yet(pki, resident, options):
    cert, key = resident
    error = refused("algorithm_not_supported", pki,
                    sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate], **options))
    assert "GOST" in str(error)


def test_sha1_signature_is_not_supported(pki, resident):
    cert, key = resident
    refused("algorithm_not_supported", pki,
            sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate], digest="sha1"))


def test_trusted_roots_must_not_be_empty(pki, resident):
    cert, key = resident
    with pytest.raises(ValueError):
        eds.verify_signed_challenge(sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate]),
                                    CHALLENGE, b"", NOW)


# --- challenges ---------------------------------------------------------------------------

def stored_challenge(now=NOW):
    value = eds.issue_challenge(now=now).value
    db.session.commit()
    return value


def test_challenge_is_random_urlsafe_and_stored_only_as_a_hash(app):
    with app.app_context():
        issued = eds.issue_challenge(now=NOW)
        db.session.commit()
        assert len(issued.value) == 43 and issued.value.isascii()
        assert base64.urlsafe_b64decode(issued.value + "=")
        assert issued.expires_at == NOW + eds.CHALLENGE_TTL
        stored = db.session.scalars(db.select(EdsChallenge)).one()
        assert stored.challenge_hash == hashlib.sha256(issued.value.encode()).hexdigest()
        assert eds.issue_challenge(now=NOW).value != issued.value


def test_challenge_is_consumed_once(app):
    with app.app_context():
        value = stored_challenge()
        eds.consume_challenge(value, now=NOW + timedelta(minutes=1))
        db.session.commit()
        with pytest.raises(EdsRefused) as caught:
            eds.consume_challenge(value, now=NOW + timedelta(minutes=2))
        assert caught.value.code == "challenge_invalid"


@pytest.mark.parametrize("value, later", [
    (None, eds.CHALLENGE_TTL + timedelta(seconds=1)),  # expired
    ("never-issued", timedelta(0)), ("", timedelta(0)),
])
def test_expired_or_unknown_challenge_is_refused(app, value, later):
    with app.app_context():
        issued = stored_challenge()
        with pytest.raises(EdsRefused) as caught:
            eds.consume_challenge(value if value is not None else issued, now=NOW + later)
        assert caught.value.code == "challenge_invalid"


def test_authenticate_refuses_a_replayed_signature(app, pki, resident):
    cert, key = resident
    with app.app_context():
        challenge = stored_challenge()
        cms_data = sign_cms(challenge.encode(), cert, key, [pki.intermediate])
        identity = eds.authenticate(challenge, cms_data, pki.roots_pem, now=NOW)
        db.session.commit()
        assert identity.iin == IIN
        with pytest.raises(EdsRefused) as caught:
            eds.authenticate(challenge, cms_data, pki.roots_pem, now=NOW + timedelta(seconds=5))
        assert caught.value.code == "challenge_invalid"


def test_failed_attempt_leaves_the_challenge_usable(app, pki, resident):
    cert, key = resident
    with app.app_context():
        challenge = stored_challenge()
        with pytest.raises(EdsRefused):
            eds.authenticate(challenge, sign_cms(b"other", cert, key, [pki.intermediate]),
                             pki.roots_pem, now=NOW)
        db.session.rollback()
        good = sign_cms(challenge.encode(), cert, key, [pki.intermediate])
        assert eds.authenticate(challenge, good, pki.roots_pem, now=NOW).iin == IIN


def test_purge_removes_only_expired_challenges(app):
    with app.app_context():
        eds.issue_challenge(now=NOW - timedelta(hours=1))
        eds.issue_challenge(now=NOW)
        assert eds.purge_challenges(now=NOW) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(EdsChallenge)) == 1


# --- the demo PKI -------------------------------------------------------------------------

def test_demo_pki_signs_challenges_its_root_verifies(app):
    from app.demo import eds as demo

    iin = make_iin(date(1990, 1, 2), serial="0007")
    with app.app_context():
        credentials = demo.build_demo_pki(iin, "ЖҰМАБАЕВ АЙДОС СЕРІКҰЛЫ")
        cms_data = demo.sign_challenge(CHALLENGE, credentials)
    identity = eds.verify_signed_challenge(cms_data, CHALLENGE, credentials.root_pem,
                                           datetime.now(timezone.utc))
    assert (identity.iin, identity.full_name) == (iin, "ЖҰМАБАЕВ АЙДОС СЕРІКҰЛЫ")


def test_demo_pki_is_refused_when_demo_is_off(make_app):
    from app.demo import eds as demo

    app = make_app(EDS_DEMO=False)
    with app.app_context(), pytest.raises(RuntimeError):
        demo.build_demo_pki(IIN, "ТЕСТОВ ТЕСТ ТЕСТОВИЧ")


def test_production_refuses_to_start_with_the_demo_pki():
    from config import ProductionConfig

    class App:
        config = {"SECRET_KEY": "x" * 40, "IIN_HMAC_KEY": "y" * 40,
                  "SQLALCHEMY_DATABASE_URI": "postgresql://db/qatysu", "EDS_DEMO": True}

    with pytest.raises(RuntimeError, match="EDS_DEMO"):
        ProductionConfig.validate(App)


# --- the default OCSP fetcher -------------------------------------------------------------

def test_default_fetcher_posts_over_http_only(pki, resident):
    cert, _ = resident
    request = (ocsp.OCSPRequestBuilder().add_certificate(cert, pki.intermediate, hashes.SHA1())
               .build().public_bytes(Encoding.DER))
    answer = ocsp.load_der_ocsp_response(eds.fetch_ocsp(pki.ocsp_url, request))
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    with pytest.raises(ValueError):
        eds.fetch_ocsp("file:///etc/passwd", request)


def test_only_http_responders_are_asked(pki):
    cert, key = pki.resident(ocsp_url="ldap://ocsp.example/")
    assert eds.ocsp_urls(cert) == []
    assert verify(pki, sign_cms(CHALLENGE.encode(), cert, key, [pki.intermediate])).iin == IIN
