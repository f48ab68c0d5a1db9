"""What the webhook's endpoints serve: the certificate a TLS handshake presents.

Network I/O: a TLS connection to each probed ``host:port`` (nothing else).
``certificates.Manager`` probes each endpoint of the webhook Service once
(``addresses`` reads them from its EndpointSlices: one per replica), and an
endpoint given as ``host:port`` ``PROBE_ATTEMPTS`` times, so a load balancer
that spreads connections over replicas likely shows each one;
``rotation.plan`` then knows which CA the served certificates chain to.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from webhook.operator import pki

#: Connections made to each probed endpoint (a Service spreads them over replicas).
PROBE_ATTEMPTS: Final = 3
PROBE_TIMEOUT: Final = 3.0
#: The label that ties an EndpointSlice to its Service.
SERVICE_NAME_LABEL: Final = "kubernetes.io/service-name"


def addresses(slices: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """``host:port`` of every endpoint in ``slices``, ready or not (a replica may still serve)."""
    for item in slices:
        ports = [
            port["port"]
            for port in item.get("ports") or ()
            if isinstance(port.get("port"), int) and port.get("protocol", "TCP") == "TCP"
        ]
        ipv6 = item.get("addressType") == "IPv6"
        for endpoint in item.get("endpoints") or ():
            for host in endpoint.get("addresses") or ():
                for port in ports:
                    yield f"[{host}]:{port}" if ipv6 else f"{host}:{port}"


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
