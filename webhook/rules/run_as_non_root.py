"""The ``runAsNonRoot`` rule: containers must not run as root. Pure, no I/O.

Policy value (``spec.rules.runAsNonRoot``):

    runAsNonRoot: true    # enforce
    runAsNonRoot: false   # not checked

Fields read, for containers of all three kinds and the pod:

- ``securityContext.runAsNonRoot`` (container, else pod): the effective value
  must be ``true``. A container that sets neither is a finding at the
  container's field, where the fix belongs.
- An explicit ``runAsNonRoot: false`` is a finding at the level that says so,
  even when the other level says ``true`` (Pod Security Admission's stance:
  a bad value at either level denies). A pod-level ``false`` is reported once.
- ``securityContext.runAsUser`` (container and pod): an explicit ``0`` (root)
  is a finding at that field, whatever ``runAsNonRoot`` says.

Windows pods are judged too: ``runAsNonRoot`` is honoured there.
"""

from __future__ import annotations

from typing import Any, Final

from webhook.rules import config, findings, openapi, podview, registry

ID: Final = "runAsNonRoot"

_FIX_NON_ROOT: Final = (
    "Set securityContext.runAsNonRoot: true on the pod (or on every container) and run "
    "the image as a non-root user, e.g. runAsUser: 10001."
)
_FIX_USER: Final = "Run as a non-zero user id, e.g. runAsUser: 10001, or remove runAsUser."


def _is_root(value: Any) -> bool:
    return value == 0 and not isinstance(value, bool)


def check(params: bool, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for containers that may run as root."""
    out: list[findings.Finding] = []
    pod_sc = pod.security_context
    pod_non_root = pod_sc.get("runAsNonRoot")
    if pod_non_root is not None and pod_non_root is not True:
        out.append(
            pod.finding(
                ID,
                "securityContext",
                "runAsNonRoot",
                message="the pod sets securityContext.runAsNonRoot: false",
                fix=_FIX_NON_ROOT,
            )
        )
    if _is_root(pod_sc.get("runAsUser")):
        out.append(
            pod.finding(
                ID,
                "securityContext",
                "runAsUser",
                message="the pod sets securityContext.runAsUser: 0 (root)",
                fix=_FIX_USER,
            )
        )
    for container in pod.containers:
        sc = container.security_context
        own = sc.get("runAsNonRoot")
        if own is None:
            if pod_non_root is None:
                out.append(
                    container.finding(
                        ID,
                        "securityContext",
                        "runAsNonRoot",
                        message=(
                            f"{container.label} may run as root: neither it nor the pod "
                            "sets securityContext.runAsNonRoot: true"
                        ),
                        fix=_FIX_NON_ROOT,
                    )
                )
        elif own is not True:
            out.append(
                container.finding(
                    ID,
                    "securityContext",
                    "runAsNonRoot",
                    message=f"{container.label} sets securityContext.runAsNonRoot: false",
                    fix="Set securityContext.runAsNonRoot: true or remove it.",
                )
            )
        if _is_root(sc.get("runAsUser")):
            out.append(
                container.finding(
                    ID,
                    "securityContext",
                    "runAsUser",
                    message=f"{container.label} sets securityContext.runAsUser: 0 (root)",
                    fix=_FIX_USER,
                )
            )
    return out


RULE: Final[registry.Rule[bool]] = registry.Rule(
    id=ID,
    title="Containers run as a non-root user",
    fields=(
        "spec.securityContext.runAsNonRoot",
        "spec.securityContext.runAsUser",
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.runAsNonRoot",
        "spec.{initContainers,containers,ephemeralContainers}[*].securityContext.runAsUser",
    ),
    fix=_FIX_NON_ROOT,
    severity="medium",
    schema=openapi.switch(
        on=True,
        meaning="every container runs with runAsNonRoot: true and never runAsUser: 0",
    ),
    parse=config.switch(on=True, enforces="every container must run as non-root"),
    check=check,
)
