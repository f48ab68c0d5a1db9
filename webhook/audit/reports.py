"""Audit outcomes as ``wgpolicyk8s.io/v1alpha2`` PolicyReport documents. Pure, no I/O.

One ``PolicyReport`` named ``bulkhead`` per namespace that holds judged
objects, and one ``ClusterPolicyReport`` named ``bulkhead`` for what is
cluster-scoped (today: ``ClusterContainerPolicy`` objects that are invalid
and not enforced, as ``error`` results).

Counting, per reported object (a Pod, or the top controller its Pods are
attributed to) and policy:

* ``fail`` / ``warn``: one per distinct finding (check id and field path)
  of a ``Deny`` (``fail``) or ``Warn``/``Audit`` (``warn``) policy;
* ``error``: the pod spec cannot be read, or the policy is invalid;
* ``pass``: the policy matches and finds nothing;
* ``skip``: the policy matches but an exclusion exempts the whole object.

``results`` lists the ``fail``, ``warn`` and ``error`` entries, most severe
first, at most ``cap`` of them; the summary always counts all of them, and
the annotation ``bulkhead.dev/results-omitted`` says how many the cap left
out. Entries carry no timestamp, so a report that says the same thing is
the same document and is not written again.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from typing import Any, Final

from webhook.audit import workloads
from webhook.policy import model

API_VERSION: Final = "wgpolicyk8s.io/v1alpha2"
NAMESPACED_KIND: Final = "PolicyReport"
CLUSTER_KIND: Final = "ClusterPolicyReport"
NAME: Final = "bulkhead"
SOURCE: Final = "bulkhead"
#: Label on every report Bulkhead writes (and selects when it lists its own).
MANAGED_BY: Final = ("app.kubernetes.io/managed-by", "bulkhead")
OMITTED_ANNOTATION: Final = "bulkhead.dev/results-omitted"
DEFAULT_CAP: Final = 500
SUMMARY_KEYS: Final = ("pass", "fail", "warn", "error", "skip")

_ORDER: Final[Mapping[str, int]] = {"fail": 0, "error": 1, "warn": 2}
_SEVERITY_ORDER: Final[Mapping[str, int]] = {"high": 0, "medium": 1, "low": 2, "": 3}
_API_VERSIONS: Final[Mapping[str, str]] = {
    **workloads.API_VERSIONS,
    model.CLUSTER_KIND: model.API_VERSION,
    model.NAMESPACED_KIND: model.API_VERSION,
}


def _resource(ref: workloads.Ref) -> dict[str, str]:
    out = {"apiVersion": _API_VERSIONS.get(ref.kind, ""), "kind": ref.kind, "name": ref.name}
    if ref.namespace:
        out["namespace"] = ref.namespace
    if ref.uid:
        out["uid"] = ref.uid
    return out


def _finding_entry(outcome: workloads.Outcome, finding: Any) -> dict[str, Any]:
    properties = {"path": finding.path, "fix": finding.fix, "action": outcome.action}
    if finding.container is not None:
        properties["container"] = finding.container
    if outcome.via is not None:
        properties["via"] = outcome.via.label
    return {
        "source": SOURCE,
        "policy": outcome.policy,
        "rule": finding.check,
        "result": outcome.status,
        "severity": workloads.SEVERITIES[outcome.action],
        "scored": True,
        "message": f"{finding.path}: {finding.message}. Fix: {finding.fix}",
        "resources": [_resource(outcome.reported)],
        "properties": properties,
    }


def _error_entry(outcome: workloads.Outcome) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "source": SOURCE,
        "policy": outcome.policy,
        "result": "error",
        "scored": True,
        "message": outcome.error,
        "resources": [_resource(outcome.reported)],
    }
    if outcome.via is not None:
        entry["properties"] = {"via": outcome.via.label}
    return entry


def _sort_key(entry: Mapping[str, Any]) -> tuple[object, ...]:
    resource = entry["resources"][0]
    return (
        _ORDER[entry["result"]],
        _SEVERITY_ORDER[entry.get("severity", "")],
        resource["kind"],
        resource["name"],
        entry["policy"],
        entry.get("rule", ""),
        entry.get("properties", {}).get("path", ""),
    )


def entries(
    outcomes: Iterable[workloads.Outcome],
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """The exact summary and every listed entry (sorted) of ``outcomes``, merged per object."""
    groups: dict[tuple[tuple[str, str, str], str], list[workloads.Outcome]] = (
        collections.defaultdict(list)
    )
    for outcome in outcomes:
        groups[(outcome.reported.key, outcome.policy)].append(outcome)
    summary = dict.fromkeys(SUMMARY_KEYS, 0)
    listed: list[dict[str, Any]] = []
    for group in groups.values():
        seen: set[tuple[str, str]] = set()
        for outcome in group:
            for finding in outcome.found:
                if (finding.check, finding.path) in seen:
                    continue  # the same finding on another replica
                seen.add((finding.check, finding.path))
                summary[outcome.status] += 1
                listed.append(_finding_entry(outcome, finding))
        if seen:
            continue
        broken = next((o for o in group if o.status == "error"), None)
        if broken is not None:
            summary["error"] += 1
            listed.append(_error_entry(broken))
        elif any(o.status == "pass" for o in group):
            summary["pass"] += 1
        else:
            summary["skip"] += 1
    listed.sort(key=_sort_key)
    return summary, listed


def document(
    namespace: str | None, outcomes: Iterable[workloads.Outcome], *, cap: int = DEFAULT_CAP
) -> dict[str, Any]:
    """The report for ``namespace`` (``None``: the cluster report), without server fields."""
    summary, listed = entries(outcomes)
    metadata: dict[str, Any] = {"name": NAME, "labels": dict([MANAGED_BY])}
    if namespace is not None:
        metadata["namespace"] = namespace
    if len(listed) > cap:
        metadata["annotations"] = {OMITTED_ANNOTATION: str(len(listed) - cap)}
    return {
        "apiVersion": API_VERSION,
        "kind": CLUSTER_KIND if namespace is None else NAMESPACED_KIND,
        "metadata": metadata,
        "summary": summary,
        "results": listed[:cap],
    }


def invalid_policy(key: str, problems: str) -> workloads.Outcome:
    """The ``error`` outcome for a policy that does not compile (``key`` as the cache has it)."""
    kind, _, rest = key.partition("/")
    namespace, _, name = rest.rpartition("/")
    ref = workloads.Ref(kind=kind, namespace=namespace, name=name)
    return workloads.Outcome(
        policy=key,
        action="",
        reported=ref,
        status="error",
        error=f"invalid, not enforced: {problems.replace(chr(10), '; ')}",
    )
