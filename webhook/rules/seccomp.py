"""The ``seccomp`` rule: every container runs under an allowed seccomp profile. Pure, no I/O.

Policy value (``spec.rules.seccomp``), one of:

    seccomp: RuntimeDefault              # only the runtime's default profile
    seccomp: RuntimeDefaultOrLocalhost   # the default or a profile on the node

Leave the rule out to not check seccomp.

Fields read: ``securityContext.seccompProfile.type`` of the pod and of
containers of all three kinds. A container's own type wins, else the pod's
applies. Every explicit type at either level must be allowed, so
``Unconfined`` is always a finding at the field that says it, even when every
container overrides a pod-level ``Unconfined`` (Pod Security Admission's
stance). A container with no type at either level is a finding at the
container's ``securityContext.seccompProfile.type``. The deprecated seccomp
annotations are not read: Kubernetes ignores them since 1.27. Windows pods
(``spec.os.name: windows``) are exempt: seccomp is Linux-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from webhook.rules import config, findings, openapi, podview, registry

ID: Final = "seccomp"

_MODES: Final[Mapping[str, frozenset[str]]] = {
    "RuntimeDefault": frozenset({"RuntimeDefault"}),
    "RuntimeDefaultOrLocalhost": frozenset({"RuntimeDefault", "Localhost"}),
}
_FIX: Final = (
    "Set securityContext.seccompProfile.type: RuntimeDefault on the pod (containers inherit "
    "it) and remove any Unconfined profile."
)


def parse(value: object, path: str) -> frozenset[str] | None:
    """The profile types the policy allows."""
    if isinstance(value, str):
        allowed = _MODES.get(value)
        if allowed is not None:
            return allowed
    raise registry.ConfigError.at(
        path,
        f"must be RuntimeDefault or RuntimeDefaultOrLocalhost, not {config.describe(value)}",
    )


def _profile_type(value: Any) -> Any:
    if type(value) is dict or isinstance(value, Mapping):
        return value.get("type")
    return None


def _allows(allowed: frozenset[str], profile_type: Any) -> bool:
    return isinstance(profile_type, str) and profile_type in allowed


def _allowed_text(allowed: frozenset[str]) -> str:
    return " or ".join(sorted(allowed, reverse=True))


def _bad_type_message(subject: str, profile_type: Any, *, allowed: frozenset[str]) -> str:
    if profile_type == "Unconfined":
        return f"{subject} runs without seccomp (seccompProfile.type: Unconfined)"
    return (
        f"{subject} uses seccompProfile.type {config.describe(profile_type)}; "
        f"the policy allows {_allowed_text(allowed)}"
    )


def check(params: frozenset[str], pod: podview.PodView) -> list[findings.Finding]:
    """Findings for profile types that are not allowed and containers with none."""
    if pod.windows:
        return []
    out: list[findings.Finding] = []
    pod_type = _profile_type(pod.security_context.get("seccompProfile"))
    if pod_type is not None and not _allows(params, pod_type):
        out.append(
            pod.finding(
                ID,
                "securityContext",
                "seccompProfile",
                "type",
                message=_bad_type_message("the pod", pod_type, allowed=params),
                fix=_FIX,
            )
        )
    for container in pod.containers:
        profile = container.security_context.get("seccompProfile")
        own = None if profile is None else _profile_type(profile)
        if own is None:
            if pod_type is not None:
                continue
            message = (
                f"{container.label} has no seccomp profile: neither it nor the pod sets "
                "securityContext.seccompProfile.type"
            )
        elif _allows(params, own):
            continue
        else:
            message = _bad_type_message(container.label, own, allowed=params)
        out.append(
            container.finding(
                ID, "securityContext", "seccompProfile", "type", message=message, fix=_FIX
            )
        )
    return out


RULE: Final[registry.Rule[frozenset[str]]] = registry.Rule(
    id=ID,
    title="Containers run under an allowed seccomp profile",
    fields=(
        "spec.securityContext.seccompProfile.type",
        "spec.{initContainers,containers,ephemeralContainers}[*]"
        ".securityContext.seccompProfile.type",
    ),
    fix=_FIX,
    severity="medium",
    schema=openapi.string(
        "RuntimeDefault, or RuntimeDefaultOrLocalhost to also allow profiles on the node. "
        "Leave it out to not check seccomp.",
        enum=list(_MODES),
    ),
    parse=parse,
    check=check,
)
