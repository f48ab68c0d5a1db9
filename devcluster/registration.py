"""How the apiserver finds Bulkhead: the webhook configuration and its Service route.

Owns: the ``ValidatingWebhookConfiguration`` Bulkhead is registered with
(every pod-bearing resource and ``pods/ephemeralcontainers``, CREATE and
UPDATE, ``failurePolicy: Fail``, ``sideEffects: None``, a namespaceSelector
that exempts kube-system and the webhook's own namespace so the cluster can
never be locked out), the two ways to reach the webhook (a loopback URL, or
a Service), and waiting until the apiserver uses a new registration.

Routing through a Service here: there is no kube-proxy and no cluster
network, and the apiserver resolves a webhook Service itself. A ClusterIP
Service resolves to its ClusterIP (unreachable here); an ``ExternalName``
Service resolves to ``<externalName>:<port>``, so ``externalName:
localhost`` reaches the webhook on loopback while TLS is still verified
against ``<service>.<namespace>.svc``, exactly as in a real cluster.

I/O: none, except :func:`wait_for_refusal`, :func:`wait_until_judged` and
:func:`registered_for`, which run the real kubectl through a ``ControlPlane``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from devcluster import controlplane

#: The webhook's own namespace and Service name (as the chart installs it).
WEBHOOK_NAMESPACE: Final = "bulkhead-system"
SERVICE_NAME: Final = "bulkhead"
#: The ValidatingWebhookConfiguration's name and its webhook's name.
CONFIGURATION_NAME: Final = "bulkhead"
WEBHOOK_NAME: Final = "validate.bulkhead.dev"
WEBHOOK_PATH: Final = "/validate"
#: Namespaces the webhook is never called for (the cluster cannot be locked out).
EXEMPT_NAMESPACES: Final = ("kube-system", WEBHOOK_NAMESPACE)

_OPERATIONS: Final = ["CREATE", "UPDATE"]
#: Every resource that carries a pod spec, and the ephemeral-containers subresource.
RULES: Final[tuple[Mapping[str, Any], ...]] = (
    {
        "apiGroups": [""],
        "apiVersions": ["v1"],
        "operations": _OPERATIONS,
        "resources": [
            "pods",
            "pods/ephemeralcontainers",
            "replicationcontrollers",
            "podtemplates",
        ],
        "scope": "Namespaced",
    },
    {
        "apiGroups": ["apps"],
        "apiVersions": ["v1"],
        "operations": _OPERATIONS,
        "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"],
        "scope": "Namespaced",
    },
    {
        "apiGroups": ["batch"],
        "apiVersions": ["v1"],
        "operations": _OPERATIONS,
        "resources": ["jobs", "cronjobs"],
        "scope": "Namespaced",
    },
)


#: The resources of the object rules (``services``, ``ingressTLS``, ``rbac``), as the chart
#: registers them when ``webhook.objectRules`` turns each on; cluster-scoped RBAC included;
#: and the updates and deletions of NetworkPolicies ``networkPolicy`` judges.
OBJECT_RULES: Final[Mapping[str, Mapping[str, Any]]] = {
    "services": {
        "apiGroups": [""],
        "apiVersions": ["v1"],
        "operations": _OPERATIONS,
        "resources": ["services"],
        "scope": "Namespaced",
    },
    "ingressTLS": {
        "apiGroups": ["networking.k8s.io"],
        "apiVersions": ["v1"],
        "operations": _OPERATIONS,
        "resources": ["ingresses"],
        "scope": "Namespaced",
    },
    "rbac": {
        "apiGroups": ["rbac.authorization.k8s.io"],
        "apiVersions": ["v1"],
        "operations": _OPERATIONS,
        "resources": ["roles", "rolebindings", "clusterroles", "clusterrolebindings"],
        "scope": "*",
    },
    "networkPolicy": {
        "apiGroups": ["networking.k8s.io"],
        "apiVersions": ["v1"],
        "operations": ["UPDATE", "DELETE"],
        "resources": ["networkpolicies"],
        "scope": "Namespaced",
    },
}


def url_client_config(url: str, *, ca_pem: bytes) -> dict[str, Any]:
    """``clientConfig`` calling the webhook at a URL (loopback in tests)."""
    return {"url": url, "caBundle": base64.b64encode(ca_pem).decode()}


def service_client_config(
    *, namespace: str, name: str, port: int, ca_pem: bytes | None, path: str = WEBHOOK_PATH
) -> dict[str, Any]:
    """``clientConfig`` calling the webhook through a Service (TLS name ``<name>.<ns>.svc``).

    With ``ca_pem=None`` there is no caBundle yet: the operator injects it.
    """
    config: dict[str, Any] = {
        "service": {"namespace": namespace, "name": name, "path": path, "port": port}
    }
    if ca_pem is not None:
        config["caBundle"] = base64.b64encode(ca_pem).decode()
    return config


def external_name_service(
    *, namespace: str, name: str, port: int, host: str = "localhost"
) -> dict[str, Any]:
    """A Service the apiserver resolves to ``host:port`` (no proxy, no endpoints needed)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": "bulkhead"},
        },
        "spec": {
            "type": "ExternalName",
            "externalName": host,
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        },
    }


def namespace_selector(
    *,
    exempt: Sequence[str] = EXEMPT_NAMESPACES,
    extra_expressions: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Every namespace but ``exempt`` (by ``kubernetes.io/metadata.name``), narrowed further."""
    return {
        "matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": list(exempt)},
            *(dict(e) for e in extra_expressions),
        ]
    }


def webhook_configuration(
    *,
    name: str,
    webhook_name: str,
    client_config: Mapping[str, Any],
    selector: Mapping[str, Any] | None = None,
    failure_policy: str = "Fail",
    timeout_seconds: int = 10,
    rules: Sequence[Mapping[str, Any]] = RULES,
    object_selector: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``ValidatingWebhookConfiguration`` that registers Bulkhead (``rules``: what for)."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "bulkhead"}},
        "webhooks": [
            {
                "name": webhook_name,
                "clientConfig": dict(client_config),
                "rules": [dict(rule) for rule in rules],
                "namespaceSelector": dict(selector or namespace_selector()),
                **({"objectSelector": dict(object_selector)} if object_selector else {}),
                "matchPolicy": "Equivalent",
                "failurePolicy": failure_policy,
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": timeout_seconds,
            }
        ],
    }


def violating_pod(name: str, *, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A Pod every example policy refuses (privileged), for probing and tests."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": {
            "containers": [
                {
                    "name": "probe",
                    "image": "registry.invalid/probe:1.0",
                    "securityContext": {"privileged": True},
                }
            ]
        },
    }


def dry_run_create(
    cp: controlplane.ControlPlane, namespace: str, document: Mapping[str, Any]
) -> tuple[int, str]:
    """``kubectl create --dry-run=server`` of ``document``: (exit status, stderr)."""
    result = cp.kubectl(
        "create",
        "--dry-run=server",
        "-n",
        namespace,
        "-f",
        "-",
        input_text=json.dumps(document),
        check=False,
    )
    return result.returncode, result.stderr


def wait_for_refusal(
    cp: controlplane.ControlPlane,
    *,
    namespace: str,
    expected: str,
    probe: Mapping[str, Any] | None = None,
    timeout: float = 30.0,
) -> str:
    """Dry-run ``probe`` (a violating Pod) until kubectl's error contains ``expected``.

    Webhook configurations reach the apiserver's admission chain through an
    informer, a moment after they are stored; this waits for that moment.
    Returns kubectl's stderr from the refusal.
    """
    document = probe or violating_pod(f"probe-{secrets.token_hex(3)}")
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        code, last = dry_run_create(cp, namespace, document)
        if code != 0 and expected in last:
            return last
        time.sleep(0.2)
    raise controlplane.ControlPlaneError(
        f"no refusal with {expected!r} in {namespace} within {timeout:.0f}s; "
        f"last kubectl stderr:\n{last}"
    )


def wait_until_judged(
    cp: controlplane.ControlPlane,
    *,
    namespace: str,
    webhook_name: str,
    probe: Mapping[str, Any] | None = None,
    timeout: float = 30.0,
) -> None:
    """Wait until ``webhook_name`` refuses a violating Pod in ``namespace``."""
    wait_for_refusal(
        cp,
        namespace=namespace,
        expected=f'admission webhook "{webhook_name}" denied the request',
        probe=probe,
        timeout=timeout,
    )


@contextlib.contextmanager
def registered_for(
    cp: controlplane.ControlPlane,
    *,
    namespace: str,
    webhook_name: str,
    validate_url: str,
    ca_pem: bytes,
    probe: Mapping[str, Any],
    rules: Sequence[Mapping[str, Any]] = RULES,
    object_selector: Mapping[str, Any] | None = None,
) -> Iterator[None]:
    """A webhook configuration of its own for ``namespace`` only, in use until the block ends.

    Registers ``webhook_name`` at ``validate_url`` as the chart registers
    Bulkhead (for ``rules``), narrowed to one namespace (cluster-scoped objects
    have none: ``object_selector`` narrows those), and waits until it refuses
    ``probe``.
    """
    config_name = f"bulkhead-{webhook_name.partition('.')[0]}-{namespace}"
    only_this_namespace = {
        "key": "kubernetes.io/metadata.name",
        "operator": "In",
        "values": [namespace],
    }
    cp.apply(
        webhook_configuration(
            name=config_name,
            webhook_name=webhook_name,
            client_config=url_client_config(validate_url, ca_pem=ca_pem),
            selector=namespace_selector(extra_expressions=[only_this_namespace]),
            rules=rules,
            object_selector=object_selector,
        )
    )
    try:
        wait_until_judged(cp, namespace=namespace, webhook_name=webhook_name, probe=probe)
        yield
    finally:
        cp.kubectl("delete", "validatingwebhookconfiguration", config_name, "--ignore-not-found")
