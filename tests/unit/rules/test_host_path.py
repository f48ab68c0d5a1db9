"""Table tests for the ``hostPath`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps
from webhook import rules
from webhook.rules import podview


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


def test_host_path_broken_volumes_name_the_field() -> None:
    with pytest.raises(podview.PodSpecError) as caught:
        ps.run("hostPath", LOG, spec=ps.pod(volumes=[{"name": "x", "hostPath": "/etc"}]))
    assert caught.value.path == "spec.volumes[0].hostPath"
