"""The audit's judging and report rendering, without a cluster (pure modules).

Attribution of Pods to their top controller, exclusions counted as skips,
unreadable pod specs as errors, the per-report cap with exact counts, and
re-judging only what a change touches.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from webhook import policy
from webhook.audit import reports, store, workloads

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _policy(name: str, **spec: Any) -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": name},
            "spec": {"rules": {"privileged": False}, **spec},
        },
        latest_minor=35,
    )


def _spec(*, privileged: bool = True) -> dict[str, Any]:
    return {
        "containers": [{"name": "app", "image": "a", "securityContext": {"privileged": privileged}}]
    }


def _owner(kind: str, name: str) -> list[dict[str, Any]]:
    return [{"apiVersion": "v1", "kind": kind, "name": name, "uid": "u", "controller": True}]


def _deployment(
    *, privileged: bool = True, labels: dict[str, str] | None = None
) -> workloads.Workload:
    return workloads.Workload.of(
        "Deployment",
        {
            "metadata": {"name": "web", "namespace": "shop", "labels": labels or {}},
            "spec": {"template": {"spec": _spec(privileged=privileged)}},
        },
    )


def _replica_set() -> workloads.Workload:
    return workloads.Workload.of(
        "ReplicaSet",
        {
            "metadata": {
                "name": "web-1",
                "namespace": "shop",
                "ownerReferences": _owner("Deployment", "web"),
            },
            "spec": {"template": {"spec": _spec()}},
        },
    )


def _pod(name: str, *, owner: str | None = "web-1", spec: object = None) -> workloads.Workload:
    metadata: dict[str, Any] = {"name": name, "namespace": "shop"}
    if owner:
        metadata["ownerReferences"] = _owner("ReplicaSet", owner)
    return workloads.Workload.of(
        "Pod", {"metadata": metadata, "spec": _spec() if spec is None else spec}
    )


def _filled(*policies: policy.CompiledPolicy) -> store.Store:
    held = store.Store()
    held.set_policies(policies, invalid={})
    for workload in (_deployment(), _replica_set(), _pod("web-1-a"), _pod("web-1-b")):
        held.put(workload)
    return held


def _document(held: store.Store, namespace: str = "shop", *, cap: int = 500) -> dict[str, Any]:
    held.judge_pending(now=NOW)
    document = held.document(namespace, cap=cap)
    assert document is not None
    return document


def test_a_deployment_with_its_replicas_is_one_result_on_the_deployment() -> None:
    document = _document(_filled(_policy("deny")))
    [result] = document["results"]
    assert result["resources"][0] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
        "namespace": "shop",
    }
    assert (
        result["properties"]["path"]
        == "spec.template.spec.containers[0].securityContext.privileged"
    )
    assert document["summary"] == {"pass": 0, "fail": 1, "warn": 0, "error": 0, "skip": 0}


def test_a_pod_only_policy_reports_replicas_once_via_a_pod() -> None:
    document = _document(_filled(_policy("pods", match={"kinds": ["Pod"]})))
    [result] = document["results"]
    assert result["resources"][0]["kind"] == "Deployment"
    assert result["properties"]["via"] in ("Pod/web-1-a", "Pod/web-1-b")
    assert result["properties"]["path"] == "spec.containers[0].securityContext.privileged"


def test_an_orphan_pod_is_reported_on_itself() -> None:
    held = store.Store()
    held.set_policies([_policy("deny")], invalid={})
    held.put(_pod("lonely", owner="gone-rs"))
    [result] = _document(held)["results"]
    assert result["resources"][0]["kind"] == "Pod"
    assert "via" not in result["properties"]


@pytest.mark.parametrize(
    ("action", "result", "severity"),
    [("Deny", "fail", "high"), ("Warn", "warn", "medium"), ("Audit", "warn", "low")],
    ids=["deny", "warn", "audit"],
)
def test_action_decides_result_and_severity(action: str, result: str, severity: str) -> None:
    [entry] = _document(_filled(_policy("p", action=action)))["results"]
    assert (entry["result"], entry["severity"]) == (result, severity)


def test_whole_object_exclusion_is_a_skip_and_fixing_is_a_pass() -> None:
    held = _filled(_policy("p", exclude=[{"namespaces": ["shop"], "reason": "legacy"}]))
    assert _document(held)["summary"] == {"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 1}
    held.set_policies([_policy("p")], invalid={})
    held.put(_deployment(privileged=False))
    document = _document(held)
    assert document["results"] == []
    assert document["summary"]["pass"] == 1


def test_an_unreadable_pod_spec_is_an_error_result() -> None:
    held = store.Store()
    held.set_policies([_policy("p")], invalid={})
    held.put(_pod("broken", owner=None, spec={"containers": "nope"}))
    document = _document(held)
    [entry] = document["results"]
    assert entry["result"] == "error"
    assert "containers" in entry["message"]
    assert document["summary"]["error"] == 1


def test_the_cap_lists_the_most_severe_and_counts_everything() -> None:
    held = store.Store()
    held.set_policies([_policy("deny"), _policy("warn", action="Warn")], invalid={})
    for index in range(5):
        held.put(_pod(f"p{index}", owner=None))
    document = _document(held, cap=3)
    assert document["summary"]["fail"] == 5
    assert document["summary"]["warn"] == 5
    assert [entry["result"] for entry in document["results"]] == ["fail"] * 3
    assert document["metadata"]["annotations"] == {reports.OMITTED_ANNOTATION: "7"}


def test_only_what_a_change_touches_is_judged_again() -> None:
    held = _filled(_policy("deny", match={"objectSelector": {"matchLabels": {"audit": "yes"}}}))
    assert held.judge_pending(now=NOW) == {None}  # nothing matched: no report changes
    assert held.document("shop", cap=10) is None
    assert held.judge_pending(now=NOW) == set()
    # relabelling the Deployment changes which policies its Pods fall under
    held.put(_deployment(labels={"audit": "yes"}))
    assert held.judge_pending(now=NOW) == {"shop"}
    assert held.document("shop", cap=10) is not None
    held.remove("Deployment", "shop", "web")
    held.remove("ReplicaSet", "shop", "web-1")
    held.remove("Pod", "shop", "web-1-a")
    held.remove("Pod", "shop", "web-1-b")
    assert held.judge_pending(now=NOW) == {"shop"}
    assert held.document("shop", cap=10) is None


def test_invalid_cluster_policies_go_to_the_cluster_report() -> None:
    held = store.Store()
    held.set_policies([], invalid={"ClusterContainerPolicy/bad": "spec.rules.x: unknown rule"})
    held.judge_pending(now=NOW)
    document = held.document(None, cap=10)
    assert document is not None
    assert document["kind"] == "ClusterPolicyReport"
    [entry] = document["results"]
    assert entry["result"] == "error"
    assert entry["resources"][0]["kind"] == "ClusterContainerPolicy"
    assert "unknown rule" in entry["message"]


@pytest.mark.parametrize(
    ("kind", "obj"),
    [
        (
            "Pod",
            {
                "metadata": {
                    "name": "p",
                    "namespace": "shop",
                    "uid": "u",
                    "labels": {"a": "b"},
                    "annotations": {
                        "container.apparmor.security.beta.kubernetes.io/app": "unconfined"
                    },
                    "managedFields": [{"manager": "kubectl"}],
                    "ownerReferences": _owner("ReplicaSet", "rs"),
                },
                "spec": _spec(),
                "status": {"phase": "Pending"},
            },
        ),
        (
            "CronJob",
            {
                "metadata": {"name": "c", "namespace": "shop", "annotations": {"x": "y"}},
                "spec": {
                    "schedule": "* * * * *",
                    "jobTemplate": {"spec": {"template": {"spec": _spec()}}},
                },
            },
        ),
        (
            "Deployment",
            {"metadata": {"name": "d", "namespace": "shop"}, "spec": {"template": "oops"}},
        ),
    ],
    ids=["pod", "cronjob", "broken-template"],
)
def test_a_slimmed_object_is_the_same_workload(kind: str, obj: dict[str, Any]) -> None:
    slimmed = workloads.slim(kind, obj)
    assert "managedFields" not in slimmed["metadata"]
    assert "status" not in slimmed
    assert workloads.Workload.of(kind, slimmed) == workloads.Workload.of(kind, obj)


def _isolating() -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "isolate"},
            "spec": {"rules": {"networkPolicy": True}},
        }
    )


def _denying(*namespaces: str) -> policy.Isolation:
    return policy.network_policy.of_objects(
        [
            {"metadata": {"namespace": ns, "name": "deny"}, "spec": {"podSelector": {}}}
            for ns in namespaces
        ],
        default_namespace="default",
    )


def test_a_namespace_without_a_default_deny_is_reported_and_rejudged_when_one_appears() -> None:
    held = _filled(_isolating())
    assert held.needs_isolation
    held.set_isolation(_denying("other"))
    [result] = _document(held)["results"]
    assert result["resources"][0]["kind"] == "Deployment"
    assert result["policy"] == "ClusterContainerPolicy/isolate"
    assert result["rule"] == "networkPolicy"
    assert result["properties"]["path"] == "metadata.namespace"
    assert 'namespace "shop" has no default-deny NetworkPolicy for Ingress' in result["message"]
    held.set_isolation(_denying("other", "shop"))
    assert _document(held)["summary"] == {"pass": 1, "fail": 0, "warn": 0, "error": 0, "skip": 0}
    held.set_isolation(_denying("other"))
    assert _document(held)["summary"]["fail"] == 1
