"""Malformed pod specs are refused with 400 naming the field, never judged or allowed."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest

from tests.unit.admission import requests
from webhook import admission, policy

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


def _set(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    obj = copy.deepcopy(DEPLOYMENT)
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
