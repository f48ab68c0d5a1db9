"""AdmissionReview v1 over real HTTPS: allow, deny, warn, audit, every kind, subresources."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from devcluster import installation, webhookserver
from tests import exposition
from tests.server import reviews


def _response(answer: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The response, after checking the contract every answer keeps."""
    assert answer["apiVersion"] == "admission.k8s.io/v1"
    assert answer["kind"] == "AdmissionReview"
    response: dict[str, Any] = answer["response"]
    assert response["uid"] == request["request"]["uid"]
    assert "patch" not in response
    assert "patchType" not in response
    return response


def test_a_compliant_pod_is_allowed(shared_server: webhookserver.WebhookServer) -> None:
    request = reviews.pod_review(namespace="deny-team")
    response = _response(shared_server.review(request), request)
    assert response["allowed"] is True
    assert "warnings" not in response


def test_a_privileged_pod_is_denied_with_403_and_the_engines_message(
    shared_server: webhookserver.WebhookServer,
) -> None:
    request = reviews.pod_review(namespace="deny-team", privileged=True)
    response = _response(shared_server.review(request), request)
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    message = response["status"]["message"]
    assert 'Pod "deny-team/web"' in message
    assert "ClusterContainerPolicy/deny-privileged" in message
    assert "spec.containers[0].securityContext.privileged" in message


def test_warn_policies_answer_with_warnings_and_allow(
    shared_server: webhookserver.WebhookServer,
) -> None:
    request = reviews.pod_review(namespace="warn-team", privileged=True)
    response = _response(shared_server.review(request), request)
    assert response["allowed"] is True
    assert len(response["warnings"]) == 1
    assert "[privileged]" in response["warnings"][0]
    assert "warn-privileged" in response["warnings"][0]


def test_audit_policies_answer_with_audit_annotations_and_allow(
    shared_server: webhookserver.WebhookServer,
) -> None:
    request = reviews.pod_review(namespace="audit-team", privileged=True)
    response = _response(shared_server.review(request), request)
    assert response["allowed"] is True
    assert "warnings" not in response
    found = json.loads(response["auditAnnotations"]["violations"])
    assert found == [
        {
            "policy": "ClusterContainerPolicy/audit-privileged",
            "check": "privileged",
            "path": "spec.containers[0].securityContext.privileged",
        }
    ]


TEMPLATE_PREFIX = {
    "Pod": "spec",
    "Deployment": "spec.template.spec",
    "ReplicaSet": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
    "ReplicationController": "spec.template.spec",
    "PodTemplate": "template.spec",
}


@pytest.mark.parametrize("kind", list(reviews.KINDS))
def test_every_pod_template_kind_is_judged_at_its_own_path(
    shared_server: webhookserver.WebhookServer, kind: str
) -> None:
    bad = reviews.workload(
        kind, name="w", namespace="deny-kinds", spec=reviews.pod_spec(privileged=True)
    )
    request = reviews.review(bad)
    response = _response(shared_server.review(request), request)
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    path = f"{TEMPLATE_PREFIX[kind]}.containers[0].securityContext.privileged"
    assert path in response["status"]["message"]

    good = reviews.workload(kind, name="w", namespace="deny-kinds", spec=reviews.pod_spec())
    request = reviews.review(good)
    assert _response(shared_server.review(request), request)["allowed"] is True


def test_adding_a_privileged_ephemeral_container_is_judged(
    shared_server: webhookserver.WebhookServer,
) -> None:
    old = reviews.workload("Pod", name="web", namespace="deny-debug", spec=reviews.pod_spec())
    new = json.loads(json.dumps(old))
    debugger = reviews.container("debugger", privileged=True)
    new["spec"]["ephemeralContainers"] = [debugger]
    request = reviews.review(new, operation="UPDATE", subresource="ephemeralcontainers", old=old)
    response = _response(shared_server.review(request), request)
    assert response["allowed"] is False
    assert (
        "spec.ephemeralContainers[0].securityContext.privileged" in (response["status"]["message"])
    )


def test_an_unknown_subresource_is_judged(shared_server: webhookserver.WebhookServer) -> None:
    old = reviews.workload("Pod", name="web", namespace="deny-sub", spec=reviews.pod_spec())
    new = reviews.workload(
        "Pod", name="web", namespace="deny-sub", spec=reviews.pod_spec(privileged=True)
    )
    request = reviews.review(new, operation="UPDATE", subresource="somethingnew", old=old)
    assert _response(shared_server.review(request), request)["allowed"] is False


@pytest.mark.parametrize("operation", ["DELETE", "CONNECT"])
def test_delete_and_connect_are_allowed(
    shared_server: webhookserver.WebhookServer, operation: str
) -> None:
    bad = reviews.workload(
        "Pod", name="web", namespace="deny-ops", spec=reviews.pod_spec(privileged=True)
    )
    request = reviews.review(None, kind="Pod", operation=operation, old=bad)
    assert _response(shared_server.review(request), request)["allowed"] is True


def test_dry_run_is_judged_like_any_other_request(
    shared_server: webhookserver.WebhookServer,
) -> None:
    request = reviews.pod_review(namespace="deny-dry", privileged=True, dry_run=True)
    assert _response(shared_server.review(request), request)["allowed"] is False


def test_one_keep_alive_connection_serves_many_reviews(
    shared_server: webhookserver.WebhookServer,
) -> None:
    connection = shared_server.connection()
    try:
        for privileged in (False, True, False, True):
            request = reviews.pod_review(namespace="deny-ka", privileged=privileged)
            answer = shared_server.review(request, connection=connection)
            assert _response(answer, request)["allowed"] is (not privileged)
    finally:
        connection.close()


def test_every_review_is_logged_once_without_the_object(
    shared_server: webhookserver.WebhookServer,
) -> None:
    request = reviews.pod_review(namespace="deny-logs", privileged=True)
    request["request"]["object"]["metadata"]["annotations"] = {"secret-ish": "s3cr3t-value"}
    request["request"]["object"]["spec"]["containers"][0]["env"] = [
        {"name": "PASSWORD", "value": "hunter2-literal"}
    ]
    shared_server.review(request)
    uid = request["request"]["uid"]

    def logged() -> list[dict[str, Any]]:
        return [
            line
            for line in shared_server.log_lines()
            if line.get("msg") == "review" and line.get("uid") == uid
        ]

    lines = installation.wait_for(logged, timeout=60, what="the review's log line")
    assert len(lines) == 1
    line = lines[0]
    assert line["kind"] == "Pod"
    assert (line["namespace"], line["name"]) == ("deny-logs", "web")
    assert (line["operation"], line["subresource"], line["user"]) == ("CREATE", "", "alice")
    assert line["outcome"] == "denied"
    assert line["checks"] == ["privileged"]
    assert line["durationMs"] > 0
    text = shared_server.log_text()
    assert "hunter2-literal" not in text
    assert "s3cr3t-value" not in text


def test_metrics_count_reviews_by_outcome_kind_policy_and_check(
    shared_server: webhookserver.WebhookServer,
) -> None:
    request = reviews.pod_review(namespace="deny-metrics", privileged=True)
    shared_server.review(request)
    status, _, body = shared_server.probe("/metrics")
    assert status == 200
    text = body.decode()
    assert 'bulkhead_admission_reviews_total{kind="Pod",outcome="denied"}' in text
    assert (
        'bulkhead_admission_violations_total{action="Deny",check="privileged",'
        'policy="ClusterContainerPolicy/deny-privileged"}'
    ) in text
    assert "bulkhead_admission_review_duration_seconds_bucket" in text
    assert exposition.value(text, "bulkhead_policies_loaded") == 3
    expiry = exposition.value(text, "bulkhead_serving_certificate_expiry_timestamp_seconds")
    assert expiry > time.time() + 3600
    assert 'bulkhead_admission_review_duration_seconds_bucket{le="30.0"}' in text
    assert 'bulkhead_build_info{component="webhook",python="' in text


def test_health_and_readiness(shared_server: webhookserver.WebhookServer) -> None:
    assert shared_server.get_json("/healthz") == (200, {"status": "ok"})
    status, detail = shared_server.get_json("/readyz")
    assert status == 200
    assert detail["ready"] is True
    assert detail["policies"]["count"] == 3
    assert detail["tls"]["loaded"] is True


def test_the_benchmark_endpoint_is_off_unless_enabled(
    shared_server: webhookserver.WebhookServer,
) -> None:
    request = reviews.pod_review(namespace="deny-noop", privileged=True)
    status, _, _ = shared_server.request("POST", "/noop", json.dumps(request).encode())
    assert status == 404
