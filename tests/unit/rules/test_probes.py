"""Table tests for the ``probes`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules

ID = "probes"
HTTP = {"httpGet": {"path": "/healthz", "port": 8080}}
BOTH = {"livenessProbe": HTTP, "readinessProbe": HTTP}

CASES = [
    pytest.param(["liveness", "readiness"], ps.pod(ps.container(**BOTH)), False, [], id="both-set"),
    pytest.param(
        ["liveness", "readiness"],
        ps.pod(ps.container(livenessProbe=HTTP)),
        False,
        ["spec.containers[0].readinessProbe"],
        id="readiness-missing",
    ),
    pytest.param(
        ["startup"],
        ps.pod(ps.container(**BOTH)),
        False,
        ["spec.containers[0].startupProbe"],
        id="startup-missing",
    ),
    pytest.param(
        ["liveness", "readiness", "startup"],
        ps.pod(ps.container()),
        False,
        [
            "spec.containers[0].livenessProbe",
            "spec.containers[0].readinessProbe",
            "spec.containers[0].startupProbe",
        ],
        id="one-finding-per-probe",
    ),
    pytest.param(
        ["liveness"],
        ps.pod(
            ps.container(**BOTH),
            init=[ps.container("init")],
            ephemeral=[ps.container("debug")],
        ),
        False,
        [],
        id="init-and-ephemeral-never-judged",
    ),
    pytest.param(
        ["readiness"],
        ps.pod(ps.container(**BOTH), ps.container("sidecar")),
        True,
        ["spec.template.spec.containers[1].readinessProbe"],
        id="template",
    ),
    pytest.param(
        ["liveness", "readiness"],
        ps.pod(ps.container(), restartPolicy="Never"),
        False,
        [],
        id="restart-never-runs-to-completion",
    ),
    pytest.param(
        ["liveness", "readiness"],
        ps.pod(ps.container(), restartPolicy="OnFailure"),
        True,
        [],
        id="restart-on-failure-job-template",
    ),
    pytest.param(
        ["liveness"],
        ps.pod(ps.container(), restartPolicy="Always"),
        False,
        ["spec.containers[0].livenessProbe"],
        id="restart-always-judged",
    ),
]


@pytest.mark.parametrize(("value", "spec", "template", "expected"), CASES)
def test_check(value: object, spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run(ID, value, spec=spec, template=template)) == expected


def test_message() -> None:
    [finding] = ps.run(ID, ["liveness"], spec=ps.pod(ps.container("web")))
    assert 'container "web" has no liveness probe' in finding.message
    assert "livenessProbe" in finding.fix
    assert (finding.container, finding.image) == ("web", ps.IMAGE)


def test_empty_list_turns_the_rule_off() -> None:
    assert rules.RULES[ID].bind([], "spec.rules.probes") is None


CONFIG = [
    pytest.param("liveness", ["spec.rules.probes"], id="string"),
    pytest.param(True, ["spec.rules.probes"], id="boolean"),
    pytest.param(
        ["liveness", "livenessProbe", "health", 1],
        ["spec.rules.probes[1]", "spec.rules.probes[2]", "spec.rules.probes[3]"],
        id="every-bad-entry",
    ),
    pytest.param(["liveness", "liveness"], [], id="duplicates-tolerated"),
]


@pytest.mark.parametrize(("value", "expected"), CONFIG)
def test_config(value: object, expected: list[str]) -> None:
    assert sorted(ps.problems(ID, value)) == expected


def test_config_suggests_short_name() -> None:
    assert 'did you mean "liveness"' in ps.reasons(ID, ["livenessProbe"])
