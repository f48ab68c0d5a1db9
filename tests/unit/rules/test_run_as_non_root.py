"""Table tests for the ``runAsNonRoot`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules

ID = "runAsNonRoot"
NON_ROOT = {"securityContext": {"runAsNonRoot": True}}


def sc(**fields: Any) -> dict[str, Any]:
    return {"securityContext": fields}


CASES = [
    pytest.param(ps.pod(**NON_ROOT), False, [], id="pod-level-true-covers-all"),
    pytest.param(
        ps.pod(ps.container(**sc(runAsNonRoot=True))), False, [], id="container-level-true"
    ),
    pytest.param(
        ps.pod(
            init=[ps.container("init")],
            ephemeral=[ps.container("debug")],
        ),
        False,
        [
            "spec.initContainers[0].securityContext.runAsNonRoot",
            "spec.containers[0].securityContext.runAsNonRoot",
            "spec.ephemeralContainers[0].securityContext.runAsNonRoot",
        ],
        id="unset-everywhere-all-three-kinds",
    ),
    pytest.param(
        ps.pod(ps.container(**sc(runAsUser=1000))),
        False,
        ["spec.containers[0].securityContext.runAsNonRoot"],
        id="non-zero-user-without-runAsNonRoot-is-not-enough",
    ),
    pytest.param(
        ps.pod(ps.container(**sc(runAsNonRoot=False)), **NON_ROOT),
        False,
        ["spec.containers[0].securityContext.runAsNonRoot"],
        id="container-false-overrides-pod-true",
    ),
    pytest.param(
        ps.pod(
            ps.container("a", **sc(runAsNonRoot=True)),
            ps.container("b"),
            securityContext={"runAsNonRoot": False},
        ),
        False,
        ["spec.securityContext.runAsNonRoot"],
        id="pod-false-denies-once-even-if-a-container-says-true",
    ),
    pytest.param(
        ps.pod(ps.container(**sc(runAsUser=0)), **NON_ROOT),
        False,
        ["spec.containers[0].securityContext.runAsUser"],
        id="container-runAsUser-0",
    ),
    pytest.param(
        ps.pod(securityContext={"runAsNonRoot": True, "runAsUser": 0}),
        False,
        ["spec.securityContext.runAsUser"],
        id="pod-runAsUser-0",
    ),
    pytest.param(
        ps.pod(ps.container(**sc(runAsUser=0, runAsNonRoot=False))),
        False,
        [
            "spec.containers[0].securityContext.runAsNonRoot",
            "spec.containers[0].securityContext.runAsUser",
        ],
        id="both-bad-at-container",
    ),
    pytest.param(
        ps.pod(os={"name": "windows"}),
        False,
        ["spec.containers[0].securityContext.runAsNonRoot"],
        id="windows-is-judged-too",
    ),
    pytest.param(
        ps.pod(init=[ps.container("init", **sc(runAsNonRoot=False))], **NON_ROOT),
        True,
        ["spec.template.spec.initContainers[0].securityContext.runAsNonRoot"],
        id="template-init-container-false",
    ),
]


@pytest.mark.parametrize(("spec", "template", "expected"), CASES)
def test_check(spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run(ID, True, spec=spec, template=template)) == expected


def test_findings_name_the_container_and_image() -> None:
    [finding] = ps.run(ID, True, spec=ps.pod(ps.container("web")))
    assert finding.check == ID
    assert (finding.container, finding.image) == ("web", ps.IMAGE)
    assert 'container "web"' in finding.message
    assert "runAsNonRoot: true" in finding.fix


def test_pod_level_finding_names_no_container() -> None:
    [finding] = ps.run(ID, True, spec=ps.pod(securityContext={"runAsNonRoot": False}))
    assert finding.container is None
    assert finding.image is None


def test_false_turns_the_rule_off() -> None:
    assert rules.RULES[ID].bind(False, "spec.rules.runAsNonRoot") is None


@pytest.mark.parametrize(
    "value", ["true", None, 1, {"enabled": True}], ids=["string", "null", "number", "object"]
)
def test_bad_values_are_config_errors(value: object) -> None:
    assert ps.problems(ID, value) == ["spec.rules.runAsNonRoot"]
