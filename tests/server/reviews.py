"""AdmissionReview request bodies, as kube-apiserver sends them, for every pod-bearing kind."""

from __future__ import annotations

import copy
import uuid
from typing import Any

#: kind -> (group, version, resource, keys from the object to its pod template)
KINDS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "Pod": ("", "v1", "pods", ()),
    "Deployment": ("apps", "v1", "deployments", ("spec", "template")),
    "ReplicaSet": ("apps", "v1", "replicasets", ("spec", "template")),
    "StatefulSet": ("apps", "v1", "statefulsets", ("spec", "template")),
    "DaemonSet": ("apps", "v1", "daemonsets", ("spec", "template")),
    "Job": ("batch", "v1", "jobs", ("spec", "template")),
    "CronJob": ("batch", "v1", "cronjobs", ("spec", "jobTemplate", "spec", "template")),
    "ReplicationController": ("", "v1", "replicationcontrollers", ("spec", "template")),
    "PodTemplate": ("", "v1", "podtemplates", ("template",)),
}


def container(name: str = "app", *, privileged: bool = False) -> dict[str, Any]:
    security: dict[str, Any] = {"allowPrivilegeEscalation": False}
    if privileged:
        security["privileged"] = True
    return {
        "name": name,
        "image": "registry.example/team/app@sha256:" + "a" * 64,
        "securityContext": security,
    }


def pod_spec(*, privileged: bool = False) -> dict[str, Any]:
    return {"containers": [container(privileged=privileged)]}


def workload(kind: str, *, name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    """An object of ``kind`` whose pod template (or, for a Pod, itself) has ``spec``."""
    group, version, _, path = KINDS[kind]
    template: dict[str, Any] = {"metadata": {"labels": {"app": name}}, "spec": spec}
    obj: dict[str, Any] = {
        "apiVersion": f"{group}/{version}" if group else version,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
    }
    if not path:
        obj["spec"] = spec
        return obj
    node = obj
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = template
    return obj


def review(
    obj: dict[str, Any] | None,
    *,
    kind: str | None = None,
    operation: str = "CREATE",
    subresource: str | None = None,
    old: dict[str, Any] | None = None,
    dry_run: bool = False,
    uid: str | None = None,
) -> dict[str, Any]:
    kind = kind or (obj or {})["kind"]
    group, version, resource, _ = KINDS.get(kind, ("", "v1", kind.lower() + "s", ()))
    metadata = (obj or old or {}).get("metadata", {})
    request: dict[str, Any] = {
        "uid": uid or str(uuid.uuid4()),
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": resource},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "name": metadata.get("name", ""),
        "namespace": metadata.get("namespace", ""),
        "operation": operation,
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": copy.deepcopy(obj),
        "oldObject": copy.deepcopy(old),
        "dryRun": dry_run,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    }
    if subresource:
        request["subResource"] = subresource
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def pod_review(*, namespace: str, privileged: bool = False, **kwargs: Any) -> dict[str, Any]:
    obj = workload("Pod", name="web", namespace=namespace, spec=pod_spec(privileged=privileged))
    return review(obj, **kwargs)
