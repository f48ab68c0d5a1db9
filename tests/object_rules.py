"""One Deny policy of the object rules and objects it judges, shared offline and on the apiserver.

``POLICY`` turns on ``services``, ``ingressTLS``, ``rbac`` and ``secretsAsEnv``
for objects labelled ``SELECTOR`` (so a shared apiserver's other objects are
never judged by it). ``CASES`` are objects a team submits, each with the
``(check, path)`` of every violation Bulkhead must report (none: allowed);
``object_(case, namespace)`` is the object to submit in ``namespace``.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Final

LABEL: Final = ("e2e.bulkhead.dev/object-rules", "judged")
SELECTOR: Final = {"matchLabels": {LABEL[0]: LABEL[1]}}

POLICY: Final = f"""\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {{name: network-and-access}}
spec:
  action: Deny
  rules:
    services: {{allowedTypes: [ClusterIP, LoadBalancer]}}
    ingressTLS: {{allowedClasses: [nginx]}}
    rbac: {{allowedSubjects: ["Group:platform-admins"]}}
    secretsAsEnv: false
  match:
    objectSelector: {{matchLabels: {{{LABEL[0]}: {LABEL[1]}}}}}
"""

_BACKEND: Final = {"service": {"name": "web", "port": {"number": 80}}}
_RBAC: Final = "rbac.authorization.k8s.io/v1"


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    body: dict[str, Any]
    violations: tuple[tuple[str, str], ...] = ()

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])


def _meta(name: str) -> dict[str, Any]:
    return {"name": name, "labels": {LABEL[0]: LABEL[1]}}


def _service(name: str, **spec: Any) -> dict[str, Any]:
    ports = [{"port": 80, "targetPort": 8080}]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name),
        "spec": {"ports": ports, **spec},
    }


def _ingress(name: str, host: str, tls: list[dict[str, Any]]) -> dict[str, Any]:
    rule = {
        "host": host,
        "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": _BACKEND}]},
    }
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(name),
        "spec": {"ingressClassName": "nginx", "tls": tls, "rules": [rule]},
    }


def _role(kind: str, name: str, verbs: list[str], resources: list[str]) -> dict[str, Any]:
    rules = [{"apiGroups": [""], "verbs": verbs, "resources": resources}]
    return {"apiVersion": _RBAC, "kind": kind, "metadata": _meta(name), "rules": rules}


def _admin_binding(name: str, subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": _RBAC,
        "kind": "ClusterRoleBinding",
        "metadata": _meta(name),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-admin",
        },
        "subjects": [subject],
    }


def _pod(name: str, env: list[dict[str, Any]]) -> dict[str, Any]:
    container = {"name": "app", "image": "registry.example/app:1", "env": env}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(name),
        "spec": {"containers": [container]},
    }


_GROUP: Final = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group"}

CASES: Final = (
    Case("service-cluster-ip", _service("web")),
    Case("service-node-port", _service("web-np", type="NodePort"), (("services", "spec.type"),)),
    Case(
        "service-external-ips",
        _service("web-ext", externalIPs=["203.0.113.7"]),
        (("services", "spec.externalIPs"),),
    ),
    Case(
        "service-open-load-balancer",
        _service("web-lb", type="LoadBalancer"),
        (("services", "spec.loadBalancerSourceRanges"),),
    ),
    Case(
        "service-restricted-load-balancer",
        _service("web-lb-ok", type="LoadBalancer", loadBalancerSourceRanges=["10.0.0.0/8"]),
    ),
    Case("ingress-tls", _ingress("shop", "shop.example.com", [{"hosts": ["*.example.com"]}])),
    Case(
        "ingress-plain-http",
        _ingress("shop-plain", "shop.example.com", [{"hosts": ["api.example.com"]}]),
        (("ingressTLS", "spec.rules[0].host"),),
    ),
    Case("role-narrow", _role("Role", "reader", ["get", "list"], ["pods"])),
    Case(
        "role-wildcards",
        _role("Role", "anything", ["*"], ["*"]),
        (("rbac", "rules[0].verbs[0]"), ("rbac", "rules[0].resources[0]")),
    ),
    Case(
        "clusterrole-reads-every-secret",
        _role("ClusterRole", "e2e-secret-reader", ["get", "list"], ["secrets"]),
        (("rbac", "rules[0].resources[0]"),),
    ),
    Case(
        "admin-to-allowed-group",
        _admin_binding("e2e-admins", {**_GROUP, "name": "platform-admins"}),
    ),
    Case(
        "admin-to-a-service-account",
        _admin_binding("e2e-ci-admin", {"kind": "ServiceAccount", "name": "ci", "namespace": "ci"}),
        (("rbac", "subjects[0]"),),
    ),
    Case("pod-env-literal", _pod("literal", [{"name": "MODE", "value": "prod"}])),
    Case(
        "pod-env-from-secret",
        _pod(
            "from-secret",
            [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "t", "key": "t"}}}],
        ),
        (("secretsAsEnv", "spec.containers[0].env[0].valueFrom.secretKeyRef"),),
    ),
)


def object_(case: Case, namespace: str) -> dict[str, Any]:
    """The case's object, placed in ``namespace`` unless it is cluster-scoped."""
    body = copy.deepcopy(case.body)
    if not case.kind.startswith("Cluster"):
        body["metadata"]["namespace"] = namespace
    return body
