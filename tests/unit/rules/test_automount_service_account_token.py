"""Table tests for the ``automountServiceAccountToken`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules

ID = "automountServiceAccountToken"

CASES = [
    pytest.param(ps.pod(automountServiceAccountToken=False), False, [], id="opted-out"),
    pytest.param(
        ps.pod(), False, ["spec.automountServiceAccountToken"], id="unset-mounts-by-default"
    ),
    pytest.param(
        ps.pod(automountServiceAccountToken=True),
        False,
        ["spec.automountServiceAccountToken"],
        id="explicit-true",
    ),
    pytest.param(
        ps.pod(init=[ps.container("init")], ephemeral=[ps.container("debug")]),
        False,
        ["spec.automountServiceAccountToken"],
        id="one-pod-level-finding-whatever-the-containers",
    ),
    pytest.param(
        ps.pod(), True, ["spec.template.spec.automountServiceAccountToken"], id="template"
    ),
]


@pytest.mark.parametrize(("spec", "template", "expected"), CASES)
def test_check(spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run(ID, False, spec=spec, template=template)) == expected


def test_finding_is_pod_level_with_a_fix() -> None:
    [finding] = ps.run(ID, False, spec=ps.pod())
    assert finding.container is None
    assert "mounts" in finding.message
    assert "automountServiceAccountToken: false" in finding.fix


def test_true_turns_the_rule_off() -> None:
    assert rules.RULES[ID].bind(True, f"spec.rules.{ID}") is None


@pytest.mark.parametrize("value", ["false", None], ids=["string", "null"])
def test_bad_values_are_config_errors(value: object) -> None:
    assert ps.problems(ID, value) == [f"spec.rules.{ID}"]
