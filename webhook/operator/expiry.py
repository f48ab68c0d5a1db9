"""Exclusions that expire: the metric, and status kept true as time passes. Network I/O.

A policy's status lists the exclusions expiring within the window and
those already expired (``status.exclusions``); the handlers write it when a
policy changes, but time passing changes no object, so ``sweep`` (run every
``--check-interval`` by ``sweeps.run``) lists both policy kinds, and patches the status of each
whose ``exclusions`` block is no longer what ``status.desired`` says.

``Gauge`` keeps ``bulkhead_exclusion_earliest_expiry_timestamp_seconds
{policy}``: the Unix time at which a policy's first dated exclusion expires
(or expired: an expired entry still in the policy stays the earliest until
it is removed); policies with no dated exclusion have no series.
"""

from __future__ import annotations

import datetime
import threading

import prometheus_client

from webhook import kube, policy
from webhook.operator import status, sweeps


class Gauge:
    """The earliest exclusion expiry per policy key (the handlers and the sweep both set it)."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        self._gauge = prometheus_client.Gauge(
            "bulkhead_exclusion_earliest_expiry_timestamp_seconds",
            "When the policy's first dated exclusion expires (Unix time).",
            ["policy"],
            registry=registry,
        )
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def observe(self, key: str, earliest: datetime.datetime | None) -> None:
        with self._lock:
            if earliest is None:
                self._forget(key)
                return
            self._gauge.labels(policy=key).set(earliest.timestamp())
            self._keys.add(key)

    def forget(self, key: str) -> None:
        with self._lock:
            self._forget(key)

    def keep_only(self, keys: set[str]) -> None:
        with self._lock:
            for gone in self._keys - keys:
                self._forget(gone)

    def _forget(self, key: str) -> None:
        if key in self._keys:
            self._keys.discard(key)
            self._gauge.remove(key)


def sweep(
    api: kube.Api,
    gauge: Gauge,
    *,
    latest_minor: int,
    window: datetime.timedelta,
    now: datetime.datetime,
) -> int:
    """Bring every policy's ``exclusions`` status and metric up to ``now``; patches written."""
    patched = 0
    seen: set[str] = set()
    for plural, item in sweeps.policies(api):
        key = policy.policy_key(item)
        seen.add(key)
        outcome = status.desired(item, latest_minor=latest_minor, now=now, expiry_window=window)
        gauge.observe(key, outcome.earliest_expiry)
        current = item.get("status")
        wanted = outcome.status.get("exclusions")
        if (current or {}).get("exclusions") == wanted or not outcome.ready:
            continue
        api.request(
            "PATCH",
            sweeps.status_path(item, plural),
            body={"status": {"exclusions": status.exclusions_patch(outcome)}},
            content_type="application/merge-patch+json",
        )
        patched += 1
    gauge.keep_only(seen)
    return patched
