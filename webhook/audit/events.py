"""Kubernetes Events for findings the background audit sees appear. Network I/O.

When a finding appears on an object after the first complete pass (a policy
was added or tightened, or the object changed), the audit posts a Warning
Event, reason ``PolicyViolation``, on the reported object (the Deployment,
not each replica), so ``kubectl describe`` and event-based alerting show it.
Findings already there when the audit starts are the reports' business: a
restart posts nothing.

Deduplicated: one Event per object, policy, check and field path, with a
fixed name; when the same finding appears again it is counted on that Event
(``count``, ``lastTimestamp``: ``kubectl describe`` shows "x3 over 2h")
instead of a new one, and not more than once per ``window`` seconds.
Rate-limited: at most ``per_pass`` Events per audit pass; the rest are
counted in a log line (the reports hold every finding anyway).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from webhook import kube
from webhook.audit import workloads
from webhook.rules import findings

_LOG: Final = logging.getLogger("bulkhead.audit.events")

REASON: Final = "PolicyViolation"
COMPONENT: Final = "bulkhead-audit"
PER_PASS: Final = 20
WINDOW_SECONDS: Final = 600.0
#: Events remembered for counting; the oldest are forgotten beyond this.
_REMEMBERED: Final = 10_000


def event_name(outcome: workloads.Outcome, finding: findings.Finding) -> str:
    """The Event's fixed name for one object, policy, check and path."""
    ref = outcome.reported
    digest = hashlib.sha256(
        "\0".join((ref.kind, ref.name, outcome.policy, finding.check, finding.path)).encode()
    ).hexdigest()[:16]
    return f"{ref.name[:200]}.bulkhead.{digest}"


def _message(outcome: workloads.Outcome, finding: findings.Finding) -> str:
    via = f" (found on {outcome.via.label})" if outcome.via is not None else ""
    return (
        f"{outcome.policy} ({outcome.action}): [{finding.check}] {finding.path}: "
        f"{finding.message}. Fix: {finding.fix}{via}"
    )[:1024]


class Recorder:
    """Posts and counts the Events (see the module docstring)."""

    def __init__(
        self,
        api: kube.Api,
        *,
        per_pass: int = PER_PASS,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._per_pass = per_pass
        self._window = window
        self._clock = clock
        self._monotonic = monotonic
        #: Event (namespace, name) -> (count posted, monotonic time of the last post).
        self._posted: dict[tuple[str, str], tuple[int, float]] = {}
        self.posted = 0
        self.suppressed = 0

    def record(self, appeared: Sequence[tuple[workloads.Outcome, findings.Finding]]) -> None:
        budget = self._per_pass
        dropped = 0
        for outcome, finding in appeared:
            namespace = outcome.reported.namespace
            name = event_name(outcome, finding)
            count, last = self._posted.get((namespace, name), (0, -self._window))
            if self._monotonic() - last < self._window:
                self.suppressed += 1
                continue
            if budget <= 0:
                dropped += 1
                continue
            budget -= 1
            try:
                self._post(outcome, finding, name=name, count=count + 1)
            except kube.ApiError as err:
                _LOG.info("could not post event %s/%s: %s", namespace, name, err)
                continue
            if len(self._posted) >= _REMEMBERED:
                self._posted.pop(next(iter(self._posted)))
            self._posted[(namespace, name)] = (count + 1, self._monotonic())
            self.posted += 1
        if dropped:
            self.suppressed += dropped
            _LOG.info("%d policy violation events over the limit of %d per pass", dropped, budget)

    def _post(
        self, outcome: workloads.Outcome, finding: findings.Finding, *, name: str, count: int
    ) -> None:
        ref = outcome.reported
        now = self._clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        path = f"/api/v1/namespaces/{ref.namespace}/events"
        if count > 1:
            try:
                self._api.request(
                    "PATCH",
                    f"{path}/{name}",
                    body={"count": count, "lastTimestamp": now},
                    content_type="application/merge-patch+json",
                )
                return
            except kube.ApiError as err:
                if err.status != 404:  # expired (events live an hour): post it afresh
                    raise
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": ref.namespace},
            "involvedObject": {
                "apiVersion": workloads.API_VERSIONS.get(ref.kind, "v1"),
                "kind": ref.kind,
                "name": ref.name,
                "namespace": ref.namespace,
                "uid": ref.uid,
            },
            "reason": REASON,
            "message": _message(outcome, finding),
            "type": "Warning",
            "action": outcome.action,
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self._api.request("POST", path, body=body)
        except kube.ApiError as err:
            if err.status != 409:
                raise
            # posted before this process started: count on it
            self._api.request(
                "PATCH",
                f"{path}/{name}",
                body={"count": max(count, 2), "lastTimestamp": now},
                content_type="application/merge-patch+json",
            )
