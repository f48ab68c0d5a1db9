"""The ``privileged`` rule: no privileged containers. Pure, no I/O.

Policy value (``spec.rules.privileged``):

    privileged: false                  # no privileged containers (true: not checked)

Fields read, for containers of all three kinds (the field does not exist at
pod level): ``securityContext.privileged`` must be unset or ``false``.
"""

from __future__ import annotations

from typing import Final

from webhook.rules import config, findings, openapi, podview, registry

ID: Final = "privileged"

_FIX: Final = (
    "Remove securityContext.privileged (or set it to false); grant only the capabilities "
    "the container needs with securityContext.capabilities.add."
)


def check(params: bool, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for containers that set ``securityContext.privileged: true``."""
    out: list[findings.Finding] = []
    for container in pod.containers:
        if container.security_context.get("privileged") is True:
            out.append(
                container.finding(
                    ID,
                    "securityContext",
                    "privileged",
                    message=f"{container.label} runs privileged (securityContext.privileged: true)",
                    fix=_FIX,
                )
            )
    return out


RULE: Final[registry.Rule[bool]] = registry.Rule(
    id=ID,
    title="No privileged containers",
    fields=("spec.{initContainers,containers,ephemeralContainers}[*].securityContext.privileged",),
    fix=_FIX,
    severity="high",
    schema=openapi.switch(
        on=False,
        meaning="no container sets securityContext.privileged: true",
    ),
    parse=config.switch(on=False, enforces="no container may run privileged"),
    check=check,
)
