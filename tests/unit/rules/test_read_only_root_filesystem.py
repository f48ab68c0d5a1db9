"""Table tests for the ``readOnlyRootFilesystem`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules

ID = "readOnlyRootFilesystem"
READ_ONLY = {"securityContext": {"readOnlyRootFilesystem": True}}

CASES = [
    pytest.param(ps.pod(ps.container(**READ_ONLY)), False, [], id="read-only"),
    pytest.param(
        ps.pod(ps.container()),
        False,
        ["spec.containers[0].securityContext.readOnlyRootFilesystem"],
        id="unset",
    ),
    pytest.param(
        ps.pod(
            ps.container(**READ_ONLY),
            init=[ps.container("init", securityContext={"readOnlyRootFilesystem": False})],
            ephemeral=[ps.container("debug")],
        ),
        False,
        [
            "spec.initContainers[0].securityContext.readOnlyRootFilesystem",
            "spec.ephemeralContainers[0].securityContext.readOnlyRootFilesystem",
        ],
        id="init-false-ephemeral-unset",
    ),
    pytest.param(
        ps.pod(ps.container(), securityContext={"readOnlyRootFilesystem": True}),
        False,
        ["spec.containers[0].securityContext.readOnlyRootFilesystem"],
        id="no-pod-level-field-to-inherit",
    ),
    pytest.param(ps.pod(ps.container(), os={"name": "windows"}), False, [], id="windows-exempt"),
    pytest.param(
        ps.pod(ps.container(**READ_ONLY), ps.container("b")),
        True,
        ["spec.template.spec.containers[1].securityContext.readOnlyRootFilesystem"],
        id="template",
    ),
]


@pytest.mark.parametrize(("spec", "template", "expected"), CASES)
def test_check(spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run(ID, True, spec=spec, template=template)) == expected


def test_message_says_what_and_fix_says_how() -> None:
    [finding] = ps.run(ID, True, spec=ps.pod(ps.container("web")))
    assert "writable" in finding.message
    assert "readOnlyRootFilesystem: true" in finding.fix
    assert "emptyDir" in finding.fix


def test_false_turns_the_rule_off() -> None:
    assert rules.RULES[ID].bind(False, f"spec.rules.{ID}") is None


@pytest.mark.parametrize("value", ["yes", None, {}], ids=["string", "null", "object"])
def test_bad_values_are_config_errors(value: object) -> None:
    assert ps.problems(ID, value) == [f"spec.rules.{ID}"]
