"""The background audit's Prometheus metrics, read from the controller at scrape time. No I/O.

``Collector`` reads ``controller.Controller``'s counters when scraped (the
controller keeps plain integers; nothing is updated twice). Names:

* ``bulkhead_audit_passes_total``: audit passes that completed;
* ``bulkhead_audit_pass_failures_total``: passes that failed (a report
  write refused, or an error) and were retried;
* ``bulkhead_audit_watch_failures_total``: list/watch failures of the
  workload kinds and policies (each is retried with backoff);
* ``bulkhead_audit_last_success_timestamp_seconds``: when a pass last
  completed (Unix time; absent before the first);
* ``bulkhead_audit_first_report_seconds``: start to the first complete
  report set (absent before it);
* ``bulkhead_audit_report_writes_total``, ``bulkhead_audit_report_deletes_total``:
  PolicyReports written and deleted;
* ``bulkhead_audit_events_posted_total``, ``bulkhead_audit_events_suppressed_total``:
  PolicyViolation Events posted, and held back by deduplication or the limit;
* ``bulkhead_audit_results{result}``: results in the reports now (pass,
  fail, warn, skip, error: the reports' summaries added up);
* ``bulkhead_build_info{version, python, component="audit"}``: always 1.
"""

from __future__ import annotations

from collections.abc import Iterator

import prometheus_client
import prometheus_client.core
import prometheus_client.registry

from webhook import buildinfo
from webhook.audit import controller, reports


class Collector(prometheus_client.registry.Collector):
    """The audit's metric families, read from ``audit`` on every scrape."""

    def __init__(self, audit: controller.Controller) -> None:
        self._audit = audit

    def collect(self) -> Iterator[prometheus_client.core.Metric]:
        audit = self._audit
        core = prometheus_client.core
        for name, help_text, value in (
            ("bulkhead_audit_passes", "Audit passes completed.", audit.passes),
            ("bulkhead_audit_pass_failures", "Audit passes that failed.", audit.failures),
            (
                "bulkhead_audit_watch_failures",
                "List/watch failures of the watched kinds.",
                audit.watch_failures,
            ),
            ("bulkhead_audit_report_writes", "PolicyReports written.", audit.writes),
            ("bulkhead_audit_report_deletes", "PolicyReports deleted.", audit.deletes),
            (
                "bulkhead_audit_events_posted",
                "PolicyViolation Events posted.",
                audit.events.posted,
            ),
            (
                "bulkhead_audit_events_suppressed",
                "PolicyViolation Events held back (deduplicated or over the limit).",
                audit.events.suppressed,
            ),
        ):
            yield core.CounterMetricFamily(name, help_text, value=value)
        if audit.last_success is not None:
            yield core.GaugeMetricFamily(
                "bulkhead_audit_last_success_timestamp_seconds",
                "When an audit pass last completed (Unix time).",
                value=audit.last_success,
            )
        if audit.first_pass is not None:
            yield core.GaugeMetricFamily(
                "bulkhead_audit_first_report_seconds",
                "Seconds from start to the first complete report set.",
                value=audit.first_pass - audit.started,
            )
        results = core.GaugeMetricFamily(
            "bulkhead_audit_results",
            "Results in the reports now, by result.",
            labels=("result",),
        )
        totals = dict.fromkeys(reports.SUMMARY_KEYS, 0)
        for document in audit.documents().values():
            summary = document.get("summary") or {}
            for key in totals:
                count = summary.get(key)
                totals[key] += count if isinstance(count, int) else 0
        for key, total in totals.items():
            results.add_metric((key,), total)
        yield results


def registry(audit: controller.Controller) -> prometheus_client.CollectorRegistry:
    """A registry serving the audit's metrics and ``bulkhead_build_info``."""
    made = prometheus_client.CollectorRegistry()
    buildinfo.register(made, component="audit")
    made.register(Collector(audit))
    return made
