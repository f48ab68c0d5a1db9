"""Table tests for the ``hostPorts`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules
from webhook.rules import podview


def ports(*host_ports: int | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for port in host_ports:
        entry: dict[str, Any] = {"containerPort": 8080}
        if port is not None:
            entry["hostPort"] = port
        out.append(entry)
    return out


WEB = {"allowed": [80, 443]}

HOST_PORTS = [
    pytest.param(False, ps.pod(ps.container(ports=ports(None))), False, [], id="no-hostPort"),
    pytest.param(False, ps.pod(ps.container(ports=ports(0))), False, [], id="zero-is-unset"),
    pytest.param(
        False,
        ps.pod(
            ps.container(ports=ports(None, 8080)),
            init=[ps.container("init", ports=ports(9000))],
            ephemeral=[ps.container("debug", ports=ports(7000))],
        ),
        False,
        [
            "spec.initContainers[0].ports[0].hostPort",
            "spec.containers[0].ports[1].hostPort",
            "spec.ephemeralContainers[0].ports[0].hostPort",
        ],
        id="false-forbids-all-three-kinds",
    ),
    pytest.param(WEB, ps.pod(ps.container(ports=ports(443, 80))), False, [], id="allowed"),
    pytest.param(
        WEB,
        ps.pod(ps.container(ports=ports(443, 8443))),
        False,
        ["spec.containers[0].ports[1].hostPort"],
        id="not-in-list",
    ),
    pytest.param(
        {"allowed": []},
        ps.pod(ps.container(ports=ports(80))),
        False,
        ["spec.containers[0].ports[0].hostPort"],
        id="empty-list-forbids-all",
    ),
    pytest.param(
        False,
        ps.pod(ps.container(ports=ports(80)), hostNetwork=True),
        False,
        ["spec.hostNetwork", "spec.containers[0].ports[0].hostPort"],
        id="host-network-pods-too",
    ),
    pytest.param(
        WEB,
        ps.pod(ps.container(), hostNetwork=True),
        False,
        ["spec.hostNetwork"],
        id="allow-list-host-network-without-ports",
    ),
    pytest.param(
        False,
        ps.pod(ps.container(), hostNetwork=True),
        False,
        ["spec.hostNetwork"],
        id="false-host-network-without-ports",
    ),
    pytest.param(
        {**WEB, "allowHostNetwork": True},
        ps.pod(ps.container(ports=ports(443)), hostNetwork=True),
        False,
        [],
        id="host-network-explicitly-allowed",
    ),
    pytest.param(
        {**WEB, "allowHostNetwork": True},
        ps.pod(ps.container(ports=ports(22)), hostNetwork=True),
        False,
        ["spec.containers[0].ports[0].hostPort"],
        id="allowed-host-network-still-judges-ports",
    ),
    pytest.param(
        WEB,
        ps.pod(ps.container(), hostNetwork=False),
        False,
        [],
        id="host-network-false",
    ),
    pytest.param(
        WEB,
        ps.pod(ps.container(), hostNetwork=True),
        True,
        ["spec.template.spec.hostNetwork"],
        id="template-host-network",
    ),
    pytest.param(
        WEB,
        ps.pod(ps.container(ports=ports(22))),
        True,
        ["spec.template.spec.containers[0].ports[0].hostPort"],
        id="template",
    ),
]


@pytest.mark.parametrize(("value", "spec", "template", "expected"), HOST_PORTS)
def test_host_ports(
    value: object, spec: dict[str, Any], template: bool, expected: list[str]
) -> None:
    assert ps.paths(ps.run("hostPorts", value, spec=spec, template=template)) == expected


def test_host_ports_message() -> None:
    [finding] = ps.run("hostPorts", WEB, spec=ps.pod(ps.container("web", ports=ports(22))))
    assert "host port 22" in finding.message
    assert "80, 443" in finding.message
    assert (finding.container, finding.image) == ("web", ps.IMAGE)


def test_host_ports_true_turns_the_rule_off() -> None:
    assert rules.RULES["hostPorts"].bind(True, "spec.rules.hostPorts") is None


HOST_PORTS_CONFIG = [
    pytest.param([80], ["spec.rules.hostPorts"], id="bare-list"),
    pytest.param({}, ["spec.rules.hostPorts.allowed"], id="missing-allowed"),
    pytest.param(
        {"allowed": [80, 0, 65536, "443", True]},
        [
            "spec.rules.hostPorts.allowed[1]",
            "spec.rules.hostPorts.allowed[2]",
            "spec.rules.hostPorts.allowed[3]",
            "spec.rules.hostPorts.allowed[4]",
        ],
        id="every-bad-port-reported",
    ),
    pytest.param(
        {"allowed": [], "allowHostNetwork": "yes"},
        ["spec.rules.hostPorts.allowHostNetwork"],
        id="allow-host-network-not-boolean",
    ),
]


@pytest.mark.parametrize(("value", "expected"), HOST_PORTS_CONFIG)
def test_host_ports_config_errors(value: object, expected: list[str]) -> None:
    assert ps.problems("hostPorts", value) == expected


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        pytest.param(ps.pod(ps.container(ports="80")), "spec.containers[0].ports", id="not-a-list"),
        pytest.param(
            ps.pod(ps.container(ports=[{"hostPort": 1}, 80])),
            "spec.containers[0].ports[1]",
            id="entry-not-object",
        ),
    ],
)
def test_host_ports_broken_spec_names_the_field(spec: dict[str, Any], path: str) -> None:
    with pytest.raises(podview.PodSpecError) as caught:
        ps.run("hostPorts", False, spec=spec)
    assert caught.value.path == path
