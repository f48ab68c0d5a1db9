"""Image verification at admission: what is recorded, and what a process with no verifier does."""

from __future__ import annotations

import base64
import datetime

from tests import exposition
from tests.server import reviews
from webhook import admission, policy
from webhook.server import metrics, verification
from webhook.supplychain import verifier


def _metrics() -> metrics.Metrics:
    return metrics.Metrics(
        policies=lambda: 0.0,
        reload_failing=lambda: 0.0,
        certificate_expiry=lambda: 0.0,
        open_connections=lambda: 0.0,
        busy_workers=lambda: 0.0,
    )


def test_verification_results_are_the_verifiers() -> None:
    assert frozenset(verifier.RESULTS) == metrics.VERIFICATION_RESULTS


def test_verifications_are_counted_by_result_with_their_latency() -> None:
    recorder = metrics.Recorder()
    recorder.verified(result="cached", seconds=0.00002)
    recorder.verified(result="signed", seconds=0.012)
    recorder.verified(result="made-up", seconds=0.5)
    served = _metrics()
    served.apply(recorder.take())
    raw, _ = metrics.exposition(served, "text/plain")
    text = raw.decode()
    for result in ("cached", "signed", "error"):
        assert exposition.value(text, "bulkhead_image_verifications_total", result=result) == 1
    assert exposition.value(text, "bulkhead_image_verification_duration_seconds_count") == 3
    bucket = "bulkhead_image_verification_duration_seconds_bucket"
    assert exposition.value(text, bucket, le="0.0001") == 1


def test_a_process_without_a_verifier_denies_what_needs_verifying() -> None:
    der = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + bytes(65)
    pem = f"-----BEGIN PUBLIC KEY-----\n{base64.b64encode(der).decode()}\n-----END PUBLIC KEY-----"
    signing = policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "signed"},
            "spec": {"rules": {"imageSignatures": {"keys": [pem]}}},
        }
    )
    request = admission.parse(reviews.pod_review(namespace="team", privileged=False))
    recorder = metrics.Recorder()
    found = verification.evidence(
        None,
        recorder,
        request,
        [signing],
        namespace_labels={},
        now=datetime.datetime.now(datetime.UTC),
        timeout=1.0,
    )
    assert found
    assert all("does not verify images" in e.failure for e in found.values())
    assert [event[1] for event in recorder.take()] == ["error"] * len(found)
