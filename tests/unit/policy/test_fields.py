"""Reading document fields: paths, type names and did-you-mean suggestions."""

from __future__ import annotations

import pytest

from webhook.policy import fields


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        pytest.param("spec", "rules", "spec.rules", id="identifier"),
        pytest.param("", "spec", "spec", id="top-level"),
        pytest.param(
            "m.matchLabels",
            "app.kubernetes.io/name",
            "m.matchLabels[app.kubernetes.io/name]",
            id="label-key",
        ),
        pytest.param("spec", 3, "spec[3]", id="number-key"),
    ],
)
def test_child(path: str, key: object, expected: str) -> None:
    assert fields.child(path, key) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        pytest.param("mach", '; did you mean "match"?', id="typo"),
        pytest.param("MATCH", '; did you mean "match"?', id="case"),
        pytest.param("zzz", "", id="nothing-close"),
    ],
)
def test_suggestion(word: str, expected: str) -> None:
    assert fields.suggestion(word, ["match", "exclude", "rules"]) == expected


@pytest.mark.parametrize(
    ("value", "name"),
    [
        pytest.param(None, "null", id="null"),
        pytest.param(True, "boolean", id="boolean"),
        pytest.param(1.5, "number", id="number"),
        pytest.param("x", "string", id="string"),
        pytest.param({}, "object", id="object"),
        pytest.param([], "list", id="list"),
    ],
)
def test_type_name(value: object, name: str) -> None:
    assert fields.type_name(value) == name


def test_strings_reports_each_bad_item_and_returns_none() -> None:
    problems: fields.Problems = []
    assert fields.strings(["a", 2, ""], path="p", problems=problems, empty="e") is None
    assert [(p.path, p.reason) for p in problems] == [
        ("p[1]", "must be a string, not number"),
        ("p[2]", "must not be empty"),
    ]


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
    problems: fields.Problems = []
    chosen = fields.choice(value, ("Deny", "Warn"), path="spec.action", problems=problems)
    assert chosen == (value if reason is None else None)
    assert [(p.path, p.reason) for p in problems] == (
        [] if reason is None else [("spec.action", reason)]
    )


def test_mapping_with_allowed_reports_unknown_keys() -> None:
    problems: fields.Problems = []
    value = {"level": "x", "levle": "y"}
    assert fields.mapping(value, path="p", problems=problems, allowed=("level",)) is value
    assert [(p.path, p.reason) for p in problems] == [
        ("p.levle", 'unknown field; did you mean "level"?')
    ]
    assert fields.mapping([], path="p", problems=problems, allowed=("level",)) is None
    assert problems[-1].reason == "must be an object, not list"
