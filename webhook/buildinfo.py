"""``bulkhead_build_info``: the one metric every Bulkhead process serves alike. No I/O.

A gauge always 1, labelled with what was built and how it runs: ``version``
(Bulkhead's), ``python`` (the interpreter's version) and ``component``
(``webhook``, ``operator`` or ``audit``). Joining on it tells which version
produced a series, and ``count by (version) (bulkhead_build_info)`` shows a
rollout in progress.
"""

from __future__ import annotations

import platform

import prometheus_client

import webhook


def register(registry: prometheus_client.CollectorRegistry, *, component: str) -> None:
    """Add ``bulkhead_build_info`` for ``component`` to ``registry``."""
    info = prometheus_client.Gauge(
        "bulkhead_build_info",
        "Always 1: the running Bulkhead's version, Python version and component.",
        ("version", "python", "component"),
        registry=registry,
    )
    info.labels(webhook.__version__, platform.python_version(), component).set(1)
