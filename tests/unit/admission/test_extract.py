"""Finding the pod spec in every pod-bearing kind, with the right path prefix."""

from __future__ import annotations

from typing import Any

import pytest

from webhook import policy
from webhook.admission import extract
from webhook.rules import podview

SPEC: dict[str, Any] = {"containers": [{"name": "app", "image": "nginx"}]}
TEMPLATE: dict[str, Any] = {"metadata": {"labels": {"a": "b"}}, "spec": SPEC}

OBJECTS = [
    ("Pod", {"metadata": {"name": "p"}, "spec": SPEC}, "spec"),
    ("Deployment", {"spec": {"template": TEMPLATE}}, "spec.template.spec"),
    ("ReplicaSet", {"spec": {"template": TEMPLATE}}, "spec.template.spec"),
    ("StatefulSet", {"spec": {"template": TEMPLATE}}, "spec.template.spec"),
    ("DaemonSet", {"spec": {"template": TEMPLATE}}, "spec.template.spec"),
    ("Job", {"spec": {"template": TEMPLATE}}, "spec.template.spec"),
    ("ReplicationController", {"spec": {"template": TEMPLATE}}, "spec.template.spec"),
    (
        "CronJob",
        {"spec": {"jobTemplate": {"spec": {"template": TEMPLATE}}}},
        "spec.jobTemplate.spec.template.spec",
    ),
    ("PodTemplate", {"template": TEMPLATE}, "template.spec"),
]


@pytest.mark.parametrize(("kind", "obj", "prefix"), OBJECTS, ids=[o[0] for o in OBJECTS])
def test_every_kind(kind: str, obj: dict[str, Any], prefix: str) -> None:
    view = extract.pod_view(kind, obj)
    assert view is not None
    assert view.spec_path == prefix
    assert view.metadata_path == prefix.removesuffix("spec") + "metadata"
    (container,) = view.containers
    assert container.path == f"{prefix}.containers[0]"


@pytest.mark.parametrize(
    ("kind", "obj"),
    [
        ("Deployment", {"spec": {"replicas": 1}}),
        ("CronJob", {"spec": {"jobTemplate": {}}}),
        ("PodTemplate", {"template": {"metadata": {}}}),
        ("ConfigMap", {"data": {}}),
    ],
    ids=[
        "deployment-without-template",
        "cronjob-without-template",
        "template-without-spec",
        "configmap",
    ],
)
def test_nothing_to_judge(kind: str, obj: dict[str, Any]) -> None:
    assert extract.pod_view(kind, obj) is None


@pytest.mark.parametrize(
    ("kind", "obj", "path"),
    [
        ("Deployment", {"spec": {"template": []}}, "spec.template"),
        ("Deployment", {"spec": []}, "spec"),
        ("Pod", {"spec": {"containers": {"name": "x"}}}, "spec.containers"),
        ("Pod", {"spec": {"initContainers": ["x"]}}, "spec.initContainers[0]"),
        (
            "Pod",
            {"spec": {"containers": [{"securityContext": 1}]}},
            "spec.containers[0].securityContext",
        ),
    ],
    ids=["template-list", "spec-list", "containers-object", "container-string", "sc-number"],
)
def test_broken_specs_name_the_field(kind: str, obj: dict[str, Any], path: str) -> None:
    with pytest.raises(podview.PodSpecError) as err:
        extract.pod_view(kind, obj)
    assert err.value.path == path


def test_all_three_container_kinds_in_order() -> None:
    spec = {
        "containers": [{"name": "a"}, {"name": "b"}],
        "initContainers": [{"name": "i"}],
        "ephemeralContainers": [{"name": "e"}],
    }
    view = extract.pod_view("Pod", {"spec": spec})
    assert view is not None
    assert [(c.kind, c.name, c.path) for c in view.containers] == [
        ("initContainers", "i", "spec.initContainers[0]"),
        ("containers", "a", "spec.containers[0]"),
        ("containers", "b", "spec.containers[1]"),
        ("ephemeralContainers", "e", "spec.ephemeralContainers[0]"),
    ]


def test_every_kind_a_policy_can_match_is_extracted() -> None:
    assert set(extract.KINDS) == set(policy.MATCH_KINDS)
