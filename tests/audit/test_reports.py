"""The background audit against the real apiserver: reports follow policies and workloads.

Workloads are created first, with no policy; a policy applied afterwards
shows their violations in the namespace's PolicyReport within
``REPORTED_WITHIN`` seconds; fixing the workload clears its result;
deleting the policy removes its results; a finding that appears is one
Warning Event on the Deployment. A Deployment's ReplicaSet and Pods
are reported once, on the Deployment. The audit runs as the
``bulkhead-audit`` ServiceAccount with only ``manifests/rbac/audit.yaml``.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

import prometheus_client
import pytest

from devcluster import installation
from tests import exposition
from webhook.audit import controller, metrics

pytestmark = pytest.mark.cluster

#: The stated bound: a change is in the reports within this many seconds.
REPORTED_WITHIN = 10.0


def _container(*, privileged: bool) -> dict[str, Any]:
    return {
        "name": "app",
        "image": "registry.example/app:1.0",
        "securityContext": {"privileged": privileged},
    }


def _deployment(namespace: str, *, privileged: bool) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace, "labels": {"app": "web"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [_container(privileged=privileged)]},
            },
        },
    }


def _replicas(install: installation.Install, deployment: dict[str, Any]) -> None:
    """What the controllers would make of ``deployment``: a ReplicaSet and its Pods."""
    namespace = deployment["metadata"]["namespace"]
    made = installation.get_json(
        install.cp, f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    )
    assert made is not None
    template = deployment["spec"]["template"]
    owner = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
        "uid": made["metadata"]["uid"],
        "controller": True,
    }
    install.cp.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "web-1", "namespace": namespace, "ownerReferences": [owner]},
            "spec": {
                "replicas": 3,
                "selector": deployment["spec"]["selector"],
                "template": template,
            },
        }
    )
    replica_set = installation.get_json(
        install.cp, f"/apis/apps/v1/namespaces/{namespace}/replicasets/web-1"
    )
    assert replica_set is not None
    install.cp.apply(
        *(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"web-1-{index}",
                    "namespace": namespace,
                    "labels": {"app": "web"},
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "ReplicaSet",
                            "name": "web-1",
                            "uid": replica_set["metadata"]["uid"],
                            "controller": True,
                        }
                    ],
                },
                "spec": template["spec"],
            }
            for index in range(3)
        )
    )


def _standalone_pod(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "tidy", "namespace": namespace},
        "spec": {"containers": [_container(privileged=False)]},
    }


def _policy(name: str, namespace: str, *, action: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": name},
        "spec": {"action": action, "match": {"namespaces": [namespace]}, **spec},
    }


def _report(install: installation.Install) -> dict[str, Any] | None:
    return installation.get_json(
        install.cp,
        f"/apis/wgpolicyk8s.io/v1alpha2/namespaces/{install.namespace}/policyreports/bulkhead",
    )


def _results(report: dict[str, Any] | None, policy: str) -> list[dict[str, Any]]:
    return [r for r in (report or {}).get("results", []) if r["policy"] == policy]


def _violation_events(install: installation.Install) -> list[dict[str, Any]]:
    listed = install.cp.get_json(
        f"/api/v1/namespaces/{install.namespace}/events?fieldSelector=reason%3DPolicyViolation"
    )
    found: list[dict[str, Any]] = listed["items"]
    return found


def _apply(install: installation.Install, document: dict[str, Any]) -> None:
    install.cp.kubectl("apply", "-f", "-", input_text=json.dumps(document))


def test_policy_after_workloads_reports_fix_clears_delete_removes(
    install: installation.Install, audit: controller.Controller
) -> None:
    namespace = install.namespace
    deployment = _deployment(namespace, privileged=True)
    _apply(install, deployment)
    _replicas(install, deployment)
    _apply(install, _standalone_pod(namespace))
    name = f"no-privileged-{install.suffix}"
    key = f"ClusterContainerPolicy/{name}"
    try:
        _apply(install, _policy(name, namespace, action="Deny", rules={"privileged": False}))

        report = installation.wait_for(
            lambda: (r := _report(install)) and _results(r, key) and r,
            timeout=REPORTED_WITHIN,
            what="the privileged Deployment in the report",
        )
        # one Deployment, one ReplicaSet and three Pods: one result, on the Deployment
        [result] = _results(report, key)
        assert result["rule"] == "privileged"
        assert result["result"] == "fail"
        assert result["severity"] == "high"
        assert result["resources"][0]["kind"] == "Deployment"
        assert result["resources"][0]["name"] == "web"
        assert (
            result["properties"]["path"]
            == "spec.template.spec.containers[0].securityContext.privileged"
        )
        assert "Fix:" in result["message"]
        assert report["summary"] == {"pass": 1, "fail": 1, "warn": 0, "error": 0, "skip": 0}

        # the finding appeared after the first pass: one Warning Event on the Deployment
        [event] = installation.wait_for(
            lambda: _violation_events(install),
            timeout=REPORTED_WITHIN,
            what="a PolicyViolation Event",
        )
        assert event["type"] == "Warning"
        assert event["involvedObject"]["kind"] == "Deployment"
        assert event["involvedObject"]["name"] == "web"
        assert event["message"].startswith(f"{key} (Deny): [privileged] spec.template.spec.")
        assert event["count"] == 1
        # ... and the metrics a scrape of the audit's /metrics shows say so
        scraped = prometheus_client.generate_latest(metrics.registry(audit)).decode()
        assert exposition.value(scraped, "bulkhead_audit_events_posted_total") >= 1
        assert exposition.value(scraped, "bulkhead_audit_results", result="fail") >= 1
        assert exposition.value(scraped, "bulkhead_audit_passes_total") >= 1
        assert exposition.value(scraped, "bulkhead_audit_pass_failures_total") == 0
        assert exposition.value(scraped, "bulkhead_audit_last_success_timestamp_seconds") > 0
        assert 'bulkhead_build_info{component="audit"' in scraped

        # fixing the Deployment's template clears its result
        _apply(install, _deployment(namespace, privileged=False))
        report = installation.wait_for(
            lambda: (r := _report(install)) and r["summary"]["pass"] == 2 and r,
            timeout=REPORTED_WITHIN,
            what="the fixed Deployment passing",
        )
        assert _results(report, key) == []
        assert report["summary"]["fail"] == 0

        # a policy deleted takes its results away: break it again, then delete the policy
        _apply(install, _deployment(namespace, privileged=True))
        installation.wait_for(
            lambda: _results(_report(install), key),
            timeout=REPORTED_WITHIN,
            what="the result back",
        )
        # the same finding again is not a second Event (deduplicated, rate-limited)
        installation.wait_for(
            lambda: audit.events.suppressed > 0, timeout=REPORTED_WITHIN, what="a suppression"
        )
        assert len(_violation_events(install)) == 1
    finally:
        install.cp.kubectl("delete", "ccp", name, "--ignore-not-found", "--wait=false")
    installation.wait_for(
        lambda: _report(install) is None,
        timeout=REPORTED_WITHIN,
        what="the report gone with its only policy",
    )


def test_pod_only_policy_reports_replicas_once_on_their_deployment(
    install: installation.Install, audit: controller.Controller
) -> None:
    namespace = install.namespace
    deployment = _deployment(namespace, privileged=True)
    _apply(install, deployment)
    _replicas(install, deployment)
    pods_only = f"pods-{install.suffix}"
    everything = f"warn-{install.suffix}"
    try:
        _apply(
            install,
            _policy(
                pods_only,
                namespace,
                action="Deny",
                rules={"privileged": False},
                match={"namespaces": [namespace], "kinds": ["Pod"]},
            ),
        )
        _apply(install, _policy(everything, namespace, action="Warn", rules={"privileged": False}))
        pods_key = f"ClusterContainerPolicy/{pods_only}"
        warn_key = f"ClusterContainerPolicy/{everything}"
        report = installation.wait_for(
            lambda: (
                (r := _report(install)) and _results(r, pods_key) and _results(r, warn_key) and r
            ),
            timeout=REPORTED_WITHIN,
            what="both policies' results",
        )
        [from_pods] = _results(report, pods_key)
        assert from_pods["resources"][0]["kind"] == "Deployment"
        assert from_pods["properties"]["via"].startswith("Pod/web-1-")
        assert from_pods["properties"]["path"] == "spec.containers[0].securityContext.privileged"
        [warned] = _results(report, warn_key)
        assert warned["result"] == "warn"
        assert warned["severity"] == "medium"
        assert report["summary"]["fail"] == 1
        assert report["summary"]["warn"] == 1

        # deleting one policy removes its results and keeps the other's
        install.cp.kubectl("delete", "ccp", pods_only, "--wait=false")
        report = installation.wait_for(
            lambda: (r := _report(install)) and not _results(r, pods_key) and r,
            timeout=REPORTED_WITHIN,
            what="the Pod-only policy's result gone",
        )
        assert len(_results(report, warn_key)) == 1

        # a change that alters no result is judged but writes nothing
        writes, passes = audit.writes, audit.passes
        install.cp.kubectl("label", "pod", "web-1-0", "-n", namespace, "touched=yes")
        installation.wait_for(lambda: audit.passes > passes, timeout=REPORTED_WITHIN, what="a pass")
        assert audit.writes == writes
    finally:
        for name in (pods_only, everything):
            install.cp.kubectl("delete", "ccp", name, "--ignore-not-found", "--wait=false")


def test_bulkhead_audit_judges_the_live_cluster_once_and_writes_nothing(
    install: installation.Install,
) -> None:
    namespace = install.namespace
    _apply(install, _deployment(namespace, privileged=True))
    name = f"cli-{install.suffix}"
    try:
        _apply(install, _policy(name, namespace, action="Deny", rules={"privileged": False}))
        result = subprocess.run(
            [
                str(pathlib.Path(sys.executable).with_name("bulkhead")),
                "audit",
                f"--kubeconfig={install.audit_kubeconfig}",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 1, result.stderr
        [report] = [
            r
            for r in json.loads(result.stdout)["reports"]
            if r["metadata"].get("namespace") == namespace
        ]
        [entry] = _results(report, f"ClusterContainerPolicy/{name}")
        assert entry["resources"][0]["name"] == "web"
        assert _report(install) is None  # printed, not written
    finally:
        install.cp.kubectl("delete", "ccp", name, "--ignore-not-found", "--wait=false")
