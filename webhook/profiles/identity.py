"""Pod Security checks on who a container runs as. Pure, no I/O.

* ``runAsNonRoot`` (restricted, v1.0; from v1.35 anything goes when ``spec.hostUsers``
  is explicitly ``false``): an explicit ``false`` at pod level or on any container
  denies; otherwise every container must set ``true`` itself or inherit a pod-level
  ``true``.
* ``runAsUser`` (restricted, v1.23; same user-namespace relaxation from v1.35):
  ``runAsUser`` is never ``0``, at pod level (even when every container overrides
  it) or on any container. Unset is fine.
* ``windowsHostProcess`` (baseline, v1.0): ``windowsOptions.hostProcess`` unset or
  ``false`` at pod level and on every container.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from webhook.profiles import catalog
from webhook.rules import findings, podview


def _forbidden_everywhere(
    pod: podview.PodView,
    check: str,
    *,
    field: tuple[str, ...],
    bad: Callable[[object], bool],
    reason: str,
    setting: str,
    pod_fix: str,
    container_fix: str,
) -> list[findings.Finding]:
    """Findings for a ``bad`` ``securityContext.<field>``, at pod level or on any container.

    ``bad`` judges the value of the first part of ``field``; every message reads
    ``<reason> (<pod or container> must not set <setting>)``.
    """
    key = field[0]
    if not pod.sets_security(key):
        return []
    out: list[findings.Finding] = []
    if bad(pod.security_context.get(key)):
        out.append(
            pod.finding(
                check,
                "securityContext",
                *field,
                message=f"{reason} (pod must not set {setting})",
                fix=pod_fix,
            )
        )
    for c in pod.containers:
        if bad(c.security_context.get(key)):
            out.append(
                c.finding(
                    check,
                    "securityContext",
                    *field,
                    message=f'{reason} (container "{c.name}" must not set {setting})',
                    fix=container_fix,
                )
            )
    return out


def _run_as_non_root(pod: podview.PodView) -> list[findings.Finding]:
    out: list[findings.Finding] = []
    pod_value = pod.security_context.get("runAsNonRoot")
    if pod_value is False:
        out.append(
            pod.finding(
                "runAsNonRoot",
                "securityContext",
                "runAsNonRoot",
                message="runAsNonRoot != true "
                "(pod must not set securityContext.runAsNonRoot=false)",
                fix="set the pod's securityContext.runAsNonRoot to true",
            )
        )
    for c in pod.containers:
        value = c.security_context.get("runAsNonRoot")
        if value is True or (value is None and pod_value is True):
            continue
        detail = (
            "must not set securityContext.runAsNonRoot=false"
            if value is False
            else "must set securityContext.runAsNonRoot=true"
        )
        out.append(
            c.finding(
                "runAsNonRoot",
                "securityContext",
                "runAsNonRoot",
                message=f'runAsNonRoot != true (container "{c.name}" {detail})',
                fix="set securityContext.runAsNonRoot to true on the container or the pod",
            )
        )
    return out


def _run_as_non_root_user_namespaced(pod: podview.PodView) -> list[findings.Finding]:
    return [] if pod.host_users_false else _run_as_non_root(pod)


def _is_root(uid: object) -> bool:
    return type(uid) is int and uid == 0


def _run_as_user(pod: podview.PodView) -> list[findings.Finding]:
    return _forbidden_everywhere(
        pod,
        "runAsUser",
        field=("runAsUser",),
        bad=_is_root,
        reason="runAsUser=0",
        setting="runAsUser=0",
        pod_fix="set the pod's securityContext.runAsUser to a non-zero UID or remove it",
        container_fix="set securityContext.runAsUser to a non-zero UID or remove it",
    )


def _run_as_user_user_namespaced(pod: podview.PodView) -> list[findings.Finding]:
    return [] if pod.host_users_false else _run_as_user(pod)


def _host_process(options: object) -> bool:
    return isinstance(options, dict) and options.get("hostProcess") is True


def _windows_host_process(pod: podview.PodView) -> list[findings.Finding]:
    fix = "remove windowsOptions.hostProcess or set it to false"
    return _forbidden_everywhere(
        pod,
        "windowsHostProcess",
        field=("windowsOptions", "hostProcess"),
        bad=_host_process,
        reason="hostProcess",
        setting="windowsOptions.hostProcess=true",
        pod_fix=fix,
        container_fix=fix,
    )


CHECKS: Final[tuple[catalog.Check, ...]] = (
    catalog.Check(
        id="runAsNonRoot",
        level="restricted",
        reason="runAsNonRoot != true",
        variants=(
            catalog.Variant(0, _run_as_non_root),
            catalog.Variant(35, _run_as_non_root_user_namespaced),
        ),
    ),
    catalog.Check(
        id="runAsUser",
        level="restricted",
        reason="runAsUser=0",
        variants=(
            catalog.Variant(23, _run_as_user),
            catalog.Variant(35, _run_as_user_user_namespaced),
        ),
    ),
    catalog.Check(
        id="windowsHostProcess",
        level="baseline",
        reason="hostProcess",
        variants=(catalog.Variant(0, _windows_host_process),),
    ),
)
