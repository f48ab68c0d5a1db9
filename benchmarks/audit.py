"""Benchmark the background audit at scale on a real apiserver, and print the figures.

Not a test: it measures and prints. Run from the repository root (it starts
the test harness's etcd + kube-apiserver on loopback, built and cached by
``tools/controlplane/build.sh``):

    .venv/bin/python benchmarks/audit.py [--namespaces 50] [--pods-per-namespace 100]

What it does:

1. starts a control plane, installs the policy and PolicyReport CRDs and
   two policies: the ``restricted`` profile as ``Audit`` and a ``Deny``
   policy with ``privileged``, ``runAsNonRoot`` and image rules;
2. creates, in each namespace, 5 Deployments with a ReplicaSet each, the
   ReplicaSets' Pods (owner references set, as the controllers would) and
   standalone Pods, 100 Pods in all by default (5,000 in 50 namespaces);
   half the Deployments run privileged. No kubelet runs: the Pods stay
   Pending, which the audit does not care about;
3. starts ``bulkhead audit --watch`` as its own process, and measures
   * the time from its start to the first complete report set: every
     namespace's PolicyReport present with exactly the summary that the
     same judgement (``webhook.audit.store``) computes offline;
   * the apiserver writes to PolicyReports (from the apiserver's own
     ``apiserver_request_total``), at that point and after 10 more seconds
     (it must not keep writing when nothing changes);
   * the controller's memory: peak and current resident set size
     (``VmHWM``, ``VmRSS`` from ``/proc``).

Targets: first complete set within 60 s, memory within 150 MB. The machine
is shared: the figures are noisy; run it a few times before comparing.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devcluster import controlplane  # noqa: E402
from webhook import policy  # noqa: E402
from webhook.audit import store, workloads  # noqa: E402

TARGET_SECONDS = 60.0
TARGET_MB = 150.0
DEPLOYMENTS = 5
STANDALONE = 10
REPORTS = "/apis/wgpolicyk8s.io/v1alpha2"
POLICIES = [
    {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": "restricted-audit"},
        "spec": {"action": "Audit", "profile": {"level": "restricted"}},
    },
    {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": "essentials"},
        "spec": {
            "action": "Deny",
            "rules": {
                "privileged": False,
                "runAsNonRoot": True,
                "images": {"forbidLatest": True},
            },
        },
    },
]


def _spec(*, privileged: bool) -> dict[str, Any]:
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "app",
                "image": "registry.example/shop/app:1.4.2",
                "securityContext": {
                    "privileged": privileged,
                    "allowPrivilegeEscalation": privileged,
                    "capabilities": {"drop": ["ALL"]},
                },
                "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}},
            }
        ],
    }


def _solo(index: int) -> dict[str, Any]:
    """A standalone Pod's spec: the first privileged, the second on a ``:latest`` image."""
    spec = _spec(privileged=index == 0)
    if index == 1:
        spec["containers"][0]["image"] = "busybox:latest"
    return spec


def objects(namespace: str, *, pods: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, collection path, object) for one namespace, owners before what they own."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    per_set = (pods - STANDALONE) // DEPLOYMENTS
    for index in range(DEPLOYMENTS):
        name = f"app-{index}"
        template = {"metadata": {"labels": {"app": name}}, "spec": _spec(privileged=index % 2 == 0)}
        selector = {"matchLabels": {"app": name}}
        out.append(
            (
                "Deployment",
                f"/apis/apps/v1/namespaces/{namespace}/deployments",
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {"replicas": per_set, "selector": selector, "template": template},
                },
            )
        )
        owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        out.append(
            (
                "ReplicaSet",
                f"/apis/apps/v1/namespaces/{namespace}/replicasets",
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": f"{name}-1",
                        "namespace": namespace,
                        # no garbage collector runs here: the uid only has to be present
                        "ownerReferences": [
                            {**owner, "uid": f"{namespace}-{name}", "controller": True}
                        ],
                    },
                    "spec": {"replicas": per_set, "selector": selector, "template": template},
                },
            )
        )
        pod_owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{name}-1"}
        out.extend(
            (
                "Pod",
                f"/api/v1/namespaces/{namespace}/pods",
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"{name}-1-{replica}",
                        "namespace": namespace,
                        "labels": {"app": name},
                        "ownerReferences": [
                            {**pod_owner, "uid": f"{namespace}-{name}-1", "controller": True}
                        ],
                    },
                    "spec": template["spec"],
                },
            )
            for replica in range(per_set)
        )
    out.extend(
        (
            "Pod",
            f"/api/v1/namespaces/{namespace}/pods",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"solo-{index}", "namespace": namespace},
                "spec": _solo(index),
            },
        )
        for index in range(pods - per_set * DEPLOYMENTS)
    )
    return out


def expected_summaries(
    created: dict[str, list[tuple[str, str, dict[str, Any]]]],
) -> dict[str, dict[str, int]]:
    """Every namespace's summary, computed offline by the same judgement."""
    held = store.Store()
    held.set_policies([policy.compile(p, latest_minor=35) for p in POLICIES], invalid={})
    for items in created.values():
        for kind, _, obj in items:
            held.put(workloads.Workload.of(kind, obj))
    held.judge_pending(now=datetime.datetime.now(datetime.UTC))
    out: dict[str, dict[str, int]] = {}
    for namespace in created:
        document = held.document(namespace, cap=1)
        assert document is not None
        out[namespace] = document["summary"]
    return out


def post(cp: controlplane.ControlPlane, path: str, obj: dict[str, Any]) -> None:
    status, body = cp.request("POST", path, body=json.dumps(obj).encode())
    if status not in (200, 201):
        raise RuntimeError(f"POST {path} -> {status}: {body[:300]!r}")


def report_writes(cp: controlplane.ControlPlane) -> int:
    """Create/update/patch/delete requests the apiserver served for the two report kinds."""
    status, body = cp.request("GET", "/metrics")
    if status != 200:
        raise RuntimeError(f"GET /metrics -> {status}")
    total = 0
    pattern = re.compile(r"^apiserver_request_total\{([^}]*)\} ([0-9.e+]+)$")
    for line in body.decode().splitlines():
        found = pattern.match(line)
        if not found:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1)))
        if labels.get("resource") in ("policyreports", "clusterpolicyreports") and labels.get(
            "verb"
        ) in ("POST", "PUT", "PATCH", "APPLY", "DELETE"):
            total += int(float(found.group(2)))
    return total


def memory_mb(pid: int) -> tuple[float, float]:
    """(peak, current) resident set size of ``pid`` in MB."""
    fields = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return (int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024)


def summaries(cp: controlplane.ControlPlane) -> dict[str, dict[str, int]] | None:
    """Every Bulkhead report's summary by namespace (``None`` while the apiserver is not ready)."""
    status, body = cp.request(
        "GET", f"{REPORTS}/policyreports?labelSelector=app.kubernetes.io/managed-by%3Dbulkhead"
    )
    if status != 200:
        return None
    listed = json.loads(body)
    return {item["metadata"]["namespace"]: item["summary"] for item in listed["items"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--pods-per-namespace", type=int, default=100)
    args = parser.parse_args()
    with controlplane.ControlPlane() as cp:
        cp.kubectl("apply", "-f", str(ROOT / "manifests" / "crds"))
        cp.kubectl("apply", "-f", str(ROOT / "manifests" / "policyreports"))
        cp.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        cp.apply(*POLICIES)
        created: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        started = time.monotonic()
        for index in range(args.namespaces):
            namespace = cp.create_namespace(f"audit-bench-{index:03d}")
            created[namespace] = objects(namespace, pods=args.pods_per_namespace)
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            for items in created.values():
                list(pool.map(lambda item: post(cp, item[1], item[2]), items))
        pods = sum(1 for items in created.values() for kind, _, _ in items if kind == "Pod")
        print(
            f"created {pods} Pods and {sum(len(i) for i in created.values()) - pods} controllers "
            f"in {len(created)} namespaces in {time.monotonic() - started:.1f}s"
        )
        wanted = expected_summaries(created)
        writes_before = report_writes(cp)
        bulkhead = pathlib.Path(sys.executable).with_name("bulkhead")
        log = open(os.devnull, "wb")  # noqa: SIM115 - closed after the process ends
        proc = subprocess.Popen(
            [str(bulkhead), "audit", "--watch", "--health-port=0", f"--kubeconfig={cp.kubeconfig}"],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        started = time.monotonic()
        try:
            while summaries(cp) != wanted:
                if proc.poll() is not None:
                    raise RuntimeError(f"bulkhead audit exited with {proc.returncode}")
                if time.monotonic() - started > 600:
                    raise RuntimeError("no complete report set within 600 s")
                time.sleep(0.25)
            elapsed = time.monotonic() - started
            writes = report_writes(cp) - writes_before
            peak, current = memory_mb(proc.pid)
            time.sleep(10)
            writes_later = report_writes(cp) - writes_before
            peak_later, current_later = memory_mb(proc.pid)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
            log.close()
        print(f"first complete report set: {elapsed:.1f}s (target <= {TARGET_SECONDS:.0f}s)")
        print(f"apiserver writes to reports: {writes} at that point, {writes_later} 10s later")
        print(
            f"controller memory: peak {peak:.0f} MB, now {current:.0f} MB; 10s later peak "
            f"{peak_later:.0f} MB, now {current_later:.0f} MB (target <= {TARGET_MB:.0f} MB)"
        )
        total = {k: sum(s[k] for s in wanted.values()) for k in next(iter(wanted.values()))}
        print(f"summary over all reports: {total}")
        ok = elapsed <= TARGET_SECONDS and max(peak, peak_later) <= TARGET_MB
        print("targets met" if ok else "TARGETS MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
