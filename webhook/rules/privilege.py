"""The ``privileged`` and ``allowPrivilegeEscalation`` rules. Pure, no I/O.

Policy values:

    privileged: false                  # no privileged containers (true: not checked)
    allowPrivilegeEscalation: false    # every container must forbid escalation (true: not checked)

Fields read, for containers of all three kinds (neither field exists at pod level):

- ``privileged``: ``securityContext.privileged`` must be unset or ``false``.
- ``allowPrivilegeEscalation``: ``securityContext.allowPrivilegeEscalation``
  must be set to ``false`` explicitly. Unset is a finding at that field: the
  runtime's default allows escalation (setuid binaries, file capabilities).
  Windows pods (``spec.os.name: windows``) are exempt: the field is Linux-only
  and the apiserver refuses it there, as Pod Security Admission exempts them.
"""

from __future__ import annotations

from typing import Final

from webhook.rules import config, explicit, findings, podview, registry

PRIVILEGED: Final = "privileged"
ESCALATION: Final = "allowPrivilegeEscalation"

_FIX_PRIVILEGED: Final = (
    "Remove securityContext.privileged (or set it to false); grant only the capabilities "
    "the container needs with securityContext.capabilities.add."
)
_FIX_ESCALATION: Final = "Set securityContext.allowPrivilegeEscalation: false on the container."


def check_privileged(params: bool, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for containers that set ``securityContext.privileged: true``."""
    out: list[findings.Finding] = []
    for container in pod.containers:
        if container.security_context.get("privileged") is True:
            out.append(
                container.finding(
                    PRIVILEGED,
                    "securityContext",
                    "privileged",
                    message=f"{container.label} runs privileged (securityContext.privileged: true)",
                    fix=_FIX_PRIVILEGED,
                )
            )
    return out


def check_escalation(params: bool, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for containers that do not set ``allowPrivilegeEscalation: false``."""
    return explicit.check_containers(
        pod,
        check=ESCALATION,
        key="allowPrivilegeEscalation",
        required=False,
        unset="processes may gain more privileges than their parent",
        fix=_FIX_ESCALATION,
    )


PRIVILEGED_RULE: Final[registry.Rule[bool]] = registry.Rule(
    id=PRIVILEGED,
    title="No privileged containers",
    fields=("spec.{initContainers,containers,ephemeralContainers}[*].securityContext.privileged",),
    fix=_FIX_PRIVILEGED,
    severity="high",
    parse=config.switch(on=False, enforces="no container may run privileged"),
    check=check_privileged,
)

ESCALATION_RULE: Final[registry.Rule[bool]] = registry.Rule(
    id=ESCALATION,
    title="Containers forbid privilege escalation",
    fields=(
        "spec.{initContainers,containers,ephemeralContainers}[*]"
        ".securityContext.allowPrivilegeEscalation",
    ),
    fix=_FIX_ESCALATION,
    severity="high",
    parse=config.switch(
        on=False, enforces="every container must set allowPrivilegeEscalation: false"
    ),
    check=check_escalation,
)
