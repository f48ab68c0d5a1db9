"""Which endpoints of the webhook Service the operator probes: every replica, once."""

from __future__ import annotations

from webhook.operator import probing


def _slice(address_type: str, *endpoints: tuple[str, bool], ports: list[dict[str, object]]) -> dict:
    return {
        "addressType": address_type,
        "ports": ports,
        "endpoints": [
            {"addresses": [address], "conditions": {"ready": ready}} for address, ready in endpoints
        ],
    }


def test_every_replica_ready_or_not_is_probed_at_its_port() -> None:
    slices = [
        _slice("IPv4", ("10.1.0.5", True), ("10.1.0.6", False),
               ports=[{"name": "https", "port": 8443, "protocol": "TCP"}]),
        _slice("IPv6", ("fd00::7", True), ports=[{"name": "https", "port": 8443}]),
    ]  # fmt: skip
    assert list(probing.addresses(slices)) == ["10.1.0.5:8443", "10.1.0.6:8443", "[fd00::7]:8443"]


def test_slices_without_endpoints_or_tcp_ports_give_nothing() -> None:
    slices = [
        _slice("IPv4", ports=[{"port": 8443}]),
        _slice("IPv4", ("10.1.0.5", True), ports=[{"port": 53, "protocol": "UDP"}]),
        {"addressType": "IPv4", "endpoints": None, "ports": None},
    ]
    assert list(probing.addresses(slices)) == []
