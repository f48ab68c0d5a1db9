"""Table tests for reading policy values (``webhook.rules.config``): paths, wording, readers."""

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
    ("path", "key", "expected"),
    [
        pytest.param("a", "memory", "a.memory", id="identifier"),
        pytest.param("", "spec", "spec", id="top-level"),
        pytest.param("a", "ephemeral-storage", "a[ephemeral-storage]", id="dash"),
        pytest.param("a", "app.kubernetes.io/name", "a[app.kubernetes.io/name]", id="label-key"),
        pytest.param("spec", 3, "spec[3]", id="number-key"),
    ],
)
def test_child(path: str, key: object, expected: str) -> None:
    assert config.child(path, key) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        pytest.param("mach", '; did you mean "match"?', id="typo"),
        pytest.param("MATCH", '; did you mean "match"?', id="case"),
        pytest.param("zzz", "", id="nothing-close"),
    ],
)
def test_suggestion(word: str, expected: str) -> None:
    assert config.suggestion(word, ["match", "exclude", "rules"]) == expected


@pytest.mark.parametrize(
    ("value", "name", "described"),
    [
        pytest.param(None, "null", "null", id="null"),
        pytest.param(True, "boolean", "true", id="boolean"),
        pytest.param(1.5, "number", "the number 1.5", id="number"),
        pytest.param("x", "string", 'the string "x"', id="string"),
        pytest.param({}, "object", "an object", id="object"),
        pytest.param([], "list", "a list", id="list"),
    ],
)
def test_type_name_never_shows_the_value_and_describe_does(
    value: object, name: str, described: str
) -> None:
    assert config.type_name(value) == name
    assert config.describe(value) == described


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("Deny", None, id="a-choice"),
        pytest.param("deny", 'must be "Deny" or "Warn"; did you mean "Deny"?', id="case-hint"),
        pytest.param("nope", 'must be "Deny" or "Warn"', id="nothing-close"),
        pytest.param(3, 'must be "Deny" or "Warn"', id="not-a-string"),
    ],
)
def test_choice(value: object, reason: str | None) -> None:
    problems: config.Problems = []
    chosen = config.choice(value, ("Deny", "Warn"), path="spec.action", problems=problems)
    assert chosen == (value if reason is None else None)
    assert [(p.path, p.reason) for p in problems] == (
        [] if reason is None else [("spec.action", reason)]
    )


def test_mapping_names_unknown_keys_with_a_suggestion_or_the_fields_that_exist() -> None:
    problems: config.Problems = []
    value = {"good": 1, "godo": 2, "worse": 3}
    assert config.mapping(value, path="p", allowed=("good",), problems=problems) is value
    assert [(p.path, p.reason) for p in problems] == [
        ("p.godo", 'unknown field; did you mean "good"?'),
        ("p.worse", "unknown field; expected one of good"),
    ]


def test_mapping_rejects_non_objects() -> None:
    problems: config.Problems = []
    assert config.mapping([1], path="p", allowed=("a", "b"), problems=problems) is None
    assert config.mapping("x", path="q", problems=problems) is None
    assert [str(problem) for problem in problems] == [
        "p: must be an object with a, b, not a list",
        'q: must be an object, not the string "x"',
    ]


def test_string_items_keeps_good_items_and_reports_bad_ones() -> None:
    problems: config.Problems = []
    items = config.string_items(["a", "", 3, "b"], path="p", problems=problems)
    assert items == [("p[0]", "a"), ("p[3]", "b")]
    assert [str(problem) for problem in problems] == [
        'p[1]: must be a non-empty string, not the string ""',
        "p[2]: must be a non-empty string, not the number 3",
    ]


@pytest.mark.parametrize(
    ("value", "expected", "reasons"),
    [
        pytest.param(["a", "b"], ("a", "b"), [], id="strings"),
        pytest.param([], None, ["p: e"], id="empty"),
        pytest.param("ghcr.io", None, ['p: must be a list, not the string "ghcr.io"'], id="text"),
        pytest.param(
            ["a", 2], None, ["p[1]: must be a non-empty string, not the number 2"], id="bad-item"
        ),
    ],
)
def test_strings_is_all_or_nothing(value: object, expected: object, reasons: list[str]) -> None:
    problems: config.Problems = []
    assert config.strings(value, path="p", problems=problems, empty="e") == expected
    assert [str(problem) for problem in problems] == reasons


def test_raise_if_any_carries_every_problem() -> None:
    config.raise_if_any([])
    problems = [registry.Problem("a", "x"), registry.Problem("b", "y")]
    with pytest.raises(registry.ConfigError) as caught:
        config.raise_if_any(problems)
    assert caught.value.problems == tuple(problems)
