"""The ``probes`` rule: regular containers declare their health probes. Pure, no I/O.

Policy value (``spec.rules.probes``), a list of ``liveness``, ``readiness``
and ``startup``:

    probes: [liveness, readiness]
    probes: []                      # not checked

Fields read: ``livenessProbe``, ``readinessProbe`` and ``startupProbe`` of
``containers`` only. Init containers run to completion and ephemeral
containers cannot have probes, so neither is judged. A pod whose
``restartPolicy`` is ``Never`` or ``OnFailure`` (every Job's and CronJob's
pod template) runs to completion, so it is not judged either: a probe there
would only restart or hold back a container that is meant to finish. Each
listed probe a container of any other pod does not set is one finding at
``...containers[i].<kind>Probe``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from webhook.rules import config, findings, openapi, podview, registry

ID: Final = "probes"

_FIELDS: Final[Mapping[str, str]] = {
    "liveness": "livenessProbe",
    "readiness": "readinessProbe",
    "startup": "startupProbe",
}
#: pods that run to completion need no probes (Jobs, CronJobs, one-shot Pods)
_RUN_TO_COMPLETION: Final = frozenset({"Never", "OnFailure"})
_FIX: Final = "Add the probes the policy lists (livenessProbe, readinessProbe, startupProbe)."


def parse(value: object, path: str) -> tuple[str, ...] | None:
    """The probe names the policy requires, in policy order; ``None`` for ``[]``."""
    problems: config.Problems = []
    names: dict[str, None] = {}
    for item_path, name in config.string_items(value, path=path, problems=problems):
        if name in _FIELDS:
            names[name] = None
            continue
        hint = ""
        short = name.removesuffix("Probe").lower()
        if short in _FIELDS:
            hint = f'; did you mean "{short}"?'
        problems.append(
            registry.Problem(
                item_path, f'unknown probe "{name}": use liveness, readiness or startup{hint}'
            )
        )
    config.raise_if_any(problems)
    return tuple(names) or None


def check(params: tuple[str, ...], pod: podview.PodView) -> list[findings.Finding]:
    """One finding per required probe a regular container of a long-running pod lacks."""
    out: list[findings.Finding] = []
    if pod.spec.get("restartPolicy") in _RUN_TO_COMPLETION:
        return out
    for container in pod.containers:
        if container.kind != "containers":
            continue
        spec = container.spec
        for name in params:
            field = _FIELDS[name]
            if spec.get(field) is None:
                out.append(
                    container.finding(
                        ID,
                        field,
                        message=f"{container.label} has no {name} probe ({field})",
                        fix=f"Add a {field} to the container (httpGet, tcpSocket, grpc or exec).",
                    )
                )
    return out


RULE: Final[registry.Rule[tuple[str, ...]]] = registry.Rule(
    id=ID,
    title="Containers declare health probes",
    fields=(
        "spec.containers[*].livenessProbe",
        "spec.containers[*].readinessProbe",
        "spec.containers[*].startupProbe",
    ),
    fix=_FIX,
    severity="low",
    schema=openapi.array(
        "The probes every regular container must set (liveness, readiness, startup). Pods "
        "with restartPolicy Never or OnFailure (Jobs, CronJobs) run to completion and are not "
        "checked. []: not checked.",
        openapi.string("A probe: liveness, readiness or startup.", enum=list(_FIELDS)),
        min_items=0,
    ),
    parse=parse,
    check=check,
)
