"""Microseconds per admission decision, JSON parsing excluded.

Judges a realistic ~3.5 KB Deployment (an init container and two containers)
against the ``restricted`` profile plus a policy that turns on every Bulkhead
rule, then pods with 10, 20 and 40 containers to show the cost is linear in
the container count. Then a Service, an Ingress and a ClusterRole under the
same policies (the object rules ``services``, ``ingressTLS`` and ``rbac``):
the webhook's share of what registering those kinds costs (docs/network-and-access.md).
Last, the CPU seconds for one hostile review: a Pod
with 10,000 privileged containers (170,001 violations), decided and encoded
as the server answers it (``webhook.server.bounds``): uncapped, as ``bulkhead
check`` judges, and with the server's default cap of 20 findings per policy
(``--findings-per-policy``), which stops each policy's checks past it. Run:
``make bench`` or ``.venv/bin/python benchmarks/decision.py``.
"""

from __future__ import annotations

import copy
import datetime
import json
import statistics
import time
from typing import Any

from webhook import admission, policy, rules
from webhook.server import bounds, reviews

DIGEST = "sha256:" + "4f" * 32
NOW = datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC)

ALL_RULES: dict[str, Any] = {
    "runAsNonRoot": True,
    "privileged": False,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "hostNamespaces": False,
    "hostPath": {"allowedPrefixes": ["/var/log"]},
    "hostPorts": False,
    "seccomp": "RuntimeDefault",
    "automountServiceAccountToken": False,
    "capabilities": {"requireDrop": ["ALL"], "allowedAdd": ["NET_BIND_SERVICE"]},
    "images": {
        "requireDigest": True,
        "forbidLatest": True,
        "allowedRegistries": ["ghcr.io/acme/", "registry.k8s.io"],
    },
    "resources": {
        "requireLimits": ["cpu", "memory"],
        "requireRequests": ["memory"],
        "maxLimits": {"memory": "4Gi", "cpu": "4"},
    },
    "probes": ["liveness", "readiness"],
    "literalSecretEnv": False,
    "secretsAsEnv": False,
    "services": {"allowedTypes": ["ClusterIP", "LoadBalancer"]},
    "ingressTLS": {"allowedClasses": ["nginx"]},
    "rbac": {"allowedSubjects": ["Group:platform-admins"], "allowedRoles": ["system:*"]},
}


def _policies() -> list[policy.CompiledPolicy]:
    assert set(ALL_RULES) == set(rules.RULES), "the benchmark must enable every rule"
    documents = [
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "restricted"},
            "spec": {"action": "Deny", "profile": {"level": "restricted", "version": "latest"}},
        },
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "everything"},
            "spec": {"action": "Deny", "rules": ALL_RULES},
        },
    ]
    return [policy.compile(d) for d in documents]


def _container(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"ghcr.io/acme/{name}:1.2.3@{DIGEST}",
        "args": ["--listen=:8080", "--log-format=json", "--metrics=:9090"],
        "ports": [{"containerPort": 8080, "name": "http"}, {"containerPort": 9090, "name": "m"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "REGION", "value": "eu-west-1"},
            {"name": "DB_PASSWORD_FILE", "value": "/var/run/secrets/db/password"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}, "periodSeconds": 5},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def deployment(containers: int) -> dict[str, Any]:
    """A Deployment with one init container and ``containers`` regular ones."""
    init = _container("migrate")
    del init["livenessProbe"], init["readinessProbe"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "team-a",
            "labels": {"app": "web", "tier": "frontend", "team": "a"},
            "annotations": {"deployment.kubernetes.io/revision": "7"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "frontend"}},
                "spec": {
                    "serviceAccountName": "web",
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "initContainers": [init],
                    "containers": [_container(f"app{i}") for i in range(containers)],
                    "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory"}}],
                },
            },
        },
    }


#: kind -> (API group, resource) of every kind measured here.
RESOURCES = {
    "Pod": ("", "pods"),
    "Deployment": ("apps", "deployments"),
    "Service": ("", "services"),
    "Ingress": ("networking.k8s.io", "ingresses"),
    "ClusterRole": ("rbac.authorization.k8s.io", "clusterroles"),
}

#: A Service, an Ingress and a ClusterRole as teams write them (every one allowed).
OBJECTS: dict[str, dict[str, Any]] = {
    "Service": {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "team-a", "labels": {"app": "web"}},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        },
    },
    "Ingress": {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "team-a"},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["web.example.com", "*.api.example.com"], "secretName": "web"}],
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
                for host in ("web.example.com", "v1.api.example.com")
            ],
        },
    },
    "ClusterRole": {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "web-reader"},
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["pods", "services", "configmaps"],
                "verbs": ["get", "list", "watch"],
            },
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]},
        ],
    },
}


def review(obj: dict[str, Any]) -> dict[str, Any]:
    group, resource = RESOURCES[obj["kind"]]
    namespace = obj["metadata"].get("namespace")
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "b0c7d1b2-6a8e-4f5e-9d65-1f0e4c1b2a3d",
            "kind": {"group": group, "version": "v1", "kind": obj["kind"]},
            "resource": {"group": group, "version": "v1", "resource": resource},
            **({"namespace": namespace} if namespace else {}),
            "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": obj,
        },
    }


def measure(containers: int, policies: list[policy.CompiledPolicy]) -> tuple[float, int, str]:
    return measure_object(deployment(containers), policies, loops=max(200, 20000 // containers))


def measure_object(
    obj: dict[str, Any], policies: list[policy.CompiledPolicy], *, loops: int = 20000
) -> tuple[float, int, str]:
    body = review(obj)
    size = len(json.dumps(body))
    request = admission.parse(copy.deepcopy(body))
    labels = {"kubernetes.io/metadata.name": "team-a"}
    decision = admission.decide(request, policies, namespace_labels=labels, now=NOW)
    rounds = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(loops):
            admission.decide(request, policies, namespace_labels=labels, now=NOW)
        rounds.append((time.perf_counter() - start) / loops * 1e6)
    return statistics.median(rounds), size, decision.outcome


def privileged_pod(containers: int) -> dict[str, Any]:
    """A Pod whose every container is privileged and breaks most other rules too."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "many", "namespace": "team-a"},
        "spec": {
            "containers": [
                {
                    "name": f"c{i}",
                    "image": "registry.example/app@" + DIGEST,
                    "securityContext": {"privileged": True},
                }
                for i in range(containers)
            ]
        },
    }


#: ``bulkhead serve``'s default ``--findings-per-policy``.
SERVER_CAP = 20


def expensive(containers: int, policies: list[policy.CompiledPolicy], cap: int | None) -> None:
    """CPU seconds to decide and encode the answer to one review of ``privileged_pod``."""
    body = review(privileged_pod(containers))
    body["request"].update(
        kind={"group": "", "version": "v1", "kind": "Pod"},
        resource={"group": "", "version": "v1", "resource": "pods"},
    )
    labels = {"kubernetes.io/metadata.name": "team-a"}
    seconds = []
    for _ in range(3):
        request = admission.parse(copy.deepcopy(body))
        start = time.process_time()
        decision = admission.decide(request, policies, namespace_labels=labels, now=NOW, cap=cap)
        answer = bounds.encoded_review(decision, request.uid)
        seconds.append(time.process_time() - start)
    capped = "uncapped" if cap is None else f"capped at {cap} per policy"
    print(
        f"{containers} privileged containers, {capped}: {decision.outcome}, "
        f"{len(decision.violations)} violations kept, {len(answer)}-byte answer, "
        f"CPU s per review (3 runs): {', '.join(f'{s:.2f}' for s in seconds)}"
    )


def main() -> None:
    policies = _policies()
    reviews.tune_collector()  # as the front and each worker of bulkhead serve do
    print("decision cost: restricted profile + every Bulkhead rule, JSON parsing excluded")
    print(
        f"{'containers':>10} {'review bytes':>12} {'outcome':>8} "
        f"{'us/decision':>12} {'us/container':>13}"
    )
    for containers in (2, 10, 20, 40):
        micros, size, outcome = measure(containers, policies)
        per = micros / (containers + 1)
        print(f"{containers + 1:>10} {size:>12} {outcome:>8} {micros:>12.1f} {per:>13.2f}")
    print()
    print("object kinds under the same policies (services, ingressTLS, rbac)")
    print(f"{'kind':>12} {'review bytes':>12} {'outcome':>8} {'us/decision':>12}")
    for kind, obj in OBJECTS.items():
        micros, size, outcome = measure_object(obj, policies)
        print(f"{kind:>12} {size:>12} {outcome:>8} {micros:>12.1f}")
    expensive(10_000, policies, None)
    expensive(10_000, policies, SERVER_CAP)


if __name__ == "__main__":
    main()
