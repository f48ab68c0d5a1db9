"""Throwaway PKI for the test control plane and the webhooks it calls.

Owns: generating a certificate authority, issuing serving and client
certificates from it, and the service-account signing key pair, all with
the ``cryptography`` package. Keys are ECDSA P-256 (fast to make, accepted by
kube-apiserver, etcd, kubectl and Python's ssl). Nothing here is meant to
outlive one test session.

I/O: none, except :meth:`Credential.write` and ``write_atomically``, which write PEM files.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import pathlib
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=2)
_CLOCK_SKEW = datetime.timedelta(minutes=5)


@dataclasses.dataclass(frozen=True)
class Credential:
    """A PEM certificate (or public key) and its PEM private key."""

    cert_pem: bytes
    key_pem: bytes

    def write(self, directory: pathlib.Path, name: str) -> tuple[pathlib.Path, pathlib.Path]:
        """Write ``<name>.crt`` and ``<name>.key`` (mode 0600); return both paths."""
        cert_path = directory / f"{name}.crt"
        key_path = directory / f"{name}.key"
        cert_path.write_bytes(self.cert_pem)
        key_path.touch(mode=0o600)
        key_path.write_bytes(self.key_pem)
        return cert_path, key_path

    @property
    def serial(self) -> int:
        """The certificate's serial number (random: it tells certificates apart)."""
        return x509.load_pem_x509_certificate(self.cert_pem).serial_number


def serial_of(der: bytes) -> int:
    """The serial number of a DER certificate (what ``SSLSocket.getpeercert(True)`` gives)."""
    return x509.load_der_x509_certificate(der).serial_number


def write_atomically(path: pathlib.Path, data: bytes) -> None:
    """Replace ``path`` in one rename, so a reader sees the old or the new file, never half."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def _name(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    """Digital signatures, plus certificate and CRL signing for a CA."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


@dataclasses.dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed CA that can issue leaf certificates."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls, common_name: str) -> CertificateAuthority:
        """Make a new self-signed CA valid for a couple of days."""
        key = _new_key()
        now = datetime.datetime.now(datetime.UTC)
        subject = _name(common_name)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(signs_certificates=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(certificate=certificate, private_key=key)

    @property
    def cert_pem(self) -> bytes:
        """The CA certificate in PEM form (what a caBundle or client CA holds)."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def credential(self) -> Credential:
        """The CA certificate and key as PEM."""
        return Credential(cert_pem=self.cert_pem, key_pem=_key_pem(self.private_key))

    def issue(
        self,
        *,
        common_name: str,
        organizations: Sequence[str] = (),
        dns_names: Sequence[str] = (),
        ip_addresses: Sequence[str] = (),
        server: bool = False,
        client: bool = False,
    ) -> Credential:
        """Issue a leaf certificate signed by this CA.

        For Kubernetes client certificates the common name is the user name
        and each organization is a group (``system:masters`` is cluster-admin).
        """
        if not (server or client):
            raise ValueError("a certificate must be for server use, client use, or both")
        key = _new_key()
        now = datetime.datetime.now(datetime.UTC)
        usages = [ExtendedKeyUsageOID.SERVER_AUTH] if server else []
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organizations))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(signs_certificates=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.private_key.public_key()),
                critical=False,
            )
        )
        alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
        alt_names.extend(x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses)
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        certificate = builder.sign(self.private_key, hashes.SHA256())
        return Credential(
            cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
            key_pem=_key_pem(key),
        )


def service_account_key_pair() -> Credential:
    """A signing key for service-account tokens; ``cert_pem`` holds the public key."""
    key = _new_key()
    public_pem = key.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return Credential(cert_pem=public_pem, key_pem=_key_pem(key))
