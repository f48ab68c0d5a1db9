"""The ``allowPrivilegeEscalation`` rule: containers forbid privilege escalation. Pure, no I/O.

Policy value (``spec.rules.allowPrivilegeEscalation``):

    allowPrivilegeEscalation: false    # every container must forbid escalation (true: not checked)

Fields read, for containers of all three kinds (the field does not exist at
pod level): ``securityContext.allowPrivilegeEscalation`` must be set to
``false`` explicitly. Unset is a finding at that field: the runtime's default
allows escalation (setuid binaries, file capabilities). Windows pods
(``spec.os.name: windows``) are exempt: the field is Linux-only and the
apiserver refuses it there, as Pod Security Admission exempts them.
"""

from __future__ import annotations

from typing import Final

from webhook.rules import config, findings, openapi, podview, registry, safe_booleans

ID: Final = "allowPrivilegeEscalation"

_FIX: Final = "Set securityContext.allowPrivilegeEscalation: false on the container."


def check(params: bool, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for containers that do not set ``allowPrivilegeEscalation: false``."""
    return safe_booleans.check_containers(
        pod,
        check=ID,
        key="allowPrivilegeEscalation",
        required=False,
        unset="processes may gain more privileges than their parent",
        fix=_FIX,
    )


RULE: Final[registry.Rule[bool]] = registry.Rule(
    id=ID,
    title="Containers forbid privilege escalation",
    fields=(
        "spec.{initContainers,containers,ephemeralContainers}[*]"
        ".securityContext.allowPrivilegeEscalation",
    ),
    fix=_FIX,
    severity="high",
    schema=openapi.switch(
        on=False,
        meaning="every container sets securityContext.allowPrivilegeEscalation: false",
    ),
    parse=config.switch(
        on=False, enforces="every container must set allowPrivilegeEscalation: false"
    ),
    check=check,
)
