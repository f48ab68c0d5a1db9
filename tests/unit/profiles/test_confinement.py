"""appArmorProfile, seLinuxOptions, seccompProfile_baseline, seccompProfile_restricted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.profiles import pods
from webhook import profiles

C = pods.container
AA = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_C = "container.seccomp.security.alpha.kubernetes.io/"


def _pod_sc(**values: Any) -> pods.Edit:
    return lambda spec: spec["securityContext"].update(values)


def _set(kind: str, **values: Any) -> pods.Edit:
    return lambda spec: C(kind)(spec).update(values)


def _no_pod_seccomp(spec: dict[str, Any]) -> None:
    del spec["securityContext"]["seccompProfile"]


CASES: list[tuple[str, str, str, list[pods.Edit], dict[str, str], set[str]]] = [
    (
        "apparmor-field-unconfined-container",
        "baseline",
        "v1.0",
        [_set("containers", appArmorProfile={"type": "Unconfined"})],
        {},
        {"appArmorProfile"},
    ),
    (
        "apparmor-field-unconfined-pod",
        "baseline",
        "latest",
        [_pod_sc(appArmorProfile={"type": "Unconfined"})],
        {},
        {"appArmorProfile"},
    ),
    (
        "apparmor-field-localhost",
        "baseline",
        "latest",
        [_set("containers", appArmorProfile={"type": "Localhost", "localhostProfile": "x"})],
        {},
        set(),
    ),
    ("apparmor-annotation-empty", "baseline", "latest", [], {AA + "app": ""}, set()),
    (
        "apparmor-annotation-unconfined-unknown-container",
        "baseline",
        "latest",
        [],
        {AA + "nobody": "unconfined"},
        {"appArmorProfile"},
    ),
    ("apparmor-annotation-localhost", "baseline", "latest", [], {AA + "app": "localhost/p"}, set()),
    (
        "selinux-engine-type-v1.30",
        "baseline",
        "v1.30",
        [_set("containers", seLinuxOptions={"type": "container_engine_t"})],
        {},
        {"seLinuxOptions"},
    ),
    (
        "selinux-engine-type-v1.31",
        "baseline",
        "v1.31",
        [_set("containers", seLinuxOptions={"type": "container_engine_t"})],
        {},
        set(),
    ),
    (
        "selinux-level-is-free",
        "baseline",
        "latest",
        [_pod_sc(seLinuxOptions={"level": "s0:c123,c456"})],
        {},
        set(),
    ),
    (
        "selinux-user-on-ephemeral",
        "baseline",
        "latest",
        [pods.add_debugger, _set("ephemeralContainers", seLinuxOptions={"user": "root"})],
        {},
        {"seLinuxOptions"},
    ),
    (
        "seccomp-docker-default-annotation-v1.18",
        "baseline",
        "v1.18",
        [],
        {SECCOMP_POD: "docker/default"},
        set(),
    ),
    (
        "seccomp-empty-annotation-v1.18",
        "baseline",
        "v1.18",
        [],
        {SECCOMP_C + "app": ""},
        {"seccompProfile_baseline"},
    ),
    (
        "seccomp-annotation-for-unknown-container-ignored",
        "baseline",
        "v1.18",
        [],
        {SECCOMP_C + "nobody": "unconfined"},
        set(),
    ),
    (
        "seccomp-annotations-ignored-from-v1.19",
        "baseline",
        "v1.19",
        [],
        {SECCOMP_POD: "unconfined"},
        set(),
    ),
    (
        "seccomp-fields-ignored-before-v1.19",
        "baseline",
        "v1.18",
        [_pod_sc(seccompProfile={"type": "Unconfined"})],
        {},
        set(),
    ),
    (
        "seccomp-field-unconfined-ephemeral",
        "baseline",
        "latest",
        [pods.add_debugger, _set("ephemeralContainers", seccompProfile={"type": "Unconfined"})],
        {},
        {"seccompProfile_baseline"},
    ),
    (
        "seccomp-pod-unconfined-containers-valid",
        "restricted",
        "latest",
        [
            _pod_sc(seccompProfile={"type": "Unconfined"}),
            _set("containers", seccompProfile={"type": "RuntimeDefault"}),
            _set("initContainers", seccompProfile={"type": "RuntimeDefault"}),
        ],
        {},
        {"seccompProfile_restricted"},
    ),
    (
        "seccomp-each-container-localhost",
        "restricted",
        "latest",
        [
            _no_pod_seccomp,
            _set("containers", seccompProfile={"type": "Localhost", "localhostProfile": "p"}),
            _set("initContainers", seccompProfile={"type": "RuntimeDefault"}),
        ],
        {},
        set(),
    ),
    (
        "seccomp-missing-on-ephemeral",
        "restricted",
        "latest",
        [
            _no_pod_seccomp,
            _set("containers", seccompProfile={"type": "RuntimeDefault"}),
            _set("initContainers", seccompProfile={"type": "RuntimeDefault"}),
            pods.add_debugger,
        ],
        {},
        {"seccompProfile_restricted"},
    ),
    ("seccomp-not-required-before-v1.19", "restricted", "v1.18", [_no_pod_seccomp], {}, set()),
    (
        "seccomp-windows-exempt-v1.25",
        "restricted",
        "v1.25",
        [_no_pod_seccomp, lambda s: s.update(os={"name": "windows"})],
        {},
        set(),
    ),
]


@pytest.mark.parametrize(
    ("level", "version", "edits", "annotations", "denied"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_confinement_checks(
    level: str,
    version: str,
    edits: list[pods.Edit],
    annotations: dict[str, str],
    denied: set[str],
) -> None:
    assert pods.judge(level, version, pods.pod(*edits, annotations=annotations)) == denied


def test_annotation_path() -> None:
    view = pods.pod(annotations={AA + "app": "unconfined"})
    (finding,) = profiles.resolve("baseline", "latest").evaluate(view)
    assert finding.path == f"metadata.annotations[{AA}app]"
