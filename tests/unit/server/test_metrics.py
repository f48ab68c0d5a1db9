"""Image verification metrics: what a worker records is what the front serves."""

from __future__ import annotations

from webhook.server import metrics
from webhook.supplychain import verifier


def _metrics() -> metrics.Metrics:
    return metrics.Metrics(
        policies=lambda: 0.0,
        reload_failing=lambda: 0.0,
        certificate_seconds_left=lambda: 0.0,
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
    text, _ = metrics.exposition(served, "text/plain")
    lines = text.decode().splitlines()
    assert 'bulkhead_image_verifications_total{result="cached"} 1.0' in lines
    assert 'bulkhead_image_verifications_total{result="signed"} 1.0' in lines
    assert 'bulkhead_image_verifications_total{result="error"} 1.0' in lines
    assert "bulkhead_image_verification_duration_seconds_count 3.0" in lines
    assert 'bulkhead_image_verification_duration_seconds_bucket{le="0.0001"} 1.0' in lines
