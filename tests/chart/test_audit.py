"""The chart's background audit: off by default; when on, its Deployment, RBAC and report CRDs.

Owns: nothing of the audit rendered by default; with ``audit.enabled`` a
one-replica Deployment running ``bulkhead audit --watch`` with the values'
settings and probes, the ``bulkhead-audit`` ServiceAccount and ClusterRole
(exactly ``manifests/rbac/audit.yaml``: list/watch only on workloads, writes
only on the two report kinds and Events), the PolicyReport CRDs (``manifests/policyreports``,
kept on uninstall) unless ``audit.installReportCRDs`` is false, and a
NetworkPolicy admitting only the health port.
"""

from __future__ import annotations

from typing import Any, Final

from tests.chart import rendering

ON: Final = {"audit": {"enabled": True}}
REPORT_CRDS: Final = ["clusterpolicyreports.wgpolicyk8s.io", "policyreports.wgpolicyk8s.io"]


def _audit_objects(docs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted(
        (d["kind"], d["metadata"]["name"])
        for d in docs
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "audit"
    )


def test_nothing_of_the_audit_by_default() -> None:
    assert _audit_objects(rendering.render()) == []


def test_enabled_renders_deployment_rbac_crds_and_network_policy() -> None:
    docs = rendering.render(ON)
    assert _audit_objects(docs) == [
        ("ClusterRole", "bulkhead-audit"),
        ("ClusterRoleBinding", "bulkhead-audit"),
        ("CustomResourceDefinition", REPORT_CRDS[0]),
        ("CustomResourceDefinition", REPORT_CRDS[1]),
        ("Deployment", "bulkhead-audit"),
        ("NetworkPolicy", "bulkhead-audit"),
        ("ServiceAccount", "bulkhead-audit"),
    ]
    deployment = rendering.find(docs, "Deployment", "bulkhead-audit")
    spec = rendering.pod_spec(deployment)
    assert spec["serviceAccountName"] == "bulkhead-audit"
    (container,) = spec["containers"]
    assert container["args"][:2] == ["audit", "--watch"]
    assert "--max-results=500" in container["args"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for crd in REPORT_CRDS:
        found = rendering.find(docs, "CustomResourceDefinition", crd)
        assert found["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
        assert [v["name"] for v in found["spec"]["versions"]] == ["v1alpha2"]


def test_the_audit_role_reads_workloads_and_writes_only_reports() -> None:
    role = rendering.find(rendering.render(ON), "ClusterRole", "bulkhead-audit")
    for rule in role["rules"]:
        if rule["apiGroups"] == ["wgpolicyk8s.io"]:
            assert sorted(rule["verbs"]) == ["create", "delete", "list", "patch"]
        elif rule["resources"] == ["events"]:
            assert sorted(rule["verbs"]) == ["create", "get", "patch"]
        else:
            assert sorted(rule["verbs"]) == ["list", "watch"], rule


def test_report_crds_can_be_left_to_another_engine() -> None:
    docs = rendering.render({"audit": {"enabled": True, "installReportCRDs": False}})
    assert not [d for d in docs if d["kind"] == "CustomResourceDefinition"]
    rendering.find(docs, "Deployment", "bulkhead-audit")
