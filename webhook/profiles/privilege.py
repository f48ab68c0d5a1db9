"""Pod Security checks on container privilege. Pure, no I/O.

Container-level fields only (init, regular and ephemeral containers alike):

* ``privileged`` (baseline, v1.0): ``securityContext.privileged`` unset or ``false``.
* ``capabilities_baseline`` (baseline, v1.0): every ``capabilities.add`` entry in the
  default runtime set (exact, case-sensitive names; ``CAP_`` prefixes are not allowed).
* ``capabilities_restricted`` (restricted, v1.22; Windows pods exempt from v1.25):
  ``capabilities.drop`` contains the exact string ``ALL`` and ``add`` holds at most
  ``NET_BIND_SERVICE``. Overrides ``capabilities_baseline``.
* ``allowPrivilegeEscalation`` (restricted, v1.8; Windows pods exempt from v1.25):
  explicitly ``false``.
* ``procMount`` (baseline, v1.0; from v1.35 any value when ``spec.hostUsers`` is
  explicitly ``false``): unset or ``Default``.
* ``procMount_restricted`` (restricted, v1.35): unset or ``Default``, no relaxation.
  Overrides ``procMount``.
"""

from __future__ import annotations

from typing import Final

from webhook.profiles import catalog
from webhook.rules import findings, podview

_BASELINE_CAPABILITIES: Final = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
_RESTRICTED_ADD: Final = frozenset({"NET_BIND_SERVICE"})


def _privileged(pod: podview.PodView) -> list[findings.Finding]:
    if not pod.sets_security("privileged"):
        return []
    return [
        c.finding(
            "privileged",
            "securityContext",
            "privileged",
            message=f'privileged (container "{c.name}" must not set '
            "securityContext.privileged=true)",
            fix="remove securityContext.privileged or set it to false",
        )
        for c in pod.containers
        if c.security_context.get("privileged") is True
    ]


def _added(container: podview.Container) -> list[object]:
    caps = container.security_context.get("capabilities")
    if not caps:
        return []
    add = caps.get("add")
    return list(add) if add else []


def _capabilities_with(
    pod: podview.PodView, *, check: str, allowed: frozenset[str], reason: str, fix: str
) -> list[findings.Finding]:
    out: list[findings.Finding] = []
    for c in pod.containers:
        for index, name in enumerate(_added(c)):
            if name not in allowed:
                out.append(
                    c.finding(
                        check,
                        "securityContext",
                        "capabilities",
                        f"add[{index}]",
                        message=f'{reason} (container "{c.name}" must not add {name!r})',
                        fix=fix,
                    )
                )
    return out


def _capabilities_baseline(pod: podview.PodView) -> list[findings.Finding]:
    return _capabilities_with(
        pod,
        check="capabilities_baseline",
        allowed=_BASELINE_CAPABILITIES,
        reason="non-default capabilities",
        fix="remove it from securityContext.capabilities.add; only the default runtime "
        "capabilities (" + ", ".join(sorted(_BASELINE_CAPABILITIES)) + ") may be added",
    )


def _capabilities_restricted(pod: podview.PodView) -> list[findings.Finding]:
    out: list[findings.Finding] = []
    for c in pod.containers:
        caps = c.security_context.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or ()):
            out.append(
                c.finding(
                    "capabilities_restricted",
                    "securityContext",
                    "capabilities",
                    "drop",
                    message=f'unrestricted capabilities (container "{c.name}" must set '
                    'securityContext.capabilities.drop=["ALL"])',
                    fix='add "ALL" to securityContext.capabilities.drop',
                )
            )
        for index, name in enumerate(caps.get("add") or ()):
            if name not in _RESTRICTED_ADD:
                out.append(
                    c.finding(
                        "capabilities_restricted",
                        "securityContext",
                        "capabilities",
                        f"add[{index}]",
                        message=f'unrestricted capabilities (container "{c.name}" must not '
                        f"add {name!r})",
                        fix="remove it from securityContext.capabilities.add; only "
                        "NET_BIND_SERVICE may be added",
                    )
                )
    return out


def _capabilities_restricted_linux(pod: podview.PodView) -> list[findings.Finding]:
    return [] if pod.windows else _capabilities_restricted(pod)


def _allow_privilege_escalation(pod: podview.PodView) -> list[findings.Finding]:
    return [
        c.finding(
            "allowPrivilegeEscalation",
            "securityContext",
            "allowPrivilegeEscalation",
            message=f'allowPrivilegeEscalation != false (container "{c.name}" must set '
            "securityContext.allowPrivilegeEscalation=false)",
            fix="set securityContext.allowPrivilegeEscalation to false",
        )
        for c in pod.containers
        if c.security_context.get("allowPrivilegeEscalation") is not False
    ]


def _allow_privilege_escalation_linux(pod: podview.PodView) -> list[findings.Finding]:
    return [] if pod.windows else _allow_privilege_escalation(pod)


def _proc_mount_for(pod: podview.PodView, check: str) -> list[findings.Finding]:
    if not pod.sets_security("procMount"):
        return []
    out: list[findings.Finding] = []
    for c in pod.containers:
        value = c.security_context.get("procMount")
        if value is not None and value != "Default":
            out.append(
                c.finding(
                    check,
                    "securityContext",
                    "procMount",
                    message=f'procMount (container "{c.name}" must not set '
                    f"securityContext.procMount={value!r})",
                    fix='remove securityContext.procMount or set it to "Default"',
                )
            )
    return out


def _proc_mount(pod: podview.PodView) -> list[findings.Finding]:
    return _proc_mount_for(pod, "procMount")


def _proc_mount_user_namespaced(pod: podview.PodView) -> list[findings.Finding]:
    return [] if pod.host_users_false else _proc_mount_for(pod, "procMount")


def _proc_mount_restricted(pod: podview.PodView) -> list[findings.Finding]:
    return _proc_mount_for(pod, "procMount_restricted")


CHECKS: Final[tuple[catalog.Check, ...]] = (
    catalog.Check(
        id="privileged",
        level="baseline",
        reason="privileged",
        variants=(catalog.Variant(0, _privileged),),
    ),
    catalog.Check(
        id="capabilities_baseline",
        level="baseline",
        reason="non-default capabilities",
        variants=(catalog.Variant(0, _capabilities_baseline),),
    ),
    catalog.Check(
        id="capabilities_restricted",
        level="restricted",
        reason="unrestricted capabilities",
        variants=(
            catalog.Variant(22, _capabilities_restricted),
            catalog.Variant(25, _capabilities_restricted_linux),
        ),
        overrides="capabilities_baseline",
    ),
    catalog.Check(
        id="allowPrivilegeEscalation",
        level="restricted",
        reason="allowPrivilegeEscalation != false",
        variants=(
            catalog.Variant(8, _allow_privilege_escalation),
            catalog.Variant(25, _allow_privilege_escalation_linux),
        ),
    ),
    catalog.Check(
        id="procMount",
        level="baseline",
        reason="procMount",
        variants=(
            catalog.Variant(0, _proc_mount),
            catalog.Variant(35, _proc_mount_user_namespaced),
        ),
    ),
    catalog.Check(
        id="procMount_restricted",
        level="restricted",
        reason="procMount",
        variants=(catalog.Variant(35, _proc_mount_restricted),),
        overrides="procMount",
    ),
)
