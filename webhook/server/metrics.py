"""Prometheus metrics of the webhook. No I/O; ``health`` serves them at ``GET /metrics``.

Each app owns its own registry (no process-global state, so tests can build
many apps). Names and labels:

* ``bulkhead_admission_reviews_total{outcome, kind}``: reviews answered, by
  decision outcome (allowed, denied, warned, audited, skipped, error);
* ``bulkhead_admission_violations_total{policy, check, action}``: violations
  found, by policy key, check id and the policy's action;
* ``bulkhead_admission_rejected_requests_total{code}``: requests refused
  before judging (400, 405, 413, 415);
* ``bulkhead_admission_review_duration_seconds``: time from the body read to
  the response, a histogram;
* ``bulkhead_policies_loaded``: policies in force;
* ``bulkhead_policy_reload_failing``: 1 while the latest policy reload failed;
* ``bulkhead_serving_certificate_expiry_seconds``: seconds until the serving
  certificate expires (negative once expired).
"""

from __future__ import annotations

import collections
import datetime
from collections.abc import Sequence

import prometheus_client
import prometheus_client.exposition

from webhook.admission import messages
from webhook.server import state as state_module

_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)


class Metrics:
    """The collectors one app updates."""

    def __init__(self, state: state_module.State) -> None:
        self.registry = prometheus_client.CollectorRegistry(auto_describe=True)
        self.reviews = prometheus_client.Counter(
            "bulkhead_admission_reviews",
            "AdmissionReviews answered, by decision outcome and kind",
            ("outcome", "kind"),
            registry=self.registry,
        )
        self.violations = prometheus_client.Counter(
            "bulkhead_admission_violations",
            "Violations found, by policy, check id and action",
            ("policy", "check", "action"),
            registry=self.registry,
        )
        self.rejected = prometheus_client.Counter(
            "bulkhead_admission_rejected_requests",
            "Requests refused before judging, by HTTP status",
            ("code",),
            registry=self.registry,
        )
        self.duration = prometheus_client.Histogram(
            "bulkhead_admission_review_duration_seconds",
            "Time to judge and answer one AdmissionReview",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        policies = prometheus_client.Gauge(
            "bulkhead_policies_loaded", "Policies in force", registry=self.registry
        )
        policies.set_function(lambda: float(len(state.policies.policies)))
        failing = prometheus_client.Gauge(
            "bulkhead_policy_reload_failing",
            "1 while the latest policy reload failed (the last good set stays in force)",
            registry=self.registry,
        )
        failing.set_function(lambda: 0.0 if state.policies.error is None else 1.0)
        expiry = prometheus_client.Gauge(
            "bulkhead_serving_certificate_expiry_seconds",
            "Seconds until the serving certificate expires",
            registry=self.registry,
        )
        expiry.set_function(lambda: _seconds_left(state))
        #: ``reviews``' children by (outcome, kind): ``labels()`` locks and checks on every call.
        self._reviews_by_label: dict[tuple[str, str], prometheus_client.Counter] = {}

    def review(
        self,
        *,
        outcome: str,
        kind: str,
        seconds: float,
        violations: Sequence[messages.Violation] = (),
    ) -> None:
        child = self._reviews_by_label.get((outcome, kind))
        if child is None:
            child = self._reviews_by_label[outcome, kind] = self.reviews.labels(outcome, kind)
        child.inc()
        self.duration.observe(seconds)
        if not violations:
            return
        counts = collections.Counter((v.policy, v.finding.check, v.action) for v in violations)
        for (policy_key, check, action), count in counts.items():
            self.violations.labels(policy_key, check, action).inc(count)


def _seconds_left(state: state_module.State) -> float:
    left = state.tls.seconds_left(datetime.datetime.now(datetime.UTC))
    return float("nan") if left is None else left


def exposition(metrics: Metrics, accept: str) -> tuple[bytes, str]:
    """The registry in the text format ``accept`` asks for, and its content type."""
    encoder, content_type = prometheus_client.exposition.choose_encoder(accept)
    return encoder(metrics.registry), content_type
