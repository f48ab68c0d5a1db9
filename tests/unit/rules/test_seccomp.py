"""Table tests for the ``seccomp`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps

ID = "seccomp"


def profile(kind: str) -> dict[str, Any]:
    if kind == "Localhost":
        return {"seccompProfile": {"type": kind, "localhostProfile": "profiles/app.json"}}
    return {"seccompProfile": {"type": kind}}


def with_profile(name: str, kind: str) -> dict[str, Any]:
    return ps.container(name, securityContext=profile(kind))


POD_DEFAULT = {"securityContext": profile("RuntimeDefault")}
C0 = "spec.containers[0].securityContext.seccompProfile.type"

CASES = [
    pytest.param("RuntimeDefault", ps.pod(**POD_DEFAULT), False, [], id="pod-level-inherited"),
    pytest.param(
        "RuntimeDefault",
        ps.pod(with_profile("app", "RuntimeDefault")),
        False,
        [],
        id="container-level",
    ),
    pytest.param(
        "RuntimeDefault",
        ps.pod(init=[ps.container("init")], ephemeral=[ps.container("debug")]),
        False,
        [
            "spec.initContainers[0].securityContext.seccompProfile.type",
            C0,
            "spec.ephemeralContainers[0].securityContext.seccompProfile.type",
        ],
        id="unset-everywhere-all-three-kinds",
    ),
    pytest.param(
        "RuntimeDefault",
        ps.pod(with_profile("app", "Unconfined"), **POD_DEFAULT),
        False,
        [C0],
        id="container-unconfined-overrides-pod-default",
    ),
    pytest.param(
        "RuntimeDefault",
        ps.pod(with_profile("app", "RuntimeDefault"), securityContext=profile("Unconfined")),
        False,
        ["spec.securityContext.seccompProfile.type"],
        id="pod-unconfined-denies-even-when-containers-override",
    ),
    pytest.param(
        "RuntimeDefaultOrLocalhost",
        ps.pod(ps.container(), securityContext=profile("Unconfined")),
        False,
        ["spec.securityContext.seccompProfile.type"],
        id="unconfined-never-allowed",
    ),
    pytest.param(
        "RuntimeDefault",
        ps.pod(with_profile("app", "Localhost")),
        False,
        [C0],
        id="localhost-not-allowed-by-RuntimeDefault",
    ),
    pytest.param(
        "RuntimeDefaultOrLocalhost",
        ps.pod(with_profile("app", "Localhost"), securityContext=profile("RuntimeDefault")),
        False,
        [],
        id="localhost-allowed-by-RuntimeDefaultOrLocalhost",
    ),
    pytest.param(
        "RuntimeDefault",
        ps.pod(securityContext=profile("Localhost")),
        False,
        ["spec.securityContext.seccompProfile.type"],
        id="pod-localhost-reported-once-at-pod",
    ),
    pytest.param(
        "RuntimeDefault",
        ps.pod(ps.container(securityContext={"seccompProfile": {}})),
        False,
        [C0],
        id="profile-without-type-is-unset",
    ),
    pytest.param("RuntimeDefault", ps.pod(os={"name": "windows"}), False, [], id="windows-exempt"),
    pytest.param(
        "RuntimeDefault",
        ps.pod(ps.container(), init=[with_profile("init", "RuntimeDefault")]),
        True,
        ["spec.template.spec.containers[0].securityContext.seccompProfile.type"],
        id="template",
    ),
]


@pytest.mark.parametrize(("value", "spec", "template", "expected"), CASES)
def test_check(value: str, spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run(ID, value, spec=spec, template=template)) == expected


def test_messages() -> None:
    [unconfined] = ps.run(ID, "RuntimeDefault", spec=ps.pod(with_profile("web", "Unconfined")))
    assert "Unconfined" in unconfined.message
    assert (unconfined.container, unconfined.image) == ("web", ps.IMAGE)
    [unset] = ps.run(ID, "RuntimeDefault", spec=ps.pod())
    assert "no seccomp profile" in unset.message
    assert "RuntimeDefault" in unset.fix


@pytest.mark.parametrize(
    "value",
    ["runtimedefault", "Unconfined", "Localhost", True, None, ["RuntimeDefault"]],
    ids=["wrong-case", "unconfined", "localhost-only", "boolean", "null", "list"],
)
def test_bad_values_are_config_errors(value: object) -> None:
    assert ps.problems(ID, value) == [f"spec.rules.{ID}"]
