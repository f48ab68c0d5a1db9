"""Certificates for the webhook: a CA and the serving certificate it signs. No I/O.

Keys are ECDSA P-256 and signatures SHA-256, with ``cryptography``. The CA
is self-signed (``CA:TRUE``, path length 0, key usage certificate and CRL
signing only); the serving certificate carries the Service's DNS names
(``svc``, ``svc.ns``, ``svc.ns.svc``) plus any extra names or IP addresses
as subject alternative names, the ``serverAuth`` extended key usage, and
never outlives the CA that signs it. ``not_before`` is backdated by a small
skew so a peer whose clock lags a little still accepts a fresh certificate.

``Certificate`` is the parsed, comparable view the rotation plan works on:
the PEM, its validity window, its SANs, the public key, and whether another
certificate signed it (``chains_to``).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import ipaddress
import secrets
from collections.abc import Sequence
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_COMMON_NAME: Final = "bulkhead-webhook-ca"
_PEM_END: Final = b"-----END CERTIFICATE-----"


class PkiError(ValueError):
    """PEM data that is not a usable certificate or key."""


@dataclasses.dataclass(frozen=True, slots=True)
class Certificate:
    """One parsed X.509 certificate."""

    pem: bytes
    not_before: datetime.datetime
    not_after: datetime.datetime
    is_ca: bool
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    fingerprint: str
    subject: str
    _cert: x509.Certificate = dataclasses.field(repr=False, compare=False)

    @classmethod
    def load(cls, pem: bytes) -> Certificate:
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError as err:
            raise PkiError(f"not a PEM certificate: {err}") from err
        return cls.of(cert)

    @classmethod
    def of(cls, cert: x509.Certificate) -> Certificate:
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns = tuple(san.get_values_for_type(x509.DNSName))
            ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
        except x509.ExtensionNotFound:
            dns, ips = (), ()
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(
            pem=cert.public_bytes(serialization.Encoding.PEM),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            is_ca=is_ca,
            dns_names=dns,
            ip_addresses=ips,
            fingerprint=hashlib.sha256(der).hexdigest(),
            subject=cert.subject.rfc4514_string(),
            _cert=cert,
        )

    @property
    def lifetime(self) -> datetime.timedelta:
        return self.not_after - self.not_before

    def renew_at(self, fraction: float) -> datetime.datetime:
        """The moment ``fraction`` of the validity window has passed (2/3: renew then)."""
        return self.not_before + self.lifetime * fraction

    def expired(self, now: datetime.datetime) -> bool:
        return now >= self.not_after

    def chains_to(self, issuer: Certificate) -> bool:
        """Whether ``issuer`` signed this certificate (names match and the signature verifies)."""
        if self._cert.issuer != issuer._cert.subject:
            return False
        try:
            self._cert.verify_directly_issued_by(issuer._cert)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True

    def matches_key(self, key: ec.EllipticCurvePrivateKey) -> bool:
        return self._cert.public_key() == key.public_key()


@dataclasses.dataclass(frozen=True, slots=True)
class KeyPair:
    """A certificate and its private key."""

    certificate: Certificate
    key: ec.EllipticCurvePrivateKey = dataclasses.field(repr=False, compare=False)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def load(cls, cert_pem: bytes, key_pem: bytes) -> KeyPair:
        """Parse a certificate and its key; ``PkiError`` when either is unusable or they differ."""
        certificate = Certificate.load(cert_pem)
        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
        except (ValueError, TypeError) as err:
            raise PkiError(f"not a PEM private key: {err}") from err
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError("the private key is not an ECDSA key")
        if not certificate.matches_key(key):
            raise PkiError("the private key does not belong to the certificate")
        return cls(certificate=certificate, key=key)


def split_bundle(pem: bytes) -> list[Certificate]:
    """Every certificate in a PEM bundle, in order; unparsable blocks are skipped."""
    out: list[Certificate] = []
    for block in pem.split(_PEM_END):
        start = block.find(b"-----BEGIN CERTIFICATE-----")
        if start < 0:
            continue
        try:
            out.append(Certificate.load(block[start:] + _PEM_END + b"\n"))
        except PkiError:
            continue
    return out


def join_bundle(certificates: Sequence[Certificate]) -> bytes:
    return b"".join(c.pem for c in certificates)


def _serial() -> int:
    return secrets.randbits(126) + 1


def new_ca(
    *, now: datetime.datetime, lifetime: datetime.timedelta, skew: datetime.timedelta
) -> KeyPair:
    """A fresh self-signed CA valid from ``now - skew`` for ``lifetime``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bulkhead"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"{CA_COMMON_NAME}-{now.strftime('%Y%m%dT%H%M%S%f')}"
            ),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(_serial())
        .not_valid_before(now - skew)
        .not_valid_after(now - skew + lifetime)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(certificate=Certificate.of(cert), key=key)


def service_names(*, service: str, namespace: str) -> tuple[str, ...]:
    """The DNS names the apiserver may use for a webhook Service."""
    return (service, f"{service}.{namespace}", f"{service}.{namespace}.svc")


def new_serving(
    *,
    ca: KeyPair,
    dns_names: Sequence[str],
    ip_addresses: Sequence[str] = (),
    now: datetime.datetime,
    lifetime: datetime.timedelta,
    skew: datetime.timedelta,
) -> KeyPair:
    """A serving certificate for ``dns_names`` (and IPs), signed by ``ca``, never past the CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(now - skew + lifetime, ca.certificate.not_after)
    alternative: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    alternative += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    issuer = ca.certificate._cert.subject
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - skew)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return KeyPair(certificate=Certificate.of(cert), key=key)


def load_der(der: bytes) -> Certificate:
    """A certificate as a TLS peer sent it (DER)."""
    try:
        return Certificate.of(x509.load_der_x509_certificate(der))
    except ValueError as err:
        raise PkiError(f"not a DER certificate: {err}") from err
