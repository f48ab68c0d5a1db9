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
