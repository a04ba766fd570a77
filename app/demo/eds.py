"""A throwaway PKI for demonstrating EDS sign-in without NCALayer or a real key: a demo root, a
demo intermediate and a resident's authentication certificate, shaped like NCA RK's (subject
serialNumber IIN…, CN "SURNAME NAME", GIVENNAME = patronymic, keyUsage digitalSignature +
keyEncipherment, extendedKeyUsage clientAuth).

Demo only. Every function refuses unless the EDS_DEMO setting is on, which production refuses
at start-up (config.ProductionConfig.validate): a site that trusted `root_pem` would accept
any certificate this module makes. The demo flow is: build_demo_pki(iin, name) once, trust its
root_pem in the demo site's EDS_TRUSTED_ROOTS, then sign_challenge(challenge, credentials)
stands in for NCALayer and returns the base64 CMS the page would have sent.
"""
import base64
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import current_app


@dataclass(frozen=True)
class DemoCredentials:
    root_pem: str  # what the demo site trusts
    certificate: x509.Certificate  # the resident's authentication certificate
    intermediate: x509.Certificate
    private_key: rsa.RSAPrivateKey


def _require_demo():
    if not current_app.config.get("EDS_DEMO"):
        raise RuntimeError("the demo EDS PKI is disabled (EDS_DEMO is off)")


def _name(*pairs):
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs if value])


def _certificate(subject, key, issuer, issuer_key, now, days, ca):
    usage = (dict(key_cert_sign=True, crl_sign=True) if ca
             else dict(digital_signature=True, key_encipherment=True))
    flags = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                 data_encipherment=False, key_agreement=False, key_cert_sign=False,
                 crl_sign=False, encipher_only=False, decipher_only=False) | usage
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca and subject != issuer
                                                    else None), critical=True)
               .add_extension(x509.KeyUsage(**flags), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False))
    if subject != issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False)
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def build_demo_pki(iin, full_name, now=None):
    """A demo root and intermediate, and an authentication certificate for `iin` and
    `full_name` ("SURNAME NAME PATRONYMIC")."""
    _require_demo()
    now = now or datetime.now(timezone.utc)
    root_key, intermediate_key, resident_key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3))
    root_name = _name((NameOID.COMMON_NAME, "Qatysu DEMO root (not NCA RK)"),
                      (NameOID.COUNTRY_NAME, "KZ"))
    intermediate_name = _name((NameOID.COMMON_NAME, "Qatysu DEMO authority (not NCA RK)"),
                              (NameOID.COUNTRY_NAME, "KZ"))
    root = _certificate(root_name, root_key, root_name, root_key, now, 3650, ca=True)
    intermediate = _certificate(intermediate_name, intermediate_key, root_name, root_key, now,
                                1825, ca=True)
    parts = full_name.split()
    subject = _name((NameOID.COMMON_NAME, " ".join(parts[:2])), (NameOID.SURNAME, parts[0]),
                    (NameOID.SERIAL_NUMBER, f"IIN{iin}"), (NameOID.COUNTRY_NAME, "KZ"),
                    (NameOID.GIVEN_NAME, " ".join(parts[2:])))
    resident = _certificate(subject, resident_key, intermediate_name, intermediate_key, now, 365,
                            ca=False)
    return DemoCredentials(root.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                           resident, intermediate, resident_key)


def sign_challenge(challenge, credentials):
    """What NCALayer would return: a base64 CMS with the challenge attached and the chain."""
    _require_demo()
    der = (pkcs7.PKCS7SignatureBuilder().set_data(challenge.encode("utf-8"))
           .add_signer(credentials.certificate, credentials.private_key, hashes.SHA256())
           .add_certificate(credentials.intermediate)
           .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))
    return base64.b64encode(der).decode("ascii")
