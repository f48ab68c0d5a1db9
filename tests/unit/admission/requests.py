"""A CREATE AdmissionReview around one object, parsed, for the decision tests."""

from __future__ import annotations

from typing import Any

from webhook import admission

_RESOURCES = {"Pod": ("", "pods"), "Deployment": ("apps", "deployments")}


def create(obj: dict[str, Any], *, kind: str, namespace: str) -> admission.Request:
    group, resource = _RESOURCES[kind]
    return admission.parse(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "u",
                "kind": {"group": group, "version": "v1", "kind": kind},
                "resource": {"group": group, "version": "v1", "resource": resource},
                "namespace": namespace,
                "operation": "CREATE",
                "userInfo": {"username": "alice"},
                "object": obj,
            },
        }
    )
