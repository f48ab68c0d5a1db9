"""Measure what the webhook's pull-secret cache holds on a real apiserver, and print it.

Not a test: it measures and prints. Run from the repository root (it starts
the test harness's etcd + kube-apiserver on loopback):

    .venv/bin/python benchmarks/pull_secrets.py [--namespaces 50] [--per-namespace 20]

In each namespace it creates ``--per-namespace`` Opaque Secrets of 4 KiB
(the Secrets a cluster is mostly made of), as many ServiceAccounts, and one
``kubernetes.io/dockerconfigjson`` and one ``kubernetes.io/dockercfg`` pull
Secret. Then it starts ``pullsecrets.PullSecretCache`` in this process and
prints, once its first lists are in:

* the objects it holds by kind (the Opaque Secrets must be absent: the
  field selector keeps them on the apiserver);
* the Python memory the cache allocated (``tracemalloc``, the difference
  from before it started), total and per object held;
* the bytes the apiserver sent for a list with the field selector and for
  one without (what the selector saves on every re-list).

The machine is shared: the timing is noisy; the memory figures are steady.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import gc
import json
import pathlib
import sys
import time
import tracemalloc
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devcluster import controlplane  # noqa: E402
from webhook import kube  # noqa: E402
from webhook.server import pullsecrets  # noqa: E402


def _pull_secret(name: str, kind: str, index: int) -> dict[str, Any]:
    auth = base64.b64encode(f"user{index}:password-{index:06d}".encode()).decode()
    auths = {f"registry-{index % 7}.example.com": {"auth": auth}}
    config = auths if kind == pullsecrets.DOCKER_CFG else {"auths": auths}
    key = ".dockercfg" if kind == pullsecrets.DOCKER_CFG else ".dockerconfigjson"
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": kind,
        "data": {key: base64.b64encode(json.dumps(config).encode()).decode()},
    }


def _objects(index: int, per_namespace: int) -> list[tuple[str, dict[str, Any]]]:
    filler = base64.b64encode(b"x" * 4096).decode()
    out: list[tuple[str, dict[str, Any]]] = []
    for n in range(per_namespace):
        opaque = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"app-{n}"},
            "type": "Opaque",
            "data": {"blob": filler},
        }
        account = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": f"sa-{n}"},
            "imagePullSecrets": [{"name": "regcred"}],
        }
        out += [("secrets", opaque), ("serviceaccounts", account)]
    out.append(("secrets", _pull_secret("regcred", pullsecrets.DOCKER_CONFIG_JSON, index)))
    out.append(("secrets", _pull_secret("legacy", pullsecrets.DOCKER_CFG, index)))
    return out


def _post(cp: controlplane.ControlPlane, namespace: str, item: tuple[str, dict[str, Any]]) -> None:
    resource, obj = item
    path = f"/api/v1/namespaces/{namespace}/{resource}"
    status, body = cp.request("POST", path, body=json.dumps(obj).encode())
    if status not in (200, 201):
        raise RuntimeError(f"POST {path} -> {status}: {body[:300]!r}")


def _list_bytes(cp: controlplane.ControlPlane, query: str) -> int:
    status, body = cp.request("GET", f"/api/v1/secrets{query}")
    if status != 200:
        raise RuntimeError(f"GET /api/v1/secrets{query} -> {status}")
    return len(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--per-namespace", type=int, default=20)
    args = parser.parse_args()
    with controlplane.ControlPlane() as cp:
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            for index in range(args.namespaces):
                namespace = cp.create_namespace(f"pull-bench-{index:03d}")
                items = _objects(index, args.per_namespace)
                list(pool.map(lambda item, ns=namespace: _post(cp, ns, item), items))
        print(
            f"created {args.namespaces * (args.per_namespace * 2 + 2)} objects in "
            f"{args.namespaces} namespaces in {time.monotonic() - started:.1f}s"
        )
        selected = _list_bytes(cp, f"?fieldSelector=type%3D{pullsecrets.DOCKER_CONFIG_JSON}")
        everything = _list_bytes(cp, "")
        api = kube.Api(kube.client_configuration(kubeconfig=str(cp.kubeconfig)))
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        cache = pullsecrets.PullSecretCache(api=api)
        started = time.monotonic()
        cache.start()
        try:
            if not cache.wait_ready(120):
                raise RuntimeError("the cache did not load within 120 s")
            loaded = time.monotonic() - started
            gc.collect()
            after = tracemalloc.take_snapshot()
            held = dict(cache.sizes)
        finally:
            cache.stop()
            api.close()
        grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        objects = sum(held.values())
        print(f"first lists in {loaded:.2f}s; objects held: {held}")
        print(
            f"cache memory (tracemalloc): {grown / 1024:.0f} KiB, "
            f"{grown / max(objects, 1):.0f} bytes per object held"
        )
        print(
            f"GET /api/v1/secrets: {everything / 1024:.0f} KiB without the field selector, "
            f"{selected / 1024:.0f} KiB with type={pullsecrets.DOCKER_CONFIG_JSON}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
