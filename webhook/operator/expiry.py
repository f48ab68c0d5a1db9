"""Exclusions that expire: the metric, and status kept true as time passes. Network I/O.

A policy's status lists the exclusions expiring within the window and
those already expired (``status.exclusions``); the handlers write it when a
policy changes, but time passing changes no object, so ``run`` sweeps every
``interval``: it lists both policy kinds, and patches the status of each
whose ``exclusions`` block is no longer what ``status.desired`` says.

``Gauge`` keeps ``bulkhead_exclusion_earliest_expiry_timestamp_seconds
{policy}``: the Unix time at which a policy's first dated exclusion expires
(or expired: an expired entry still in the policy stays the earliest until
it is removed); policies with no dated exclusion have no series.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Final

import prometheus_client

from webhook import kube, policy
from webhook.operator import status
from webhook.policy import crds

_LOG: Final = logging.getLogger("bulkhead.operator.expiry")


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


def status_path(item: Mapping[str, Any], plural: str) -> str:
    """The status subresource of policy ``item`` (of the kind ``plural`` names)."""
    metadata = item.get("metadata") or {}
    base = f"/apis/{crds.GROUP}/{crds.VERSION}"
    namespace = metadata.get("namespace")
    where = f"/namespaces/{namespace}" if namespace else ""
    return f"{base}{where}/{plural}/{metadata.get('name')}/status"


def policies(api: kube.Api) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every policy object of both kinds, listed now, each with its plural."""
    api_version = f"{crds.GROUP}/{crds.VERSION}"
    for kind, plural in crds.PLURALS.items():
        listed = api.request("GET", f"/apis/{api_version}/{plural}")
        for listed_item in listed.get("items") or ():
            # A List's items omit apiVersion and kind.
            yield plural, {**listed_item, "apiVersion": api_version, "kind": kind}


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
    for plural, item in policies(api):
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
            status_path(item, plural),
            body={"status": {"exclusions": status.exclusions_patch(outcome)}},
            content_type="application/merge-patch+json",
        )
        patched += 1
    gauge.keep_only(seen)
    return patched


async def run(
    api: kube.Api,
    gauge: Gauge,
    *,
    latest_minor: int,
    window: datetime.timedelta,
    interval: float,
    stop: asyncio.Event,
) -> None:
    """Sweep every ``interval`` seconds until ``stop`` is set; a failed sweep is logged."""
    _LOG.info("exclusion expiry: within %s listed, swept every %.1fs", window, interval)
    while not stop.is_set():
        try:
            patched = await asyncio.to_thread(
                sweep,
                api,
                gauge,
                latest_minor=latest_minor,
                window=window,
                now=datetime.datetime.now(datetime.UTC),
            )
            _LOG.log(
                logging.INFO if patched else logging.DEBUG,
                "exclusion expiry: %d policy statuses updated",
                patched,
            )
        except kube.ApiError as err:
            _LOG.warning("exclusion expiry sweep failed: %s", err)
        except Exception:  # a bug must not stop the sweep silently
            _LOG.exception("exclusion expiry sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
