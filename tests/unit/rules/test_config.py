"""Table tests for reading rule values (``webhook.rules.config``)."""

from __future__ import annotations

import pytest

from webhook.rules import config, registry

SWITCH_ON_FALSE = config.switch(on=False, enforces="no container may run privileged")
SWITCH_ON_TRUE = config.switch(on=True, enforces="containers must run as non-root")


@pytest.mark.parametrize(
    ("parse", "value", "expected"),
    [
        pytest.param(SWITCH_ON_FALSE, False, True, id="on-false-enforces"),
        pytest.param(SWITCH_ON_FALSE, True, None, id="on-false-true-is-off"),
        pytest.param(SWITCH_ON_TRUE, True, True, id="on-true-enforces"),
        pytest.param(SWITCH_ON_TRUE, False, None, id="on-true-false-is-off"),
    ],
)
def test_switch(parse: object, value: object, expected: object) -> None:
    assert callable(parse)
    assert parse(value, "spec.rules.x") is expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param("false", 'the string "false"', id="string"),
        pytest.param(0, "the number 0", id="number"),
        pytest.param(None, "null", id="null"),
        pytest.param([False], "a list", id="list"),
        pytest.param({"x": 1}, "an object", id="object"),
    ],
)
def test_switch_rejects_non_booleans_and_says_what_it_got(value: object, shown: str) -> None:
    with pytest.raises(registry.ConfigError) as caught:
        SWITCH_ON_FALSE(value, "spec.rules.privileged")
    [problem] = caught.value.problems
    assert problem.path == "spec.rules.privileged"
    assert shown in problem.reason
    assert "false (no container may run privileged)" in problem.reason
    assert "true (not checked)" in problem.reason


def test_describe_shortens_long_strings() -> None:
    assert config.describe("x" * 100) == f'the string "{"x" * 40}..."'


@pytest.mark.parametrize(
    ("key", "path"),
    [
        pytest.param("memory", "a.memory", id="identifier"),
        pytest.param("ephemeral-storage", "a[ephemeral-storage]", id="dash"),
        pytest.param("app.kubernetes.io/name", "a[app.kubernetes.io/name]", id="dots"),
    ],
)
def test_child(key: str, path: str) -> None:
    assert config.child("a", key) == path


def test_fields_reports_every_unknown_key() -> None:
    problems: config.Problems = []
    value = {"good": 1, "bad": 2, "worse": 3}
    assert config.fields(value, "p", allowed=("good",), problems=problems) is value
    assert [problem.path for problem in problems] == ["p.bad", "p.worse"]
    assert "expected one of good" in problems[0].reason


def test_fields_rejects_non_objects() -> None:
    problems: config.Problems = []
    assert config.fields([1], "p", allowed=("a", "b"), problems=problems) is None
    assert [str(problem) for problem in problems] == ["p: must be an object with a, b, not a list"]


def test_strings_keeps_good_items_and_reports_bad_ones() -> None:
    problems: config.Problems = []
    items = config.strings(["a", "", 3, "b"], "p", problems=problems)
    assert items == [("p[0]", "a"), ("p[3]", "b")]
    assert [problem.path for problem in problems] == ["p[1]", "p[2]"]


def test_raise_if_any_carries_every_problem() -> None:
    config.raise_if_any([])
    problems = [registry.Problem("a", "x"), registry.Problem("b", "y")]
    with pytest.raises(registry.ConfigError) as caught:
        config.raise_if_any(problems)
    assert caught.value.problems == tuple(problems)
