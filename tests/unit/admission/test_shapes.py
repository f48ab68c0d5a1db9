"""Malformed pod specs are refused with 400 naming the field, never judged or allowed."""

from __future__ import annotations

import copy
import datetime
import pathlib
import subprocess
import sys
import types
from typing import Any

import pytest

from tests.unit.admission import requests
from webhook import admission, policy
from webhook.admission import shapes
from webhook.rules import podview

NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
POLICIES = [
    policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "p"},
            "spec": {"profile": {"level": "restricted"}, "rules": {"privileged": False}},
        },
        latest_minor=35,
    )
]
DEPLOYMENT: dict[str, Any] = {
    "metadata": {"name": "d", "labels": {"app": "d"}},
    "spec": {
        "template": {
            "metadata": {"annotations": {"a": "b"}},
            "spec": {
                "securityContext": {"runAsNonRoot": True, "sysctls": []},
                "containers": [{"name": "a", "image": "x", "securityContext": {}}],
            },
        }
    },
}


def _review(obj: dict[str, Any]) -> admission.Request:
    return requests.create(obj, kind="Deployment", namespace="team")


def _set(
    path: tuple[str | int, ...], value: object, base: dict[str, Any] = DEPLOYMENT
) -> dict[str, Any]:
    """A copy of ``base`` with ``value`` at ``path``."""
    obj = copy.deepcopy(base)
    node: Any = obj
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return obj


SPEC = ("spec", "template", "spec")
CONTAINER = (*SPEC, "containers", 0)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (
            (*CONTAINER, "securityContext"),
            "privileged",
            "spec.template.spec.containers[0].securityContext",
        ),
        (
            (*SPEC, "securityContext", "sysctls"),
            {"name": "x"},
            "spec.template.spec.securityContext.sysctls",
        ),
        (
            (*CONTAINER, "securityContext", "capabilities"),
            ["SYS_ADMIN"],
            "spec.template.spec.containers[0].securityContext.capabilities",
        ),
        (
            (*CONTAINER, "securityContext", "privileged"),
            "true",
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
        ((*SPEC, "hostNetwork"), 1, "spec.template.spec.hostNetwork"),
        ((*SPEC, "containers"), [None], "spec.template.spec.containers[0]"),
        (
            ("spec", "template", "metadata", "annotations", "a"),
            ["b"],
            "spec.template.metadata.annotations.a",
        ),
    ],
    ids=[
        "securityContext-string",
        "sysctls-mapping",
        "capabilities-list",
        "privileged-string",
        "hostNetwork-number",
        "null-container",
        "annotation-list",
    ],
)
def test_a_malformed_spec_is_refused_naming_the_field(
    path: tuple[str | int, ...], value: object, field: str
) -> None:
    decision = admission.decide(_review(_set(path, value)), POLICIES, namespace_labels={}, now=NOW)
    assert decision.allowed is False
    assert decision.code == 400
    assert f"{field}: must" in decision.message


def test_object_metadata_is_checked_too() -> None:
    decision = admission.decide(
        _review(_set(("metadata", "labels", "app"), 7)), POLICIES, namespace_labels={}, now=NOW
    )
    assert (decision.allowed, decision.code) == (False, 400)
    assert "metadata.labels.app: must be a string, not number" in decision.message


def test_a_well_formed_spec_is_judged() -> None:
    decision = admission.decide(_review(DEPLOYMENT), POLICIES, namespace_labels={}, now=NOW)
    assert decision.code == 403
    assert "seccompProfile" in decision.message


def _container(name: str) -> dict[str, Any]:
    handler = {"httpGet": {"host": "h", "port": 80}, "tcpSocket": {"host": "h"}}
    context = {"type": "Localhost", "localhostProfile": "p"}
    return {
        "name": name,
        "image": "ghcr.io/acme/a@sha256:" + "0" * 64,
        "ports": [{"containerPort": 80, "hostPort": 80, "hostIP": "10.0.0.1"}],
        "env": [{"name": "A", "value": "b"}, {"name": "B", "valueFrom": {"x": {}}}],
        "resources": {"limits": {"cpu": "1", "memory": 2}, "requests": {"cpu": 0.5}},
        "livenessProbe": handler,
        "readinessProbe": handler,
        "startupProbe": handler,
        "lifecycle": {"postStart": handler, "preStop": handler},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1,
            "runAsGroup": 1,
            "seccompProfile": context,
            "appArmorProfile": context,
            "seLinuxOptions": {"type": "t", "user": "u", "role": "r", "level": "l"},
            "windowsOptions": {"hostProcess": False, "runAsUserName": "u"},
            "privileged": False,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "procMount": "Default",
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
        },
    }


#: A pod spec with a value at every field the shape table names.
FULL_SPEC: dict[str, Any] = {
    "volumes": [
        {"name": "a", "hostPath": {"path": "/p", "type": "Directory"}},
        {"name": "b", "image": {"reference": "r"}},
        {"name": "c", "emptyDir": {}},
    ],
    "initContainers": [_container("i")],
    "containers": [_container("c")],
    "ephemeralContainers": [_container("e")],
    "securityContext": {
        "runAsNonRoot": True,
        "fsGroup": 1,
        "supplementalGroups": [1, 2],
        "sysctls": [{"name": "n", "value": "v"}],
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "hostNetwork": False,
    "hostPID": False,
    "hostIPC": False,
    "hostUsers": True,
    "automountServiceAccountToken": False,
    "os": {"name": "linux"},
    "unchecked": {"anything": [1, "x"]},
}
WRONG_VALUES: tuple[object, ...] = (None, "x", 1, True, 1.5, [], {}, [None], [1], {"k": 1})


def _places(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path below ``value``: each object member and each list item."""
    inner: list[tuple[str | int, ...]] = []
    if isinstance(value, dict):
        for key, entry in value.items():
            inner += [(*path, key), *_places(entry, (*path, key))]
    elif isinstance(value, list):
        for index, entry in enumerate(value):
            inner += [(*path, index), *_places(entry, (*path, index))]
    return inner


def _refused(spec: object) -> bool:
    """Whether the table's walk, which names the field, refuses ``spec``."""
    return shapes.mismatch(spec, shapes.POD_SPEC_CHECK.walk, "spec") is not None


def test_the_generated_checks_are_current() -> None:
    tool = pathlib.Path(__file__).resolve().parents[3] / "tools" / "generate_shapes.py"
    done = subprocess.run(
        [sys.executable, str(tool), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_generated_check_agrees_with_the_table_on_every_wrong_value() -> None:
    fast = shapes.POD_SPEC_CHECK.fast
    assert fast(FULL_SPEC)
    assert not _refused(FULL_SPEC)
    cases = [(p, w) for p in _places(FULL_SPEC) for w in WRONG_VALUES]
    assert len(cases) > 1500
    refused = 0
    for path, wrong in cases:
        spec = _set(path, wrong, FULL_SPEC)
        assert fast(spec) is not _refused(spec), (path, wrong)
        refused += _refused(spec)
    # most wrong values are refused, so the agreement means something
    assert refused > len(cases) // 2


def test_a_mapping_that_is_no_dict_is_left_to_the_table() -> None:
    spec = copy.deepcopy(FULL_SPEC)
    spec["os"] = types.MappingProxyType({"name": "linux"})
    assert not shapes.POD_SPEC_CHECK.fast(spec)  # stricter: not surely well formed
    assert not _refused(spec)  # and the table accepts it
    shapes.pod_template({"spec": spec}, spec_path="spec", metadata_path="metadata")
    spec["os"] = types.MappingProxyType({"name": 1})
    with pytest.raises(podview.PodSpecError, match=r"spec\.os\.name: must be a string"):
        shapes.pod_template({"spec": spec}, spec_path="spec", metadata_path="metadata")
