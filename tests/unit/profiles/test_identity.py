"""runAsNonRoot, runAsUser, windowsHostProcess."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.profiles import pods
from webhook import profiles

C = pods.container


def _pod_sc(**values: Any) -> pods.Edit:
    return lambda spec: spec["securityContext"].update(values)


def _set(kind: str, **values: Any) -> pods.Edit:
    return lambda spec: C(kind)(spec).update(values)


def _drop_pod_non_root(spec: dict[str, Any]) -> None:
    del spec["securityContext"]["runAsNonRoot"]


def _userns(spec: dict[str, Any]) -> None:
    spec["hostUsers"] = False


def _windows(spec: dict[str, Any]) -> None:
    spec["os"] = {"name": "windows"}


CASES = [
    ("inherits-pod-true", "restricted", "latest", [], set()),
    (
        "pod-false-containers-true",
        "restricted",
        "latest",
        [
            _pod_sc(runAsNonRoot=False),
            _set("containers", runAsNonRoot=True),
            _set("initContainers", runAsNonRoot=True),
        ],
        {"runAsNonRoot"},
    ),
    (
        "container-false-pod-true",
        "restricted",
        "latest",
        [_set("containers", runAsNonRoot=False)],
        {"runAsNonRoot"},
    ),
    (
        "unset-everywhere",
        "restricted",
        "latest",
        [_drop_pod_non_root],
        {"runAsNonRoot"},
    ),
    (
        "each-container-true-no-pod",
        "restricted",
        "latest",
        [
            _drop_pod_non_root,
            _set("containers", runAsNonRoot=True),
            _set("initContainers", runAsNonRoot=True),
        ],
        set(),
    ),
    (
        "ephemeral-false",
        "restricted",
        "latest",
        [pods.add_debugger, _set("ephemeralContainers", runAsNonRoot=False)],
        {"runAsNonRoot"},
    ),
    (
        "userns-relaxes-non-root-v1.35",
        "restricted",
        "v1.35",
        [_userns, _pod_sc(runAsNonRoot=False)],
        set(),
    ),
    (
        "userns-does-not-relax-v1.34",
        "restricted",
        "v1.34",
        [_userns, _pod_sc(runAsNonRoot=False)],
        {"runAsNonRoot"},
    ),
    (
        "pod-uid-0-overridden-by-containers",
        "restricted",
        "latest",
        [
            _pod_sc(runAsUser=0),
            _set("containers", runAsUser=1000),
            _set("initContainers", runAsUser=1000),
        ],
        {"runAsUser"},
    ),
    (
        "container-uid-0",
        "restricted",
        "latest",
        [_set("initContainers", runAsUser=0)],
        {"runAsUser"},
    ),
    ("uid-0-before-v1.23", "restricted", "v1.22", [_set("containers", runAsUser=0)], set()),
    ("userns-relaxes-uid-0", "restricted", "v1.35", [_userns, _pod_sc(runAsUser=0)], set()),
    ("uid-1000", "restricted", "latest", [_pod_sc(runAsUser=1000)], set()),
    (
        "hostprocess-without-hostnetwork",
        "baseline",
        "latest",
        [_set("containers", windowsOptions={"hostProcess": True})],
        {"windowsHostProcess"},
    ),
    (
        "hostprocess-pod-level",
        "baseline",
        "v1.0",
        [_pod_sc(windowsOptions={"hostProcess": True})],
        {"windowsHostProcess"},
    ),
    (
        "hostprocess-ephemeral",
        "baseline",
        "latest",
        [pods.add_debugger, _set("ephemeralContainers", windowsOptions={"hostProcess": True})],
        {"windowsHostProcess"},
    ),
    (
        "hostprocess-false",
        "baseline",
        "latest",
        [_set("containers", windowsOptions={"hostProcess": False})],
        set(),
    ),
    (
        "windows-restricted-still-needs-non-root",
        "restricted",
        "latest",
        [_windows, _drop_pod_non_root],
        {"runAsNonRoot"},
    ),
    (
        "windows-restricted-still-forbids-uid-0",
        "restricted",
        "latest",
        [_windows, _pod_sc(runAsUser=0)],
        {"runAsUser"},
    ),
    (
        "windows-restricted-still-forbids-hostprocess",
        "restricted",
        "latest",
        [_windows, _set("containers", windowsOptions={"hostProcess": True})],
        {"windowsHostProcess"},
    ),
]


@pytest.mark.parametrize(
    ("level", "version", "edits", "denied"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_identity_checks(
    level: str, version: str, edits: list[pods.Edit], denied: set[str]
) -> None:
    assert pods.judge(level, version, pods.pod(*edits)) == denied


def test_pod_level_false_is_reported_at_the_pod_field() -> None:
    view = pods.pod(_pod_sc(runAsNonRoot=False))
    found = profiles.resolve("restricted", "latest").evaluate(view)
    assert {f.path for f in found} == {
        "spec.securityContext.runAsNonRoot",
        "spec.initContainers[0].securityContext.runAsNonRoot",
        "spec.containers[0].securityContext.runAsNonRoot",
    }
