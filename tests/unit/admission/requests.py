"""AdmissionReview requests around one object, parsed, for the decision tests."""

from __future__ import annotations

from typing import Any

from webhook import admission

_RESOURCES = {
    "Pod": ("", "pods"),
    "Deployment": ("apps", "deployments"),
    "ConfigMap": ("", "configmaps"),
}


def review(
    obj: dict[str, Any],
    *,
    kind: str,
    namespace: str,
    operation: str = "CREATE",
    username: str = "alice",
    subresource: str | None = None,
) -> admission.Request:
    group, resource = _RESOURCES[kind]
    request: dict[str, Any] = {
        "uid": "u",
        "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": resource},
        "namespace": namespace,
        "operation": operation,
        "userInfo": {"username": username},
        "object": obj,
    }
    if subresource is not None:
        request["subResource"] = subresource
    return admission.parse(
        {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
    )


def create(obj: dict[str, Any], *, kind: str, namespace: str) -> admission.Request:
    return review(obj, kind=kind, namespace=namespace)


SAFE_CONTEXT = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
}


def pod_with(*, privileged: int, safe: int = 0, root: bool = False) -> dict[str, Any]:
    """Pod ``team-a/p``: privileged containers ``priv-<i>``, then compliant ones ``safe-<i>``.

    The pod runs as root (``runAsUser: 0``) when ``root``, else as non-root.
    """
    containers = [
        {
            "name": f"priv-{i}",
            "image": "registry.k8s.io/pause",
            "securityContext": {"privileged": True},
        }
        for i in range(privileged)
    ] + [
        {"name": f"safe-{i}", "image": "registry.k8s.io/pause", "securityContext": SAFE_CONTEXT}
        for i in range(safe)
    ]
    context: dict[str, Any] = {"seccompProfile": {"type": "RuntimeDefault"}}
    context.update({"runAsUser": 0} if root else {"runAsNonRoot": True})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "team-a"},
        "spec": {"securityContext": context, "containers": containers},
    }
