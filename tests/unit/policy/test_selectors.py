"""Label selectors: Kubernetes LabelSelector semantics, parsing and problems."""

from __future__ import annotations

from typing import Any

import pytest

from webhook.policy import selectors
from webhook.rules import registry

WEB = {"app": "web", "tier": "frontend"}
TIER_IN = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend", "edge"]}]}
ENV_NOT_IN = {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}

SEMANTICS: list[tuple[str, dict[str, Any], dict[str, str], bool]] = [
    ("empty-matches-labels", {}, WEB, True),
    ("empty-matches-no-labels", {}, {}, True),
    ("empty-parts-match-everything", {"matchLabels": {}, "matchExpressions": []}, {}, True),
    ("matchLabels-equal", {"matchLabels": {"app": "web"}}, WEB, True),
    ("matchLabels-other-value", {"matchLabels": {"app": "db"}}, WEB, False),
    ("matchLabels-absent", {"matchLabels": {"team": "a"}}, WEB, False),
    ("matchLabels-all-must-hold", {"matchLabels": {"app": "web", "tier": "backend"}}, WEB, False),
    ("matchLabels-empty-value", {"matchLabels": {"canary": ""}}, {"canary": ""}, True),
    ("in-present", TIER_IN, WEB, True),
    ("in-other-value", TIER_IN, {"tier": "backend"}, False),
    ("in-absent-does-not-match", TIER_IN, {}, False),
    ("notin-absent-matches", ENV_NOT_IN, WEB, True),
    ("notin-listed-value", ENV_NOT_IN, {"env": "dev"}, False),
    ("notin-other-value", ENV_NOT_IN, {"env": "prod"}, True),
    ("exists-present", {"matchExpressions": [{"key": "app", "operator": "Exists"}]}, WEB, True),
    ("exists-absent", {"matchExpressions": [{"key": "env", "operator": "Exists"}]}, WEB, False),
    (
        "exists-empty-value",
        {"matchExpressions": [{"key": "c", "operator": "Exists"}]},
        {"c": ""},
        True,
    ),
    (
        "doesnotexist-absent",
        {"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]},
        WEB,
        True,
    ),
    (
        "doesnotexist-present",
        {"matchExpressions": [{"key": "app", "operator": "DoesNotExist", "values": []}]},
        WEB,
        False,
    ),
    (
        "labels-and-expressions-both-hold",
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
        },
        WEB,
        True,
    ),
    (
        "labels-hold-expression-fails",
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}],
        },
        WEB,
        False,
    ),
    (
        "prefixed-key",
        {"matchLabels": {"kubernetes.io/metadata.name": "team-a"}},
        {"kubernetes.io/metadata.name": "team-a"},
        True,
    ),
]


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [pytest.param(s, lab, e, id=i) for i, s, lab, e in SEMANTICS],
)
def test_semantics(selector: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    assert selectors.parse(selector, "sel").matches(labels) is expected


def test_null_is_everything() -> None:
    assert selectors.parse(None, "sel") is selectors.EVERYTHING


INVALID: list[tuple[str, object, list[str]]] = [
    ("not-an-object", ["app=web"], ["sel"]),
    ("unknown-field", {"matchLabel": {"a": "b"}}, ["sel.matchLabel"]),
    ("label-value-boolean", {"matchLabels": {"enabled": True}}, ["sel.matchLabels.enabled"]),
    ("label-value-too-long", {"matchLabels": {"a": "x" * 64}}, ["sel.matchLabels.a"]),
    ("label-value-bad-chars", {"matchLabels": {"a": "b c"}}, ["sel.matchLabels.a"]),
    (
        "label-key-bad-prefix",
        {"matchLabels": {"Bad_Prefix/name": "x"}},
        ["sel.matchLabels[Bad_Prefix/name]"],
    ),
    (
        "label-key-empty-name",
        {"matchLabels": {"example.com/": "x"}},
        ["sel.matchLabels[example.com/]"],
    ),
    ("expressions-not-a-list", {"matchExpressions": {"key": "a"}}, ["sel.matchExpressions"]),
    ("expression-not-an-object", {"matchExpressions": ["a in (b)"]}, ["sel.matchExpressions[0]"]),
    (
        "expression-missing-key-and-operator",
        {"matchExpressions": [{}]},
        ["sel.matchExpressions[0].key", "sel.matchExpressions[0].operator"],
    ),
    (
        "operator-wrong-case",
        {"matchExpressions": [{"key": "a", "operator": "in", "values": ["b"]}]},
        ["sel.matchExpressions[0].operator"],
    ),
    (
        "in-without-values",
        {"matchExpressions": [{"key": "a", "operator": "In"}]},
        ["sel.matchExpressions[0].values"],
    ),
    (
        "notin-empty-values",
        {"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]},
        ["sel.matchExpressions[0].values"],
    ),
    (
        "exists-with-values",
        {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]},
        ["sel.matchExpressions[0].values"],
    ),
    (
        "values-not-a-list",
        {"matchExpressions": [{"key": "a", "operator": "In", "values": "b"}]},
        ["sel.matchExpressions[0].values"],
    ),
    (
        "value-number",
        {"matchExpressions": [{"key": "a", "operator": "In", "values": ["b", 3]}]},
        ["sel.matchExpressions[0].values[1]"],
    ),
    (
        "unknown-expression-field",
        {"matchExpressions": [{"key": "a", "operator": "Exists", "value": "b"}]},
        ["sel.matchExpressions[0].value"],
    ),
    (
        "every-problem-at-once",
        {
            "matchLabels": {"a": 1},
            "matchExpressions": [{"key": "b", "operator": "Has"}, {"key": "c", "operator": "In"}],
        },
        ["sel.matchLabels.a", "sel.matchExpressions[0].operator", "sel.matchExpressions[1].values"],
    ),
]


@pytest.mark.parametrize(("value", "paths"), [pytest.param(v, p, id=i) for i, v, p in INVALID])
def test_invalid_selectors_name_every_bad_field(value: object, paths: list[str]) -> None:
    with pytest.raises(registry.ConfigError) as caught:
        selectors.parse(value, "sel")
    assert [p.path for p in caught.value.problems] == paths


def test_boolean_label_value_says_to_quote_it() -> None:
    with pytest.raises(registry.ConfigError) as caught:
        selectors.parse({"matchLabels": {"enabled": True}}, "sel")
    assert caught.value.problems[0].reason == 'must be a string, not true; quote it ("true")'


def test_operator_typo_suggests_the_operator() -> None:
    with pytest.raises(registry.ConfigError) as caught:
        selectors.parse(
            {"matchExpressions": [{"key": "a", "operator": "notin", "values": ["b"]}]}, "sel"
        )
    assert caught.value.problems[0].reason.endswith('did you mean "NotIn"?')


def test_renders_in_kubectl_syntax() -> None:
    selector = selectors.parse(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["edge", "frontend"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "team", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        },
        "sel",
    )
    assert str(selector) == "app=web,tier in (edge,frontend),env notin (dev),team,!legacy"
    assert str(selectors.EVERYTHING) == ""


NAME = "kubernetes.io/metadata.name"


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"matchLabels": {NAME: "prod"}}, set()),
        ({"matchLabels": {"env": "prod"}}, {"env"}),
        ({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, {"env"}),
        ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}, {"env"}),
        ({"matchLabels": {NAME: "dev", "env": "prod"}}, set()),
        ({"matchLabels": {NAME: "prod", "env": "prod", "tier": "a"}}, {"env", "tier"}),
        ({}, set()),
    ],
    ids=[
        "name-only",
        "unknown-label",
        "absence-is-unknown-too",
        "notin-is-unknown-too",
        "a-known-label-already-fails",
        "known-label-holds-others-decide",
        "empty",
    ],
)
def test_unknown_keys_are_those_the_answer_depends_on(
    selector: dict[str, Any], expected: set[str]
) -> None:
    parsed = selectors.parse(selector, "s")
    labels = {NAME: "prod"}
    assert parsed.unknown_keys(labels, frozenset(labels)) == expected
