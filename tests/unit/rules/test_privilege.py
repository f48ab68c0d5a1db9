"""Table tests for the ``privileged`` and ``allowPrivilegeEscalation`` rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules


def sc(**fields: Any) -> dict[str, Any]:
    return {"securityContext": fields}


PRIVILEGED = [
    pytest.param(ps.pod(), False, [], id="unset"),
    pytest.param(ps.pod(ps.container(**sc(privileged=False))), False, [], id="explicit-false"),
    pytest.param(
        ps.pod(
            ps.container(**sc(privileged=True)),
            init=[ps.container("init", **sc(privileged=True))],
            ephemeral=[ps.container("debug", **sc(privileged=True))],
        ),
        False,
        [
            "spec.initContainers[0].securityContext.privileged",
            "spec.containers[0].securityContext.privileged",
            "spec.ephemeralContainers[0].securityContext.privileged",
        ],
        id="all-three-kinds",
    ),
    pytest.param(
        ps.pod(ps.container("a"), ps.container("b", **sc(privileged=True))),
        True,
        ["spec.template.spec.containers[1].securityContext.privileged"],
        id="template-second-container",
    ),
]


@pytest.mark.parametrize(("spec", "template", "expected"), PRIVILEGED)
def test_privileged(spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run("privileged", False, spec=spec, template=template)) == expected


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


def test_messages_and_fix() -> None:
    [finding] = ps.run("privileged", False, spec=ps.pod(ps.container("web", **sc(privileged=True))))
    assert 'container "web" runs privileged' in finding.message
    assert (finding.container, finding.image) == ("web", ps.IMAGE)
    [unset] = ps.run("allowPrivilegeEscalation", False, spec=ps.pod(ps.container("web")))
    assert "does not set" in unset.message
    assert "allowPrivilegeEscalation: false" in unset.fix


@pytest.mark.parametrize("rule_id", ["privileged", "allowPrivilegeEscalation"])
def test_true_turns_the_rule_off(rule_id: str) -> None:
    assert rules.RULES[rule_id].bind(True, f"spec.rules.{rule_id}") is None


@pytest.mark.parametrize(
    ("rule_id", "value"),
    [
        pytest.param("privileged", "false", id="privileged-string"),
        pytest.param("privileged", None, id="privileged-null"),
        pytest.param("allowPrivilegeEscalation", 0, id="escalation-number"),
        pytest.param("allowPrivilegeEscalation", [False], id="escalation-list"),
    ],
)
def test_bad_values_are_config_errors(rule_id: str, value: object) -> None:
    assert ps.problems(rule_id, value) == [f"spec.rules.{rule_id}"]
    assert "must be false" in ps.reasons(rule_id, value)
