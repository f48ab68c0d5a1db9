"""privileged, capabilities, allowPrivilegeEscalation, procMount."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.profiles import pods
from webhook import profiles

C = pods.container


def _set(kind: str, **values: Any) -> pods.Edit:
    return lambda spec: C(kind)(spec).update(values)


def _caps(kind: str, **caps: Any) -> pods.Edit:
    return lambda spec: C(kind)(spec).update(capabilities=caps)


def _windows(spec: dict[str, Any]) -> None:
    spec["os"] = {"name": "windows"}


CASES = [
    (
        "privileged-init",
        "baseline",
        "latest",
        [_set("initContainers", privileged=True)],
        {"privileged"},
    ),
    (
        "privileged-ephemeral",
        "baseline",
        "latest",
        [pods.add_debugger, _set("ephemeralContainers", privileged=True)],
        {"privileged"},
    ),
    ("privileged-false", "baseline", "latest", [_set("containers", privileged=False)], set()),
    ("add-default-cap", "baseline", "latest", [_caps("containers", add=["CHOWN"])], set()),
    (
        "add-cap-prefix-denied",
        "baseline",
        "latest",
        [_caps("containers", add=["CAP_CHOWN"])],
        {"capabilities_baseline"},
    ),
    (
        "add-lowercase-denied",
        "baseline",
        "latest",
        [_caps("containers", add=["chown"])],
        {"capabilities_baseline"},
    ),
    (
        "add-sys-admin-ephemeral",
        "baseline",
        "latest",
        [pods.add_debugger, _caps("ephemeralContainers", add=["SYS_ADMIN"])],
        {"capabilities_baseline"},
    ),
    (
        "restricted-v1.21-allows-baseline-adds",
        "restricted",
        "v1.21",
        [_caps("containers", add=["CHOWN"])],
        set(),
    ),
    (
        "drop-lowercase-all-denied",
        "restricted",
        "latest",
        [_caps("containers", drop=["all"])],
        {"capabilities_restricted"},
    ),
    (
        "drop-by-name-is-not-all",
        "restricted",
        "latest",
        [_caps("containers", drop=["CHOWN", "KILL", "SETUID", "NET_RAW"])],
        {"capabilities_restricted"},
    ),
    (
        "add-net-bind-service",
        "restricted",
        "latest",
        [_caps("containers", drop=["ALL"], add=["NET_BIND_SERVICE"])],
        set(),
    ),
    (
        "add-chown-restricted",
        "restricted",
        "latest",
        [_caps("containers", drop=["ALL"], add=["CHOWN"])],
        {"capabilities_restricted"},
    ),
    (
        "ephemeral-without-drop",
        "restricted",
        "latest",
        [
            lambda s: s.update(
                ephemeralContainers=[
                    {"name": "d", "securityContext": {"allowPrivilegeEscalation": False}}
                ]
            )
        ],
        {"capabilities_restricted"},
    ),
    (
        "ape-unset-on-ephemeral",
        "restricted",
        "latest",
        [
            lambda s: s.update(
                ephemeralContainers=[
                    {"name": "d", "securityContext": {"capabilities": {"drop": ["ALL"]}}}
                ]
            )
        ],
        {"allowPrivilegeEscalation"},
    ),
    (
        "ape-before-v1.8-absent",
        "restricted",
        "v1.7",
        [_set("containers", allowPrivilegeEscalation=True)],
        set(),
    ),
    (
        "windows-exempt-from-ape-and-caps-v1.25",
        "restricted",
        "v1.25",
        [
            _windows,
            _set("containers", allowPrivilegeEscalation=True),
            _caps("containers", add=["SYS_ADMIN"]),
        ],
        set(),
    ),
    (
        "windows-not-exempt-v1.24",
        "restricted",
        "v1.24",
        [_windows, _set("containers", allowPrivilegeEscalation=True)],
        {"allowPrivilegeEscalation"},
    ),
    (
        "windows-still-privileged",
        "restricted",
        "latest",
        [_windows, _set("containers", privileged=True)],
        {"privileged"},
    ),
    ("procmount-default", "baseline", "latest", [_set("containers", procMount="Default")], set()),
    (
        "procmount-unmasked-v1.34-userns",
        "baseline",
        "v1.34",
        [lambda s: s.update(hostUsers=False), _set("containers", procMount="Unmasked")],
        {"procMount"},
    ),
    (
        "procmount-unmasked-v1.35-userns",
        "baseline",
        "v1.35",
        [lambda s: s.update(hostUsers=False), _set("containers", procMount="Unmasked")],
        set(),
    ),
    (
        "procmount-unmasked-restricted-userns",
        "restricted",
        "v1.35",
        [lambda s: s.update(hostUsers=False), _set("containers", procMount="Unmasked")],
        {"procMount_restricted"},
    ),
]


@pytest.mark.parametrize(
    ("level", "version", "edits", "denied"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_privilege_checks(
    level: str, version: str, edits: list[pods.Edit], denied: set[str]
) -> None:
    assert pods.judge(level, version, pods.pod(*edits)) == denied


def test_capability_path_points_at_the_entry() -> None:
    view = pods.pod(_caps("initContainers", drop=["ALL"], add=["NET_BIND_SERVICE", "NET_ADMIN"]))
    (finding,) = profiles.resolve("restricted", "latest").evaluate(view)
    assert finding.path == "spec.initContainers[0].securityContext.capabilities.add[1]"
    assert finding.container == "init"
    assert "unrestricted capabilities" in finding.message
    assert "NET_BIND_SERVICE" in finding.fix
