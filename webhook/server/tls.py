"""TLS material: server contexts, certificate facts and change detection. Reads files.

``server_context`` builds a fresh ``ssl.SSLContext`` from the certificate,
key and (for mutual TLS) client CA files: TLS 1.2 or newer, forward-secret
AEAD cipher suites only for TLS 1.2 (TLS 1.3's suites are all modern),
no compression, no renegotiation, HTTP/1.1 by ALPN. A context is never
changed after it is built; a reload builds a new one and the caller swaps it
in for new handshakes (connections already established keep theirs).

``describe`` reads the facts the webhook reports (expiry, subject) with
``cryptography``; ``fingerprint`` hashes the files' bytes so a poller can
tell when any of them changed, however they were replaced (in place, by
rename, or by Kubernetes' atomic ``..data`` symlink swap).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import pathlib
import ssl
from collections.abc import Iterable
from typing import Final

from cryptography import x509

#: TLS 1.2 suites: ECDHE key exchange, AEAD ciphers only.
TLS12_CIPHERS: Final = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!SHA1:!SHA256:!SHA384"


class TlsError(ValueError):
    """TLS material cannot be used; the message names the file and why."""


@dataclasses.dataclass(frozen=True, slots=True)
class CertificateFacts:
    not_after: datetime.datetime
    subject: str


def _read(path: str, what: str) -> bytes:
    try:
        return pathlib.Path(path).read_bytes()
    except OSError as err:
        raise TlsError(f"{what} {path}: cannot be read: {err.strerror or err}") from err


def server_context(
    *, cert_file: str, key_file: str, client_ca_file: str | None = None
) -> ssl.SSLContext:
    """A new server context for the files as they are now; ``TlsError`` says why not."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= (
        ssl.OP_NO_COMPRESSION
        | ssl.OP_CIPHER_SERVER_PREFERENCE
        | ssl.OP_SINGLE_ECDH_USE
        | ssl.OP_NO_RENEGOTIATION
        | ssl.OP_NO_TICKET
    )
    context.num_tickets = 0  # TLS 1.3: a resumed session would skip the new certificate
    context.set_alpn_protocols(["http/1.1"])
    _read(cert_file, "certificate file")
    _read(key_file, "private key file")
    try:
        context.load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as err:
        raise TlsError(
            f"certificate {cert_file} and key {key_file} cannot be used together: {err}"
        ) from err
    if client_ca_file:
        _read(client_ca_file, "client CA file")
        try:
            context.load_verify_locations(cafile=client_ca_file)
        except (ssl.SSLError, OSError) as err:
            raise TlsError(f"client CA file {client_ca_file}: {err}") from err
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def describe(cert_file: str) -> CertificateFacts:
    """The expiry and subject of the first (leaf) certificate in ``cert_file``."""
    data = _read(cert_file, "certificate file")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as err:
        raise TlsError(f"certificate file {cert_file}: not a PEM certificate: {err}") from err
    leaf = certificates[0]
    return CertificateFacts(
        not_after=leaf.not_valid_after_utc, subject=leaf.subject.rfc4514_string()
    )


def fingerprint(paths: Iterable[str | None]) -> str:
    """A digest of the files' current bytes (``missing`` for one that cannot be read)."""
    digest = hashlib.sha256()
    for path in paths:
        if path is None:
            continue
        try:
            digest.update(pathlib.Path(path).read_bytes())
        except OSError:
            digest.update(b"\x00missing\x00" + path.encode())
        digest.update(b"\x00")
    return digest.hexdigest()
