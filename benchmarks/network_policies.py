"""Benchmark what watching NetworkPolicies costs the webhook's cache, and print the figures.

Not a test: it measures and prints. Run from the repository root:

    .venv/bin/python benchmarks/network_policies.py [--namespaces 5000] [--allow-per-namespace 4]

Feeds the policy cache (``webhook.policy.cache.PolicyCache``, never started:
no apiserver) a list of NetworkPolicy objects shaped as the apiserver
returns them, through the same slimming the reflector applies, in each
namespace one default-deny policy and ``--allow-per-namespace`` allow
policies, then measures:

* the memory the cache keeps for them (``tracemalloc``: what is still
  allocated once the listed objects are dropped), in total and per
  NetworkPolicy;
* the time to apply one watch event (a NetworkPolicy modified), which
  republishes the whole table, and to judge a deletion
  (``Isolation.replaced``), median of a few hundred.

The webhook watches NetworkPolicies whether or not a policy uses
``networkPolicy`` because these figures are small. The machine is shared:
timings are noisy; run it a few times before comparing.
"""

from __future__ import annotations

import argparse
import gc
import pathlib
import statistics
import sys
import time
import tracemalloc
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import kubernetes  # noqa: E402

from webhook import kube  # noqa: E402
from webhook.policy import cache  # noqa: E402

ROUNDS = 300


def _netpol(namespace: str, name: str, *, deny: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    if not deny:
        spec["podSelector"] = {"matchLabels": {"app": name}}
        spec["ingress"] = [
            {
                "from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}],
                "ports": [{"protocol": "TCP", "port": 8080}],
            }
        ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"{namespace}-{name}-0000-0000-000000000000",
            "resourceVersion": "12345",
            "generation": 1,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app.kubernetes.io/managed-by": "helm"},
        },
        "spec": spec,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=5000)
    parser.add_argument("--allow-per-namespace", type=int, default=4)
    args = parser.parse_args()

    held = cache.PolicyCache(api=kube.Api(kubernetes.client.Configuration()))
    items = [
        _netpol(f"ns-{i}", name, deny=name == "default-deny")
        for i in range(args.namespaces)
        for name in ["default-deny", *(f"allow-{j}" for j in range(args.allow_per_namespace))]
    ]
    count = len(items)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    slimmed = [cache.slim_network_policy(item) for item in items]
    held.listed(cache.NETWORK_POLICIES, slimmed)
    del slimmed, items
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    kept = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    isolation = held.isolation
    assert isolation.known
    assert len(isolation.denying) == args.namespaces

    modified = cache.slim_network_policy(_netpol("ns-0", "default-deny", deny=True))
    event: list[float] = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        held.changed(cache.NETWORK_POLICIES, "MODIFIED", modified)
        event.append(time.perf_counter() - started)
    deletion: list[float] = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        isolation.replaced("ns-0", "default-deny", None)
        deletion.append(time.perf_counter() - started)

    print(f"NetworkPolicies listed: {count} in {args.namespaces} namespaces")
    print(f"memory kept by the cache: {kept / 1e6:.2f} MB ({kept / count:.0f} B per NetworkPolicy)")
    print(f"one watch event (republish): median {statistics.median(event) * 1e3:.2f} ms")
    print(f"judging a deletion (replaced): median {statistics.median(deletion) * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
