"""Prometheus metrics of the webhook. No I/O; the front serves them at ``GET /metrics``.

The app runs in worker processes but the metrics live in one place, the
front: the app records what happened into a ``Recorder`` (a list of plain
events), the worker ships the events with each reply (``frames.Reply``) and
the front ``apply``s them to its ``Metrics``. Each ``Metrics`` owns its
registry (no process-global state, so tests can build many).

Every label takes its values from a closed set, so no request can grow the
registry: ``kind`` is one of the pod-bearing kinds or ``other``, ``outcome``
and ``code`` are the server's own, ``check`` the checks' ids and ``policy``
the names of policies in force (written by cluster admins). Names:

* ``bulkhead_admission_reviews_total{outcome, kind}``: reviews answered, by
  decision outcome (allowed, denied, warned, audited, skipped, error, noop);
* ``bulkhead_admission_violations_total{policy, check, action}``: violations
  found, by policy key, check id and the policy's action;
* ``bulkhead_admission_rejected_requests_total{code}``: requests refused
  before judging (400, 404, 405, 408, 413, 415, 431, 503, ...);
* ``bulkhead_admission_review_duration_seconds``: time from the body read to
  the response inside a worker, a histogram;
* ``bulkhead_image_verifications_total{result}``: images verified for
  ``imageSignatures``, by result (cached, signed, unsigned, error);
* ``bulkhead_image_verification_duration_seconds``: time to verify one
  image (a cache hit included), a histogram;
* ``bulkhead_decision_timeouts_total``: reviews answered with a denial at the
  decision deadline (the worker was replaced);
* ``bulkhead_connections_evicted_total``: idle connections closed to admit
  new clients at the connection limit;
* ``bulkhead_open_connections``, ``bulkhead_busy_workers``: now;
* ``bulkhead_policies_loaded``: policies in force;
* ``bulkhead_policy_reload_failing``: 1 while the latest policy reload failed;
* ``bulkhead_serving_certificate_expiry_timestamp_seconds``: when the serving
  certificate in use expires (Unix time);
* ``bulkhead_build_info{version, python, component}``: always 1
  (``webhook.buildinfo``).

The duration histogram's buckets reach 30 s, the longest ``timeoutSeconds``
a webhook may have, so a slow review is counted below the timeout it nears.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

import prometheus_client
import prometheus_client.exposition

from webhook import buildinfo
from webhook.admission import extract, messages

_BUCKETS: Final = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
#: The ``kind`` label of every kind that is not pod-bearing (any string a request can carry).
OTHER_KIND: Final = "other"
_KINDS: Final = frozenset(extract.KINDS)
_OUTCOMES: Final = frozenset({"allowed", "denied", "warned", "audited", "skipped", "error", "noop"})
_REVIEW: Final = "review"
_REFUSED: Final = "refused"
_VERIFIED: Final = "verified"
#: ``webhook.supplychain.verifier.RESULTS`` (kept here: metrics import no I/O package).
VERIFICATION_RESULTS: Final = frozenset({"cached", "signed", "unsigned", "error"})


def kind_label(kind: str) -> str:
    """``kind`` when it is a pod-bearing kind, else ``other``."""
    return kind if kind in _KINDS else OTHER_KIND


class Recorder:
    """What the app running in a worker records; the worker ships ``take()`` with each reply."""

    def __init__(self) -> None:
        self._events: list[tuple[Any, ...]] = []

    def review(
        self,
        *,
        outcome: str,
        kind: str,
        seconds: float,
        violations: Sequence[messages.Violation] = (),
    ) -> None:
        counts: tuple[tuple[str, str, str, int], ...] = ()
        if violations:
            counted = collections.Counter((v.policy, v.finding.check, v.action) for v in violations)
            counts = tuple((p, c, a, n) for (p, c, a), n in counted.items())
        self._events.append((_REVIEW, outcome, kind_label(kind), seconds, counts))

    def refused(self, code: int) -> None:
        self._events.append((_REFUSED, code))

    def verified(self, *, result: str, seconds: float) -> None:
        """One image verified for ``imageSignatures``."""
        self._events.append((_VERIFIED, result, seconds))

    def take(self) -> tuple[tuple[Any, ...], ...]:
        events, self._events = tuple(self._events), []
        return events


class Metrics:
    """The collectors the front updates and serves."""

    def __init__(
        self,
        *,
        policies: Callable[[], float],
        reload_failing: Callable[[], float],
        certificate_expiry: Callable[[], float],
        open_connections: Callable[[], float],
        busy_workers: Callable[[], float],
    ) -> None:
        self.registry = prometheus_client.CollectorRegistry(auto_describe=True)
        buildinfo.register(self.registry, component="webhook")
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
        self.verifications = prometheus_client.Counter(
            "bulkhead_image_verifications",
            "Images verified for imageSignatures, by result",
            ("result",),
            registry=self.registry,
        )
        self.verification_duration = prometheus_client.Histogram(
            "bulkhead_image_verification_duration_seconds",
            "Time to verify one image's signatures (cache hits included)",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.timeouts = prometheus_client.Counter(
            "bulkhead_decision_timeouts",
            "Reviews denied at the decision deadline",
            registry=self.registry,
        )
        self.evicted = prometheus_client.Counter(
            "bulkhead_connections_evicted",
            "Idle connections closed to admit new clients at the connection limit",
            registry=self.registry,
        )
        for name, help_text, read in (
            ("bulkhead_open_connections", "Client connections open now", open_connections),
            ("bulkhead_busy_workers", "Worker processes judging now", busy_workers),
            ("bulkhead_policies_loaded", "Policies in force", policies),
            (
                "bulkhead_policy_reload_failing",
                "1 while the latest policy reload failed (the last good set stays in force)",
                reload_failing,
            ),
            (
                "bulkhead_serving_certificate_expiry_timestamp_seconds",
                "When the serving certificate in use expires (Unix time)",
                certificate_expiry,
            ),
        ):
            gauge = prometheus_client.Gauge(name, help_text, registry=self.registry)
            gauge.set_function(read)
        #: ``reviews``' children by (outcome, kind): ``labels()`` locks and checks on every call.
        self._reviews_by_label: dict[tuple[str, str], Any] = {}

    def apply(self, events: Iterable[tuple[Any, ...]]) -> None:
        """Count what a worker recorded; an event of unknown shape is ignored."""
        for event in events:
            if event[0] == _REVIEW and len(event) == 5:
                self._review(*event[1:])
            elif event[0] == _REFUSED and len(event) == 2:
                self.refused(int(event[1]))
            elif event[0] == _VERIFIED and len(event) == 3:
                result = event[1] if event[1] in VERIFICATION_RESULTS else "error"
                self.verifications.labels(result).inc()
                self.verification_duration.observe(float(event[2]))

    def refused(self, code: int) -> None:
        self.rejected.labels(str(code) if 100 <= code <= 599 else "other").inc()

    def _review(
        self, outcome: str, kind: str, seconds: float, counts: Iterable[tuple[str, str, str, int]]
    ) -> None:
        outcome = outcome if outcome in _OUTCOMES else "error"
        key = (outcome, kind_label(kind))
        child = self._reviews_by_label.get(key)
        if child is None:
            child = self._reviews_by_label[key] = self.reviews.labels(*key)
        child.inc()
        self.duration.observe(seconds)
        for policy_key, check, action, count in counts:
            self.violations.labels(policy_key, check, action).inc(count)


def exposition(metrics: Metrics, accept: str) -> tuple[bytes, str]:
    """The registry in the text format ``accept`` asks for, and its content type."""
    encoder, content_type = prometheus_client.exposition.choose_encoder(accept)
    return encoder(metrics.registry), content_type
