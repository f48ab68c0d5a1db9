"""Every answer fits in 256 KiB, whatever the decision says; cutting never changes the verdict."""

from __future__ import annotations

import datetime
import json

import pytest

from tests.unit.admission import requests
from webhook import admission, policy
from webhook.server import bounds

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
LIMIT = 256 * 1024
#: a character JSON escapes as six bytes, so text of N characters encodes to 6 N bytes
ESCAPED = "\x01"


def policies() -> list[policy.CompiledPolicy]:
    return [
        policy.compile(
            {
                "apiVersion": "bulkhead.dev/v1alpha1",
                "kind": "ClusterContainerPolicy",
                "metadata": {"name": f"{action.lower()}-{n}"},
                "spec": {"action": action, "profile": {"level": "restricted"}},
            }
        )
        for action in ("Deny", "Warn", "Audit")
        for n in range(2)
    ]


DECISIONS = {
    "huge-escaped-warnings": admission.Decision(
        allowed=True, warnings=tuple(ESCAPED * 5000 for _ in range(10_000))
    ),
    "huge-escaped-message": admission.Decision(
        allowed=False, code=403, message=ESCAPED * 1_000_000
    ),
    "huge-audit-list": admission.Decision(
        allowed=True,
        audit_annotations={
            "violations": json.dumps([{"policy": ESCAPED * 500}] * 10_000),
            "other": ESCAPED * 1_000_000,
        },
    ),
    "everything-at-once": admission.Decision(
        allowed=False,
        code=403,
        message=ESCAPED * 1_000_000,
        warnings=tuple(ESCAPED * 5000 for _ in range(10_000)),
        audit_annotations={"violations": json.dumps([{"p": ESCAPED * 500}] * 10_000)},
    ),
}


@pytest.mark.parametrize("name", list(DECISIONS))
def test_any_decision_is_answered_within_256_kib(name: str) -> None:
    decision = DECISIONS[name]
    data = bounds.encoded_review(decision, "uid-1")
    assert len(data) <= LIMIT
    response = json.loads(data)["response"]
    assert (response["uid"], response["allowed"]) == ("uid-1", decision.allowed)
    if not decision.allowed:
        assert response["status"]["code"] == decision.code


@pytest.mark.parametrize(
    ("cap", "containers"),
    [(1, 10_000), (20, 10_000), (1_000_000, 2_000)],
    ids=["cap-1", "cap-20", "no-real-cap"],
)
def test_a_pod_with_thousands_of_privileged_containers_fits(cap: int, containers: int) -> None:
    """Under six policies (Deny, Warn, Audit), capped or not, the answer is small enough."""
    request = requests.create(
        requests.pod_with(privileged=containers), kind="Pod", namespace="team-a"
    )
    decision = admission.decide(request, policies(), namespace_labels={}, now=NOW, cap=cap)
    data = bounds.encoded_review(decision, request.uid)
    assert len(data) <= LIMIT
    response = json.loads(data)["response"]
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    assert response["warnings"]
    assert json.loads(response["auditAnnotations"]["violations"])


def test_warnings_past_the_total_are_counted() -> None:
    decision = admission.Decision(allowed=True, warnings=tuple(f"w{i}" for i in range(75)))
    warnings = json.loads(bounds.encoded_review(decision, "u"))["response"]["warnings"]
    assert warnings == [*(f"w{i}" for i in range(bounds.MAX_WARNINGS)), "... and 15 more warnings"]
