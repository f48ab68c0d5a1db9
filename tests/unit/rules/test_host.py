"""Table tests for the ``hostNamespaces``, ``hostPath`` and ``hostPorts`` rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules
from webhook.rules import podview

# -- hostNamespaces ----------------------------------------------------------------------

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


# -- hostPath ----------------------------------------------------------------------------


def volumes(*host_paths: object) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [{"name": "scratch", "emptyDir": {}}]
    entries += [
        {"name": f"v{index}", "hostPath": {"path": path}} for index, path in enumerate(host_paths)
    ]
    return ps.pod(volumes=entries)


LOG = {"allowedPrefixes": ["/var/log"]}

HOST_PATH = [
    pytest.param(LOG, volumes(), False, [], id="no-hostPath-volumes"),
    pytest.param(LOG, ps.pod(), False, [], id="no-volumes-at-all"),
    pytest.param(LOG, volumes("/var/log"), False, [], id="prefix-itself"),
    pytest.param(LOG, volumes("/var/log/app"), False, [], id="below-prefix"),
    pytest.param(LOG, volumes("/var/log/app/"), False, [], id="trailing-slash"),
    pytest.param(LOG, volumes("//var//log/./app"), False, [], id="doubled-slashes-and-dot"),
    pytest.param(
        LOG, volumes("/var/logs"), False, ["spec.volumes[1].hostPath.path"], id="not-a-segment"
    ),
    pytest.param(
        LOG, volumes("/var/lo"), False, ["spec.volumes[1].hostPath.path"], id="shorter-than-prefix"
    ),
    pytest.param(
        LOG,
        volumes("/var/log/../../etc"),
        False,
        ["spec.volumes[1].hostPath.path"],
        id="dotdot-escape",
    ),
    pytest.param(
        LOG,
        volumes("/var/log/app/../other"),
        False,
        ["spec.volumes[1].hostPath.path"],
        id="dotdot-even-if-it-stays-inside",
    ),
    pytest.param(
        LOG, volumes("var/log/app"), False, ["spec.volumes[1].hostPath.path"], id="relative"
    ),
    pytest.param(LOG, volumes(""), False, ["spec.volumes[1].hostPath.path"], id="empty-path"),
    pytest.param(
        {"allowedPrefixes": ["/var/log/", "/data"]},
        volumes("/data/x", "/etc", "/var/log/a"),
        False,
        ["spec.volumes[2].hostPath.path"],
        id="several-prefixes",
    ),
    pytest.param({"allowedPrefixes": ["/"]}, volumes("/etc"), False, [], id="root-admits-all"),
    pytest.param(
        {"allowedPrefixes": []},
        volumes("/var/log"),
        False,
        ["spec.volumes[1].hostPath"],
        id="empty-list-forbids-all",
    ),
    pytest.param(
        False,
        volumes("/var/log", "/tmp"),
        False,
        ["spec.volumes[1].hostPath", "spec.volumes[2].hostPath"],
        id="false-forbids-all",
    ),
    pytest.param(
        LOG, volumes("/etc"), True, ["spec.template.spec.volumes[1].hostPath.path"], id="template"
    ),
]


@pytest.mark.parametrize(("value", "spec", "template", "expected"), HOST_PATH)
def test_host_path(
    value: object, spec: dict[str, Any], template: bool, expected: list[str]
) -> None:
    assert ps.paths(ps.run("hostPath", value, spec=spec, template=template)) == expected


def test_host_path_message_names_volume_and_path() -> None:
    [finding] = ps.run("hostPath", LOG, spec=volumes("/etc"))
    assert 'volume "v0"' in finding.message
    assert '"/etc"' in finding.message
    assert "/var/log" in finding.message
    assert finding.container is None


def test_host_path_true_turns_the_rule_off() -> None:
    assert rules.RULES["hostPath"].bind(True, "spec.rules.hostPath") is None


HOST_PATH_CONFIG = [
    pytest.param("no", ["spec.rules.hostPath"], id="string"),
    pytest.param({}, ["spec.rules.hostPath.allowedPrefixes"], id="missing-allowedPrefixes"),
    pytest.param(
        {"allowedPrefixes": "/var"}, ["spec.rules.hostPath.allowedPrefixes"], id="not-list"
    ),
    pytest.param(
        {"allowedPrefixes": ["/ok", "var/log", "/a/../b", "", 3]},
        [
            "spec.rules.hostPath.allowedPrefixes[1]",
            "spec.rules.hostPath.allowedPrefixes[2]",
            "spec.rules.hostPath.allowedPrefixes[3]",
            "spec.rules.hostPath.allowedPrefixes[4]",
        ],
        id="every-bad-prefix-reported",
    ),
    pytest.param(
        {"allowedPrefixes": [], "prefixes": []},
        ["spec.rules.hostPath.prefixes"],
        id="unknown-field",
    ),
]


@pytest.mark.parametrize(("value", "expected"), HOST_PATH_CONFIG)
def test_host_path_config_errors(value: object, expected: list[str]) -> None:
    assert sorted(ps.problems("hostPath", value)) == expected


# -- hostPorts ---------------------------------------------------------------------------


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
    ("rule_id", "value"),
    [("hostNamespaces", "false"), ("hostNamespaces", None)],
    ids=["string", "null"],
)
def test_host_namespaces_config_errors(rule_id: str, value: object) -> None:
    assert ps.problems(rule_id, value) == [f"spec.rules.{rule_id}"]


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


def test_host_path_broken_volumes_name_the_field() -> None:
    with pytest.raises(podview.PodSpecError) as caught:
        ps.run("hostPath", LOG, spec=ps.pod(volumes=[{"name": "x", "hostPath": "/etc"}]))
    assert caught.value.path == "spec.volumes[0].hostPath"
