"""Table tests for the ``privileged`` rule."""

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


def test_message_and_fix() -> None:
    [finding] = ps.run("privileged", False, spec=ps.pod(ps.container("web", **sc(privileged=True))))
    assert 'container "web" runs privileged' in finding.message
    assert (finding.container, finding.image) == ("web", ps.IMAGE)
    assert "capabilities.add" in finding.fix


def test_true_turns_the_rule_off() -> None:
    assert rules.RULES["privileged"].bind(True, "spec.rules.privileged") is None


@pytest.mark.parametrize("value", ["false", None], ids=["string", "null"])
def test_bad_values_are_config_errors(value: object) -> None:
    assert ps.problems("privileged", value) == ["spec.rules.privileged"]
    assert "must be false" in ps.reasons("privileged", value)
