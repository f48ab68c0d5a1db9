"""Table tests for the ``secretsAsEnv`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules
from webhook.rules import podview

ID = "secretsAsEnv"
FROM_SECRET = {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}
FROM_CONFIG = {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}}

CASES = [
    pytest.param(ps.pod(), False, [], id="allow-no-env"),
    pytest.param(
        ps.pod(ps.container(env=[{"name": "MODE", "value": "prod"}, FROM_CONFIG])),
        False,
        [],
        id="allow-literal-and-configmap",
    ),
    pytest.param(
        ps.pod(ps.container(env=[FROM_CONFIG, FROM_SECRET])),
        False,
        ["spec.containers[0].env[1].valueFrom.secretKeyRef"],
        id="deny-secret-key-ref",
    ),
    pytest.param(
        ps.pod(
            ps.container(envFrom=[{"configMapRef": {"name": "c"}}, {"secretRef": {"name": "s"}}])
        ),
        False,
        ["spec.containers[0].envFrom[1].secretRef"],
        id="deny-env-from-secret",
    ),
    pytest.param(
        ps.pod(
            init=[ps.container("init", env=[FROM_SECRET])],
            ephemeral=[ps.container("debug", envFrom=[{"secretRef": {"name": "s"}}])],
        ),
        False,
        [
            "spec.initContainers[0].env[0].valueFrom.secretKeyRef",
            "spec.ephemeralContainers[0].envFrom[0].secretRef",
        ],
        id="deny-every-container-kind",
    ),
    pytest.param(
        ps.pod(ps.container(env=[FROM_SECRET])),
        True,
        ["spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef"],
        id="edge-template-path",
    ),
]


@pytest.mark.parametrize(("spec", "template", "expected"), CASES)
def test_check(spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run(ID, False, spec=spec, template=template)) == expected


def test_message_names_container_secret_and_variable_never_a_value() -> None:
    [found] = ps.run(ID, False, spec=ps.pod(ps.container(env=[FROM_SECRET])))
    assert found.message == 'container "app" reads Secret db into environment variable DB_PASSWORD'
    assert found.container == "app"
    assert "volume" in found.fix


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        (
            ps.pod(ps.container(env=[{"name": "X", "valueFrom": "db"}])),
            "spec.containers[0].env[0].valueFrom",
        ),
        (
            ps.pod(ps.container(envFrom=[{"secretRef": "db"}])),
            "spec.containers[0].envFrom[0].secretRef",
        ),
        (ps.pod(ps.container(envFrom={"secretRef": {}})), "spec.containers[0].envFrom"),
    ],
    ids=["value-from-string", "secret-ref-string", "env-from-object"],
)
def test_unreadable_fields_are_refused(spec: dict[str, Any], path: str) -> None:
    with pytest.raises(podview.PodSpecError) as caught:
        ps.run(ID, False, spec=spec)
    assert caught.value.path == path


def test_true_turns_the_rule_off() -> None:
    assert rules.RULES[ID].bind(True, f"spec.rules.{ID}") is None


@pytest.mark.parametrize("value", ["false", None, {}], ids=["string", "null", "object"])
def test_bad_values_are_config_errors(value: object) -> None:
    assert ps.problems(ID, value) == [f"spec.rules.{ID}"]
