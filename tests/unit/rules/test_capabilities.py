"""Table tests for the ``capabilities`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import podspecs as ps

ID = "capabilities"
STANDARD = {"requireDrop": ["ALL"], "allowedAdd": ["NET_BIND_SERVICE"]}
C0 = "spec.containers[0].securityContext.capabilities"


def caps(
    name: str = "app", *, drop: list[Any] | None = None, add: list[Any] | None = None
) -> dict[str, Any]:
    capabilities: dict[str, Any] = {}
    if drop is not None:
        capabilities["drop"] = drop
    if add is not None:
        capabilities["add"] = add
    return ps.container(name, securityContext={"capabilities": capabilities})


CASES = [
    pytest.param(STANDARD, ps.pod(caps(drop=["ALL"])), False, [], id="drop-all"),
    pytest.param(STANDARD, ps.pod(caps(drop=["All"])), False, [], id="drop-all-any-case"),
    pytest.param(
        STANDARD,
        ps.pod(caps(drop=["CAP_ALL"])),
        False,
        [f"{C0}.drop"],
        id="drop-CAP_ALL-is-nothing",
    ),
    pytest.param(
        STANDARD,
        ps.pod(caps(drop=["cap_all"])),
        False,
        [f"{C0}.drop"],
        id="drop-cap_all-is-nothing",
    ),
    pytest.param(
        STANDARD, ps.pod(caps(drop=[" ALL"])), False, [f"{C0}.drop"], id="drop-ALL-not-trimmed"
    ),
    pytest.param(
        {"requireDrop": ["NET_RAW"]},
        ps.pod(caps(drop=["CAP_NET_RAW"])),
        False,
        [f"{C0}.drop"],
        id="drop-CAP_-prefixed-drops-nothing",
    ),
    pytest.param(
        {"requireDrop": ["CAP_NET_RAW"]},
        ps.pod(caps(drop=["NET_RAW"])),
        False,
        [],
        id="policy-names-read-liberally",
    ),
    pytest.param(
        STANDARD,
        ps.pod(caps(drop=["ALL"], add=["CAP_SYS_ADMIN", "all", "CAP_ALL"])),
        False,
        [f"{C0}.add[0]", f"{C0}.add[1]", f"{C0}.add[2]"],
        id="add-read-liberally",
    ),
    pytest.param(
        {"allowedAdd": ["SYS_ADMIN"]},
        ps.pod(caps(add=["CAP_SYS_ADMIN", "sys_admin"])),
        False,
        [],
        id="add-prefixed-is-the-capability",
    ),
    pytest.param(
        STANDARD,
        ps.pod(caps(drop=["ALL"], add=["NET_BIND_SERVICE"])),
        False,
        [],
        id="drop-all-add-allowed",
    ),
    pytest.param(
        STANDARD,
        ps.pod(caps(drop=["all"], add=["cap_net_bind_service"])),
        False,
        [],
        id="pod-names-normalised",
    ),
    pytest.param(
        STANDARD, ps.pod(ps.container()), False, [f"{C0}.drop"], id="no-capabilities-at-all"
    ),
    pytest.param(
        STANDARD,
        ps.pod(caps(drop=["NET_RAW", "SYS_ADMIN"])),
        False,
        [f"{C0}.drop"],
        id="named-drops-are-not-ALL",
    ),
    pytest.param(
        {"requireDrop": ["NET_RAW"]},
        ps.pod(caps("a", drop=["NET_RAW"]), caps("b", drop=["ALL"]), caps("c", drop=["net_raw"])),
        False,
        [],
        id="require-one-satisfied-by-it-or-ALL",
    ),
    pytest.param(
        {"requireDrop": ["NET_RAW", "SYS_ADMIN"]},
        ps.pod(caps(drop=["NET_RAW"])),
        False,
        [f"{C0}.drop"],
        id="require-two-drop-one",
    ),
    pytest.param(
        STANDARD,
        ps.pod(caps(drop=["ALL"], add=["NET_BIND_SERVICE", "SYS_ADMIN", "NET_RAW"])),
        False,
        [f"{C0}.add[1]", f"{C0}.add[2]"],
        id="each-disallowed-add-at-its-index",
    ),
    pytest.param(
        STANDARD,
        ps.pod(caps(drop=["ALL"], add=["ALL"])),
        False,
        [f"{C0}.add[0]"],
        id="adding-ALL-not-allowed-unless-listed",
    ),
    pytest.param(
        {"allowedAdd": ["ALL"]},
        ps.pod(caps(add=["ALL", "SYS_ADMIN"])),
        False,
        [],
        id="ALL-listed-allows-anything",
    ),
    pytest.param(
        {"requireDrop": ["ALL"]},
        ps.pod(caps(drop=["ALL"], add=["SYS_ADMIN"])),
        False,
        [],
        id="allowedAdd-absent-allows-anything",
    ),
    pytest.param(
        {"allowedAdd": []},
        ps.pod(caps(add=["CHOWN"])),
        False,
        [f"{C0}.add[0]"],
        id="allowedAdd-empty-allows-nothing",
    ),
    pytest.param(
        STANDARD,
        ps.pod(caps(drop=["ALL"], add=["MADE_UP"])),
        False,
        [f"{C0}.add[0]"],
        id="unknown-name-in-pod-not-allowed",
    ),
    pytest.param(
        STANDARD,
        ps.pod(
            caps(drop=["ALL"]),
            init=[caps("init", drop=["NET_RAW"])],
            ephemeral=[caps("debug", add=["SYS_PTRACE"])],
        ),
        False,
        [
            "spec.initContainers[0].securityContext.capabilities.drop",
            "spec.ephemeralContainers[0].securityContext.capabilities.drop",
            "spec.ephemeralContainers[0].securityContext.capabilities.add[0]",
        ],
        id="all-three-kinds",
    ),
    pytest.param(
        STANDARD,
        ps.pod(ps.container(), securityContext={"runAsNonRoot": True}),
        False,
        [f"{C0}.drop"],
        id="nothing-inherited-from-pod",
    ),
    pytest.param(STANDARD, ps.pod(os={"name": "windows"}), False, [], id="windows-exempt"),
    pytest.param(
        STANDARD,
        ps.pod(caps(drop=["ALL"], add=["SYS_ADMIN"])),
        True,
        ["spec.template.spec.containers[0].securityContext.capabilities.add[0]"],
        id="template",
    ),
]


@pytest.mark.parametrize(("value", "spec", "template", "expected"), CASES)
def test_check(value: object, spec: dict[str, Any], template: bool, expected: list[str]) -> None:
    assert ps.paths(ps.run(ID, value, spec=spec, template=template)) == expected


def test_messages() -> None:
    [drop] = ps.run(
        ID, {"requireDrop": ["NET_RAW", "SYS_ADMIN"]}, spec=ps.pod(caps("web", drop=[]))
    )
    assert "does not drop NET_RAW, SYS_ADMIN" in drop.message
    assert "ALL" in drop.fix
    [add] = ps.run(ID, STANDARD, spec=ps.pod(caps("web", drop=["ALL"], add=["cap_sys_admin"])))
    assert "SYS_ADMIN" in add.message
    assert "NET_BIND_SERVICE" in add.message
    assert (add.container, add.image) == ("web", ps.IMAGE)


CONFIG = [
    pytest.param({}, ["spec.rules.capabilities"], id="empty-object"),
    pytest.param(["ALL"], ["spec.rules.capabilities"], id="bare-list"),
    pytest.param(
        {"drop": ["ALL"]},
        ["spec.rules.capabilities", "spec.rules.capabilities.drop"],
        id="unknown-field-and-nothing-set",
    ),
    pytest.param(
        {"requireDrop": ["ALL", "NET_RAWW"], "allowedAdd": ["NET_BIND_SERVICE", "CAP_FOO", 7]},
        [
            "spec.rules.capabilities.allowedAdd[1]",
            "spec.rules.capabilities.allowedAdd[2]",
            "spec.rules.capabilities.requireDrop[1]",
        ],
        id="every-bad-name-reported",
    ),
    pytest.param({"requireDrop": "ALL"}, ["spec.rules.capabilities.requireDrop"], id="not-a-list"),
    pytest.param(
        {"requireDrop": ["cap_net_raw", "all"], "allowedAdd": ["Net_Bind_Service"]},
        [],
        id="policy-names-normalised",
    ),
]


@pytest.mark.parametrize(("value", "expected"), CONFIG)
def test_config(value: object, expected: list[str]) -> None:
    assert sorted(ps.problems(ID, value)) == expected


def test_unknown_capability_gets_a_suggestion() -> None:
    assert 'did you mean "NET_RAW"' in ps.reasons(ID, {"requireDrop": ["NET_RAWW"]})
