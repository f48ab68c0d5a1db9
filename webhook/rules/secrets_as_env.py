"""The ``secretsAsEnv`` rule: Secrets reach containers as files, not variables. Pure, no I/O.

Policy value (``spec.rules.secretsAsEnv``):

    secretsAsEnv: false   # enforce: mount Secrets as volumes
    secretsAsEnv: true    # not checked

Fields read, in containers of all three kinds:

- ``env[i].valueFrom.secretKeyRef``: a finding at that field;
- ``envFrom[i].secretRef``: a finding at that field.

Environment variables leak: into logs and crash dumps, into every child
process, into ``/proc/<pid>/environ`` and into ``kubectl describe`` of tools
that print them. A Secret mounted as a volume stays a file readable only
where it is mounted, and its updates reach the pod without a restart.
"""

from __future__ import annotations

from typing import Final

from webhook.rules import config, findings, openapi, podview, registry

ID: Final = "secretsAsEnv"

_FIX: Final = (
    "Mount the Secret as a volume (volumes[].secret with a volumeMount, readOnly) and "
    "read the value from the file instead of an environment variable."
)


def check(params: bool, pod: podview.PodView) -> list[findings.Finding]:
    """A finding for every environment variable or ``envFrom`` source taken from a Secret."""
    out: list[findings.Finding] = []
    for container in pod.containers:
        for index, variable in enumerate(
            podview.objects(container.spec.get("env"), container, "env")
        ):
            source = podview.mapping(
                variable.get("valueFrom"), container, f"env[{index}]", "valueFrom"
            )
            ref = source.get("secretKeyRef")
            if ref is None:
                continue
            ref = podview.mapping(ref, container, f"env[{index}]", "valueFrom", "secretKeyRef")
            name = variable.get("name")
            shown = name if isinstance(name, str) and name else "(unnamed)"
            out.append(
                container.finding(
                    ID,
                    f"env[{index}]",
                    "valueFrom",
                    "secretKeyRef",
                    message=f"{container.label} reads Secret {ref.get('name')!s} into "
                    f"environment variable {shown}",
                    fix=_FIX,
                )
            )
        for index, source in enumerate(
            podview.objects(container.spec.get("envFrom"), container, "envFrom")
        ):
            ref = source.get("secretRef")
            if ref is None:
                continue
            ref = podview.mapping(ref, container, f"envFrom[{index}]", "secretRef")
            out.append(
                container.finding(
                    ID,
                    f"envFrom[{index}]",
                    "secretRef",
                    message=f"{container.label} loads every key of Secret "
                    f"{ref.get('name')!s} into environment variables",
                    fix=_FIX,
                )
            )
    return out


RULE: Final[registry.Rule[bool]] = registry.Rule(
    id=ID,
    title="Secrets mounted as files, not environment variables",
    fields=(
        "spec.{initContainers,containers,ephemeralContainers}[*].env[*].valueFrom.secretKeyRef",
        "spec.{initContainers,containers,ephemeralContainers}[*].envFrom[*].secretRef",
    ),
    fix=_FIX,
    severity="medium",
    schema=openapi.switch(
        on=False,
        meaning="no container reads a Secret through env[].valueFrom.secretKeyRef or "
        "envFrom[].secretRef (mount it as a volume)",
    ),
    parse=config.switch(on=False, enforces="no Secret may reach a container through its env"),
    check=check,
)
