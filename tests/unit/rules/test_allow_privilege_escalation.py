"""Table tests for the ``allowPrivilegeEscalation`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules


def sc(**fields: Any) -> dict[str, Any]:
    return {"securityContext": fields}


NO_ESCALATION = sc(allowPrivilegeEscalation=False)

ESCALATION = [
    pytest.param(ps.pod(ps.container(**NO_ESCALATION)), False, [], id="explicit-false"),
    pytest.param(
        ps.pod(ps.container()),
        False,
        ["spec.containers[0].securityContext.allowPrivilegeEscalation"],
        id="unset-is-where-to-set-it",
    ),
    pytest.param(
        ps.pod(
            ps.container(**NO_ESCALATION),
            init=[ps.container("init", **sc(allowPrivilegeEscalation=True))],
            ephemeral=[ps.container("debug")],
        ),
        False,
        [
            "spec.initContainers[0].securityContext.allowPrivilegeEscalation",
            "spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation",
        ],
        id="init-true-and-ephemeral-unset",
    ),
    pytest.param(ps.pod(ps.container(), os={"name": "windows"}), False, [], id="windows-exempt"),
    pytest.param(
        ps.pod(ps.container(), os={"name": "linux"}),
        False,
        ["spec.containers[0].securityContext.allowPrivilegeEscalation"],
        id="linux-os-judged",
    ),
    pytest.param(
        ps.pod(ps.container()),
        True,
        ["spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation"],
        id="template",
    ),
]


@pytest.mark.parametrize(("spec", "template", "expected"), ESCALATION)
def test_allow_privilege_escalation(
    spec: dict[str, Any], template: bool, expected: list[str]
) -> None:
    found = ps.run("allowPrivilegeEscalation", False, spec=spec, template=template)
    assert ps.paths(found) == expected


def test_message_and_fix() -> None:
    [unset] = ps.run("allowPrivilegeEscalation", False, spec=ps.pod(ps.container("web")))
    assert "does not set" in unset.message
    assert "allowPrivilegeEscalation: false" in unset.fix


def test_true_turns_the_rule_off() -> None:
    rule = rules.RULES["allowPrivilegeEscalation"]
    assert rule.bind(True, "spec.rules.allowPrivilegeEscalation") is None


@pytest.mark.parametrize("value", [0, [False]], ids=["number", "list"])
def test_bad_values_are_config_errors(value: object) -> None:
    assert ps.problems("allowPrivilegeEscalation", value) == ["spec.rules.allowPrivilegeEscalation"]
    assert "must be false" in ps.reasons("allowPrivilegeEscalation", value)
