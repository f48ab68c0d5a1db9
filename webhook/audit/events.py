"""Kubernetes Events for findings the background audit sees appear. Network I/O (``events``).

When a finding appears on an object after the first complete pass (a policy
was added or tightened, or the object changed), the audit posts a Warning
Event, reason ``PolicyViolation``, on the reported object (the Deployment,
not each replica), so ``kubectl describe`` and event-based alerting show it.
Findings already there when the audit starts are the reports' business: a
restart posts nothing.

Deduplicated by ``webhook.kube.events``: one Event per object, policy, check and
field path, counted when the finding appears again, and not written more
than once per ``window`` seconds. Rate-limited: at most ``per_pass`` Events
per audit pass; the rest are counted in a log line (the reports hold every
finding anyway).
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Sequence
from typing import Final

from webhook import kube
from webhook.audit import workloads
from webhook.kube import events
from webhook.rules import findings

_LOG: Final = logging.getLogger("bulkhead.audit.events")

REASON: Final = "PolicyViolation"
COMPONENT: Final = "bulkhead-audit"
PER_PASS: Final = 20


def note(outcome: workloads.Outcome, finding: findings.Finding) -> events.Note:
    """The Event for ``finding`` of ``outcome`` on the reported object."""
    ref = outcome.reported
    via = f" (found on {outcome.via.label})" if outcome.via is not None else ""
    return events.Note(
        involved=events.Involved(
            api_version=workloads.API_VERSIONS.get(ref.kind, "v1"),
            kind=ref.kind,
            name=ref.name,
            namespace=ref.namespace,
            uid=ref.uid or None,
        ),
        key="\0".join((outcome.policy, finding.check, finding.path)),
        reason=REASON,
        message=f"{outcome.policy} ({outcome.action}): [{finding.check}] {finding.path}: "
        f"{finding.message}. Fix: {finding.fix}{via}",
        action=outcome.action,
    )


class Recorder:
    """Posts and counts the Events (see the module docstring)."""

    def __init__(
        self,
        api: kube.Api,
        *,
        per_pass: int = PER_PASS,
        window: float = events.WINDOW_SECONDS,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._poster = events.Poster(
            api, component=COMPONENT, window=window, clock=clock, monotonic=monotonic
        )
        self._per_pass = per_pass
        self.posted = 0
        self.suppressed = 0

    def record(self, appeared: Sequence[tuple[workloads.Outcome, findings.Finding]]) -> None:
        budget = self._per_pass
        dropped = 0
        for outcome, finding in appeared:
            event = note(outcome, finding)
            if not self._poster.due(event):
                self.suppressed += 1
                continue
            if budget <= 0:
                dropped += 1
                continue
            budget -= 1
            try:
                self._poster.post(event)
            except kube.ApiError as err:
                _LOG.info("could not post event %s/%s: %s", event.namespace, event.name, err)
                continue
            self.posted += 1
        if dropped:
            self.suppressed += dropped
            _LOG.info(
                "%d policy violation events over the limit of %d per pass", dropped, self._per_pass
            )
