"""The shared shape of booleans that must be set explicitly to their safe value."""

from __future__ import annotations

import pytest

from tests.unit.rules import podspecs as ps
from webhook.rules import safe_booleans


@pytest.mark.parametrize(
    ("value", "required", "wording"),
    [
        pytest.param(None, False, "does not set f: false, so it hurts", id="unset-false"),
        pytest.param(None, True, "does not set f: true, so it hurts", id="unset-true"),
        pytest.param(True, False, "sets f: true", id="true-instead-of-false"),
        pytest.param("yes", False, "sets f: true", id="other-value-reads-as-the-unsafe-one"),
        pytest.param(False, True, "sets f: false", id="false-instead-of-true"),
    ],
)
def test_problem(value: object, required: bool, wording: str) -> None:
    assert safe_booleans.problem(value, field="f", required=required, unset="it hurts") == wording


def test_check_containers() -> None:
    spec = ps.pod(
        ps.container("ok", securityContext={"flag": True}),
        ps.container("unset"),
        ps.container("wrong", securityContext={"flag": 1}),
    )
    found = safe_booleans.check_containers(
        ps.view(spec), check="c", key="flag", required=True, unset="bad", fix="f"
    )
    assert [(f.path, f.message, f.container) for f in found] == [
        (
            "spec.containers[1].securityContext.flag",
            'container "unset" does not set securityContext.flag: true, so bad',
            "unset",
        ),
        (
            "spec.containers[2].securityContext.flag",
            'container "wrong" sets securityContext.flag: false',
            "wrong",
        ),
    ]
    windows = ps.view(ps.pod(ps.container(), os={"name": "windows"}))
    assert not safe_booleans.check_containers(
        windows, check="c", key="flag", required=True, unset="bad", fix="f"
    )
