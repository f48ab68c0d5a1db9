"""The ``automountServiceAccountToken`` rule: no API token unless asked for. Pure, no I/O.

Policy value (``spec.rules.automountServiceAccountToken``):

    automountServiceAccountToken: false   # enforce
    automountServiceAccountToken: true    # not checked

Field read: ``spec.automountServiceAccountToken`` must be ``false``. Unset is
a finding at that field, because Kubernetes mounts the token by default. A
ServiceAccount that sets ``automountServiceAccountToken: false`` is not
visible to this pure check (it would need an API read), so the pod itself
must say so; a pod that needs the API mounts a projected token explicitly.
"""

from __future__ import annotations

from typing import Final

from webhook.rules import config, findings, openapi, podview, registry, safe_booleans

ID: Final = "automountServiceAccountToken"

_FIX: Final = (
    "Set spec.automountServiceAccountToken: false; if the pod needs the Kubernetes API, "
    "mount a projected serviceAccountToken volume in the container that uses it."
)


def check(params: bool, pod: podview.PodView) -> list[findings.Finding]:
    """A finding when the pod does not opt out of the service account token."""
    value = pod.spec.get("automountServiceAccountToken")
    if value is False:
        return []
    wrong = safe_booleans.problem(
        value,
        field="automountServiceAccountToken",
        required=False,
        unset="Kubernetes mounts a service account token into every container",
    )
    return [pod.finding(ID, "automountServiceAccountToken", message=f"the pod {wrong}", fix=_FIX)]


RULE: Final[registry.Rule[bool]] = registry.Rule(
    id=ID,
    title="No automatically mounted service account token",
    fields=("spec.automountServiceAccountToken",),
    fix=_FIX,
    severity="medium",
    schema=openapi.switch(
        on=False,
        meaning="every pod sets automountServiceAccountToken: false",
    ),
    parse=config.switch(on=False, enforces="pods must set automountServiceAccountToken: false"),
    check=check,
)
