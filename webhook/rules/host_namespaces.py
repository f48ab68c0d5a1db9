"""The ``hostNamespaces`` rule: pods do not share the host's namespaces. Pure, no I/O.

Policy value (``spec.rules.hostNamespaces``):

    hostNamespaces: false        # enforce; true: not checked

Fields read: ``spec.hostNetwork``, ``spec.hostPID`` and ``spec.hostIPC`` must
be unset or ``false``; one finding per field set.
"""

from __future__ import annotations

from typing import Final

from webhook.rules import config, findings, openapi, podview, registry

ID: Final = "hostNamespaces"

_NAMESPACE_FIELDS: Final = (
    ("hostNetwork", "the host's network"),
    ("hostPID", "the host's process IDs"),
    ("hostIPC", "the host's IPC"),
)
_FIX: Final = "Remove hostNetwork, hostPID and hostIPC from the pod spec."


def check(params: bool, pod: podview.PodView) -> list[findings.Finding]:
    """One finding per host namespace the pod shares."""
    spec = pod.spec
    out: list[findings.Finding] = []
    for key, what in _NAMESPACE_FIELDS:
        if spec.get(key) is True:
            out.append(
                pod.finding(
                    ID,
                    key,
                    message=f"the pod shares {what} ({key}: true)",
                    fix=f"Remove {key} from the pod spec (or set it to false).",
                )
            )
    return out


RULE: Final[registry.Rule[bool]] = registry.Rule(
    id=ID,
    title="No shared host namespaces",
    fields=("spec.hostNetwork", "spec.hostPID", "spec.hostIPC"),
    fix=_FIX,
    severity="high",
    schema=openapi.switch(
        on=False,
        meaning="no pod sets hostNetwork, hostPID or hostIPC",
    ),
    parse=config.switch(on=False, enforces="no pod may share the host's namespaces"),
    check=check,
)
