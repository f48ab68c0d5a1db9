"""sysctls: the full allow-list at every version that changed it."""

from __future__ import annotations

import pytest

from tests.unit.profiles import pods
from webhook import profiles

ADDED = {
    0: [
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    ],
    27: ["net.ipv4.ip_local_reserved_ports"],
    29: [
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    ],
    32: ["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"],
    37: ["net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"],
}
CASES = [
    (name, since, minor)
    for since, names in ADDED.items()
    for name in names
    for minor in sorted({0, 26, 27, 28, 29, 31, 32, 36, 37, since - 1, since} - {-1})
]


@pytest.mark.parametrize(
    ("name", "since", "minor"), CASES, ids=[f"{n}@v1.{m}" for n, _, m in CASES]
)
def test_allow_list_by_version(name: str, since: int, minor: int) -> None:
    view = pods.pod(lambda s: s["securityContext"].update(sysctls=[{"name": name, "value": "1"}]))
    denied = pods.judge("baseline", f"v1.{minor}", view)
    assert denied == (set() if minor >= since else {"sysctls"})


def test_unsafe_sysctl_path() -> None:
    view = pods.pod(
        lambda s: s["securityContext"].update(
            sysctls=[
                {"name": "kernel.shm_rmid_forced", "value": "1"},
                {"name": "kernel.msgmax", "value": "1"},
            ]
        )
    )
    (finding,) = profiles.resolve("baseline", "latest").evaluate(view)
    assert finding.path == "spec.securityContext.sysctls[1].name"
    assert "forbidden sysctls" in finding.message
