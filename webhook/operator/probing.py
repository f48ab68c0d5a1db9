"""What the webhook's endpoints serve: the certificate a TLS handshake presents.

Network I/O: a TLS connection to each probed ``host:port`` (nothing else).
``certificates.Manager`` probes every endpoint ``PROBE_ATTEMPTS`` times so a
Service that spreads connections over replicas shows each replica's
certificate, and ``rotation.plan`` then knows which CA the served
certificates chain to.
"""

from __future__ import annotations

import socket
import ssl
from typing import Final

from webhook.operator import pki

#: Connections made to each probed endpoint (a Service spreads them over replicas).
PROBE_ATTEMPTS: Final = 3
PROBE_TIMEOUT: Final = 3.0


def probe(
    endpoint: str, *, server_name: str, timeout: float = PROBE_TIMEOUT
) -> pki.Certificate | None:
    """The certificate ``host:port`` presents in a TLS handshake, or ``None`` if unreachable.

    Nothing is verified: the point is to see which CA the served certificate chains to.
    """
    host, _, port = endpoint.rpartition(":")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ValueError):
        return None
    if der is None:
        return None
    try:
        return pki.load_der(der)
    except pki.PkiError:
        return None
