"""Booleans a rule wants set explicitly to its safe value. Pure, no I/O.

``allowPrivilegeEscalation: false``, ``readOnlyRootFilesystem: true`` and
``automountServiceAccountToken: false`` share one shape: the default (unset)
is the unsafe value, so unset is a finding at the field, where the fix
belongs, and so is any value other than the safe one. ``problem`` words
what is wrong; ``check_containers`` judges one Linux-only ``securityContext``
field of every container.
"""

from __future__ import annotations

from typing import Any

from webhook.rules import findings, podview


def _text(value: bool) -> str:
    return "true" if value else "false"


def problem(value: Any, *, field: str, required: bool, unset: str) -> str:
    """What a subject does wrong when ``field`` is ``value`` instead of ``required``.

    ``does not set <field>: <required>, so <unset>`` when unset; otherwise
    ``sets <field>: <the other boolean>``.
    """
    if value is None:
        return f"does not set {field}: {_text(required)}, so {unset}"
    return f"sets {field}: {_text(not required)}"


def check_containers(
    pod: podview.PodView, *, check: str, key: str, required: bool, unset: str, fix: str
) -> list[findings.Finding]:
    """Findings for containers whose ``securityContext.<key>`` is not ``required``.

    Windows pods (``spec.os.name: windows``) are exempt: these fields are
    Linux-only and the apiserver refuses them there.
    """
    if pod.windows:
        return []
    out: list[findings.Finding] = []
    for container in pod.containers:
        value = container.security_context.get(key)
        if value is required:
            continue
        wrong = problem(value, field=f"securityContext.{key}", required=required, unset=unset)
        out.append(
            container.finding(
                check, "securityContext", key, message=f"{container.label} {wrong}", fix=fix
            )
        )
    return out
