"""What the webhook tells as PolicyViolation Events, and what the review path queues."""

from __future__ import annotations

import datetime
from typing import Any, cast

import pytest

from tests.unit.admission import requests
from webhook import admission, kube, policy
from webhook.server import events

NOW = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)


def _policy(kind: str, name: str, action: str, **metadata: str) -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": kind,
            "metadata": {"name": name, **metadata},
            "spec": {"action": action, "rules": {"privileged": False}},
        },
        latest_minor=35,
    )


WARN = _policy("ClusterContainerPolicy", "warn-privileged", "Warn", uid="u-warn")
AUDIT = _policy("ContainerPolicy", "audit-privileged", "Audit", namespace="apps")
DENY = _policy("ClusterContainerPolicy", "deny-privileged", "Deny", uid="u-deny")


def _pod(*, owner: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "web-7d4b9-x2k", "namespace": "apps", "uid": "u-pod"}
    if owner is not None:
        metadata["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner, "controller": True}
        ]
    container = {"name": "app", "image": "nginx:1.27", "securityContext": {"privileged": True}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [container]},
    }


def _judged(
    obj: dict[str, Any], policies: tuple[policy.CompiledPolicy, ...]
) -> tuple[admission.Request, admission.Decision]:
    request = requests.create(obj, kind=obj["kind"], namespace="apps")
    decision = admission.decide(
        request, policies, namespace_labels={}, namespace_complete=True, now=NOW
    )
    return request, decision


def test_a_warn_cluster_policy_tells_the_object_and_the_policy_by_controller() -> None:
    request, decision = _judged(_pod(owner="web-7d4b9"), (WARN, AUDIT))
    found = events.facts(request)
    assert found is not None
    target = events.involved(found)
    assert target == kube.events.Involved(
        api_version="v1", kind="Pod", name="web-7d4b9-x2k", namespace="apps", uid="u-pod"
    )
    notes = events.notes(found, decision.violations, (WARN, AUDIT))
    on_object = [n for n in notes if n.involved == target]
    on_policy = [n for n in notes if n.involved != target]
    assert {n.message.split(" (")[0] for n in on_object} == {
        "ClusterContainerPolicy/warn-privileged",
        "ContainerPolicy/apps/audit-privileged",
    }
    path = "spec.containers[0].securityContext.privileged"
    assert all(path in n.message and "Fix:" in n.message for n in notes)
    # only the cluster policy gets one, in default, named after the controller
    [told] = on_policy
    assert told.involved == kube.events.Involved(
        api_version="bulkhead.dev/v1alpha1",
        kind="ClusterContainerPolicy",
        name="warn-privileged",
        namespace=None,
        uid="u-warn",
    )
    assert told.namespace == "default"
    assert told.message.startswith("ReplicaSet apps/web-7d4b9 (Warn): [privileged]")
    # two replicas of one ReplicaSet count on one Event of the policy
    other = _pod(owner="web-7d4b9")
    other["metadata"]["name"] = "web-7d4b9-q8z"
    request2, decision2 = _judged(other, (WARN,))
    found2 = events.facts(request2)
    assert found2 is not None
    [_, told2] = events.notes(found2, decision2.violations, (WARN,))
    assert told2.name == told.name
    assert [n.reason for n in notes] == ["PolicyViolation"] * 3
    assert all(n.type == "Warning" for n in notes)


class _NoApi:
    """Stands in for the API: ``offer`` must never reach it."""


def _emitter(limit: int = 1000) -> events.Emitter:
    return events.Emitter(cast(kube.Api, _NoApi()), limit=limit)


@pytest.mark.parametrize(
    ("policies", "queued"),
    [
        pytest.param((WARN,), 1, id="warn"),
        pytest.param((AUDIT,), 1, id="audit"),
        pytest.param((DENY, WARN), 0, id="denied-is-the-answer"),
        pytest.param((), 0, id="allowed-clean"),
    ],
)
def test_offer_queues_only_admitted_warn_and_audit_decisions(
    policies: tuple[policy.CompiledPolicy, ...], queued: int
) -> None:
    emitter = _emitter()
    request, decision = _judged(_pod(), policies)
    emitter.offer(request, decision, policies)
    assert emitter.pending == queued


def test_offer_skips_dry_runs_and_unnamed_objects_and_drops_over_the_limit() -> None:
    emitter = _emitter(limit=2)
    request, decision = _judged(_pod(), (WARN,))
    emitter.offer(request._replace(dry_run=True), decision, (WARN,))
    emitter.offer(request._replace(name=""), decision, (WARN,))
    assert emitter.pending == 0
    for _ in range(3):
        emitter.offer(request, decision, (WARN,))
    assert emitter.pending == 2
    assert emitter.dropped == 1
