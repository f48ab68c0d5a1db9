"""Objects the end-to-end tests submit: the example manifests and pod-bearing kinds.

Owns: reading ``manifests/examples/``, a compliant pod spec that every
example policy admits, wrapping a pod spec into each pod-bearing kind, and
the field path at which each kind carries its pod spec. Builds plain dicts;
I/O only to read the example files.
"""

from __future__ import annotations

import copy
import pathlib
from collections.abc import Mapping
from typing import Any, Final

import yaml

from devcluster import controlplane

EXAMPLES: Final = controlplane.REPO_ROOT / "manifests" / "examples"
POLICIES_DIR: Final = EXAMPLES / "policies"
DIGEST: Final = "sha256:9f3c5b7e2a4d6c8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e"
COMPLIANT_IMAGE: Final = f"ghcr.io/acme/web:1.4.2@{DIGEST}"

#: kind -> (apiVersion, the field path of its pod spec).
KINDS: Final[Mapping[str, tuple[str, str]]] = {
    "Pod": ("v1", "spec"),
    "Deployment": ("apps/v1", "spec.template.spec"),
    "ReplicaSet": ("apps/v1", "spec.template.spec"),
    "StatefulSet": ("apps/v1", "spec.template.spec"),
    "DaemonSet": ("apps/v1", "spec.template.spec"),
    "Job": ("batch/v1", "spec.template.spec"),
    "CronJob": ("batch/v1", "spec.jobTemplate.spec.template.spec"),
    "ReplicationController": ("v1", "spec.template.spec"),
    "PodTemplate": ("v1", "template.spec"),
}


def load(relative: str) -> dict[str, Any]:
    """The single YAML document at ``manifests/examples/<relative>``."""
    path: pathlib.Path = EXAMPLES / relative
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def compliant_spec() -> dict[str, Any]:
    """A pod spec every example policy admits (the good web Deployment's template)."""
    spec: dict[str, Any] = copy.deepcopy(
        load("good/web-deployment.yaml")["spec"]["template"]["spec"]
    )
    return spec


def privileged_spec() -> dict[str, Any]:
    """The compliant spec with its container made privileged (refused by three policies)."""
    spec = compliant_spec()
    context = spec["containers"][0]["securityContext"]
    context["privileged"] = True
    # The apiserver itself refuses privileged with allowPrivilegeEscalation: false.
    del context["allowPrivilegeEscalation"]
    return spec


def pod(
    name: str, spec: Mapping[str, Any], *, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return wrap("Pod", name, spec, labels=labels)


def wrap(
    kind: str, name: str, spec: Mapping[str, Any], *, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An object of ``kind`` named ``name`` that carries ``spec`` as its pod spec."""
    api_version, _ = KINDS[kind]
    selector_labels = {"app": name}
    metadata: dict[str, Any] = {"name": name, "labels": {**selector_labels, **(labels or {})}}
    pod_spec = dict(copy.deepcopy(spec))
    if kind in ("Job", "CronJob"):
        pod_spec["restartPolicy"] = "Never"
    template = {"metadata": {"labels": selector_labels}, "spec": pod_spec}
    body: dict[str, Any]
    if kind == "Pod":
        body = {"spec": pod_spec}
    elif kind == "PodTemplate":
        body = {"template": template}
    elif kind == "CronJob":
        body = {"spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}}}
    elif kind == "Job":
        body = {"spec": {"template": template}}
    elif kind == "ReplicationController":
        body = {"spec": {"replicas": 1, "selector": selector_labels, "template": template}}
    else:
        body = {
            "spec": {"selector": {"matchLabels": selector_labels}, "template": template},
        }
        if kind == "StatefulSet":
            body["spec"]["serviceName"] = name
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}


def spec_path(kind: str) -> str:
    """Where ``kind`` carries its pod spec, as violations name it."""
    return KINDS[kind][1]
