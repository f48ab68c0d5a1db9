"""Pod Security check ``sysctls`` (baseline). Pure, no I/O.

Only ``spec.securityContext.sysctls[*].name`` is read (values are free), and
only names on the safe list of the policy version are allowed, matched exactly:
v1.0 kernel.shm_rmid_forced, net.ipv4.ip_local_port_range,
net.ipv4.tcp_syncookies, net.ipv4.ping_group_range,
net.ipv4.ip_unprivileged_port_start; v1.27 adds net.ipv4.ip_local_reserved_ports;
v1.29 net.ipv4.tcp_keepalive_time, tcp_fin_timeout, tcp_keepalive_intvl,
tcp_keepalive_probes; v1.32 net.ipv4.tcp_rmem, tcp_wmem; v1.37
net.ipv4.tcp_slow_start_after_idle, tcp_notsent_lowat.
"""

from __future__ import annotations

from typing import Final

from webhook.profiles import catalog
from webhook.rules import findings, podview

_ADDED: Final[tuple[tuple[int, frozenset[str]], ...]] = (
    (
        0,
        frozenset(
            {
                "kernel.shm_rmid_forced",
                "net.ipv4.ip_local_port_range",
                "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range",
                "net.ipv4.ip_unprivileged_port_start",
            }
        ),
    ),
    (27, frozenset({"net.ipv4.ip_local_reserved_ports"})),
    (
        29,
        frozenset(
            {
                "net.ipv4.tcp_keepalive_time",
                "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes",
            }
        ),
    ),
    (32, frozenset({"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"})),
    (37, frozenset({"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"})),
)


def allowed_at(minor: int) -> frozenset[str]:
    """The safe sysctl names at policy version ``v1.<minor>``."""
    names: frozenset[str] = frozenset()
    for since, added in _ADDED:
        if since <= minor:
            names |= added
    return names


def _variant(minor: int) -> catalog.Variant:
    allowed = allowed_at(minor)

    def evaluate(pod: podview.PodView) -> list[findings.Finding]:
        entries = pod.security_context.get("sysctls")
        if not entries:
            return []
        out: list[findings.Finding] = []
        for index, entry in enumerate(entries):
            name = entry.get("name") if isinstance(entry, dict) else None
            if name not in allowed:
                out.append(
                    pod.finding(
                        "sysctls",
                        "securityContext",
                        f"sysctls[{index}]",
                        "name",
                        message=f"forbidden sysctls ({name})",
                        fix="remove the sysctl; only these are allowed: "
                        + ", ".join(sorted(allowed)),
                    )
                )
        return out

    return catalog.Variant(minor, evaluate)


CHECKS: Final[tuple[catalog.Check, ...]] = (
    catalog.Check(
        id="sysctls",
        level="baseline",
        reason="forbidden sysctls",
        variants=tuple(_variant(since) for since, _ in _ADDED),
    ),
)
