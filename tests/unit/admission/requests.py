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
