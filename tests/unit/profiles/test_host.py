"""hostNamespaces, hostPathVolumes, hostPorts, hostProbesAndHostLifecycle."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.profiles import pods
from webhook import profiles

C = pods.container


def _probe(kind: str, probe: str, action: str, host: str) -> pods.Edit:
    def edit(spec: dict[str, Any]) -> None:
        spec[kind][0][probe] = {action: {"port": 8080, "host": host}}

    return edit


def _lifecycle(handler: str, action: str, host: str) -> pods.Edit:
    def edit(spec: dict[str, Any]) -> None:
        spec["containers"][0]["lifecycle"] = {handler: {action: {"port": 80, "host": host}}}

    return edit


CASES = [
    (
        "host-network",
        "baseline",
        "v1.0",
        [lambda s: s.update(hostNetwork=True)],
        {"hostNamespaces"},
    ),
    ("host-pid-false", "baseline", "v1.0", [lambda s: s.update(hostPID=False)], set()),
    ("host-ipc", "restricted", "latest", [lambda s: s.update(hostIPC=True)], {"hostNamespaces"}),
    (
        "hostpath-baseline",
        "baseline",
        "latest",
        [lambda s: s.update(volumes=[{"name": "v", "hostPath": {"path": "/"}}])],
        {"hostPathVolumes"},
    ),
    (
        "hostpath-restricted-reported-as-restricted-volumes",
        "restricted",
        "latest",
        [lambda s: s.update(volumes=[{"name": "v", "hostPath": {"path": "/"}}])],
        {"restrictedVolumes"},
    ),
    (
        "hostport-ephemeral",
        "baseline",
        "latest",
        [pods.add_debugger, lambda s: s["ephemeralContainers"][0].update(ports=[{"hostPort": 80}])],
        {"hostPorts"},
    ),
    (
        "hostport-zero",
        "baseline",
        "latest",
        [lambda s: s["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 0}])],
        set(),
    ),
    (
        "probe-host-before-v1.34-is-allowed",
        "baseline",
        "v1.33",
        [_probe("containers", "livenessProbe", "httpGet", "10.0.0.1")],
        set(),
    ),
    (
        "liveness-http-host",
        "baseline",
        "v1.34",
        [_probe("containers", "livenessProbe", "httpGet", "10.0.0.1")],
        {"hostProbesAndHostLifecycle"},
    ),
    (
        "startup-tcp-localhost",
        "baseline",
        "v1.34",
        [_probe("containers", "startupProbe", "tcpSocket", "127.0.0.1")],
        {"hostProbesAndHostLifecycle"},
    ),
    (
        "readiness-on-init",
        "baseline",
        "latest",
        [_probe("initContainers", "readinessProbe", "httpGet", "::1")],
        {"hostProbesAndHostLifecycle"},
    ),
    (
        "empty-host",
        "baseline",
        "latest",
        [_probe("containers", "livenessProbe", "httpGet", "")],
        set(),
    ),
    (
        "grpc-probe-has-no-host",
        "baseline",
        "latest",
        [lambda s: s["containers"][0].update(livenessProbe={"grpc": {"port": 9000}})],
        set(),
    ),
    (
        "prestop-tcp-host",
        "baseline",
        "latest",
        [_lifecycle("preStop", "tcpSocket", "db")],
        {"hostProbesAndHostLifecycle"},
    ),
    (
        "poststart-http-host",
        "baseline",
        "latest",
        [_lifecycle("postStart", "httpGet", "example")],
        {"hostProbesAndHostLifecycle"},
    ),
]


@pytest.mark.parametrize(
    ("level", "version", "edits", "denied"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_host_checks(level: str, version: str, edits: list[pods.Edit], denied: set[str]) -> None:
    assert pods.judge(level, version, pods.pod(*edits)) == denied


def test_paths_name_the_exact_field() -> None:
    view = pods.pod(_lifecycle("preStop", "tcpSocket", "db"), lambda s: s.update(hostPID=True))
    found = profiles.resolve("baseline", "latest").evaluate(view)
    assert {f.path for f in found} == {
        "spec.hostPID",
        "spec.containers[0].lifecycle.preStop.tcpSocket.host",
    }
    probe = next(f for f in found if f.check == "hostProbesAndHostLifecycle")
    assert probe.container == "app"
    assert "probe or lifecycle host" in probe.message
