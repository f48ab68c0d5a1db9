"""Table tests for the ``hostNamespaces`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps

NAMESPACES = [
    pytest.param(ps.pod(), False, [], id="unset"),
    pytest.param(
        ps.pod(hostNetwork=False, hostPID=False, hostIPC=False), False, [], id="explicit-false"
    ),
    pytest.param(
        ps.pod(hostNetwork=True, hostPID=True, hostIPC=True),
        False,
        ["spec.hostNetwork", "spec.hostPID", "spec.hostIPC"],
        id="one-finding-per-field",
    ),
    pytest.param(ps.pod(hostIPC=True), True, ["spec.template.spec.hostIPC"], id="template"),
]


@pytest.mark.parametrize(("spec", "template", "expected"), NAMESPACES)
def test_host_namespaces(spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run("hostNamespaces", False, spec=spec, template=template)) == expected


def test_host_namespaces_message() -> None:
    [finding] = ps.run("hostNamespaces", False, spec=ps.pod(hostPID=True))
    assert "hostPID: true" in finding.message
    assert finding.container is None


@pytest.mark.parametrize(
    ("rule_id", "value"),
    [("hostNamespaces", "false"), ("hostNamespaces", None)],
    ids=["string", "null"],
)
def test_host_namespaces_config_errors(rule_id: str, value: object) -> None:
    assert ps.problems(rule_id, value) == [f"spec.rules.{rule_id}"]
