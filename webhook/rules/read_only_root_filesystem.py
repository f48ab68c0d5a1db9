"""The ``readOnlyRootFilesystem`` rule: containers cannot write their image. Pure, no I/O.

Policy value (``spec.rules.readOnlyRootFilesystem``):

    readOnlyRootFilesystem: true    # enforce
    readOnlyRootFilesystem: false   # not checked

Field read, for containers of all three kinds (there is no pod-level field):
``securityContext.readOnlyRootFilesystem`` must be set to ``true``; unset or
``false`` is a finding at that field. Writable scratch space belongs in an
``emptyDir`` volume. Windows pods (``spec.os.name: windows``) are exempt: the
field is Linux-only and the apiserver refuses it there.
"""

from __future__ import annotations

from typing import Final

from webhook.rules import config, findings, openapi, podview, registry, safe_booleans

ID: Final = "readOnlyRootFilesystem"

_FIX: Final = (
    "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir volume "
    "where the container must write (e.g. /tmp)."
)


def check(params: bool, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for containers whose root filesystem is writable."""
    return safe_booleans.check_containers(
        pod,
        check=ID,
        key="readOnlyRootFilesystem",
        required=True,
        unset="its root filesystem is writable",
        fix=_FIX,
    )


RULE: Final[registry.Rule[bool]] = registry.Rule(
    id=ID,
    title="Containers have a read-only root filesystem",
    fields=(
        "spec.{initContainers,containers,ephemeralContainers}[*]"
        ".securityContext.readOnlyRootFilesystem",
    ),
    fix=_FIX,
    severity="low",
    schema=openapi.switch(
        on=True,
        meaning="every container sets securityContext.readOnlyRootFilesystem: true",
    ),
    parse=config.switch(on=True, enforces="every container must set readOnlyRootFilesystem: true"),
    check=check,
)
