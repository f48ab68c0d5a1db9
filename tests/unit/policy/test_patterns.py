"""Name patterns: exact strings, and globs where only ``*`` is special."""

from __future__ import annotations

import pytest

from webhook.policy import patterns
from webhook.rules import registry

MATCHES = [
    # id, patterns, value, expected
    ("exact-equal", ["kube-system"], "kube-system", True),
    ("exact-is-not-prefix", ["kube"], "kube-system", False),
    ("exact-is-case-sensitive", ["Kube-System"], "kube-system", False),
    ("prefix-glob", ["team-*"], "team-a", True),
    ("prefix-glob-needs-prefix", ["team-*"], "myteam-a", False),
    ("star-matches-nothing-too", ["team-*"], "team-", True),
    ("suffix-glob", ["*-system"], "kube-system", True),
    ("suffix-glob-anchored-at-end", ["*-system"], "kube-system-2", False),
    ("middle-glob", ["ghcr.io/acme/*:v1"], "ghcr.io/acme/app:v1", True),
    ("star-crosses-slashes", ["ghcr.io/*"], "ghcr.io/acme/team/app:1", True),
    ("two-stars", ["system:serviceaccount:*:*-ci"], "system:serviceaccount:ci:build-ci", True),
    ("two-stars-need-both-parts", ["system:serviceaccount:*:*-ci"], "system:node:x", False),
    ("lone-star-matches-anything", ["*"], "anything/at:all", True),
    ("lone-star-matches-empty", ["*"], "", True),
    ("question-mark-is-literal", ["app?"], "app1", False),
    ("question-mark-matches-itself", ["app?"], "app?", True),
    ("dot-is-literal", ["ghcr.io/*"], "ghcrxio/acme", False),
    ("brackets-are-literal", ["[ab]*"], "a1", False),
    ("brackets-match-themselves", ["[ab]*"], "[ab]1", True),
    ("any-of-several", ["kube-system", "team-*"], "team-b", True),
    ("none-of-several", ["kube-system", "team-*"], "default", False),
    ("newline-not-special", ["a*b"], "a\nb", True),
]


@pytest.mark.parametrize(
    ("written", "value", "expected"),
    [pytest.param(w, v, e, id=i) for i, w, v, e in MATCHES],
)
def test_matches(written: list[str], value: str, expected: bool) -> None:
    assert patterns.of(written).matches(value) is expected


def test_matches_any_is_true_when_one_value_matches() -> None:
    compiled = patterns.of(["system:masters", "ops-*"])
    assert compiled.matches_any(["system:authenticated", "ops-oncall"])
    assert not compiled.matches_any(["system:authenticated"])
    assert not compiled.matches_any([])


def test_exact_patterns_need_no_regex() -> None:
    compiled = patterns.of(["a", "b*", "b*"])
    assert compiled.exact == frozenset({"a"})
    assert len(compiled.globs) == 1
    assert str(compiled) == "a, b*, b*"


INVALID = [
    ("not-a-list", "kube-system", ["spec.x"]),
    ("empty-list", [], ["spec.x"]),
    ("empty-string", ["a", ""], ["spec.x[1]"]),
    ("number-items", [1, "a", None], ["spec.x[0]", "spec.x[2]"]),
    ("validator-refuses", ["ok", "Not-OK"], ["spec.x[1]"]),
]


@pytest.mark.parametrize(("value", "paths"), [pytest.param(v, p, id=i) for i, v, p in INVALID])
def test_parse_reports_every_bad_item(value: object, paths: list[str]) -> None:
    def lower_case(text: str) -> str | None:
        return None if text == text.lower() else "must be lower case"

    with pytest.raises(registry.ConfigError) as caught:
        patterns.parse(value, "spec.x", empty="must not be empty", validate=lower_case)
    assert [p.path for p in caught.value.problems] == paths


def test_parse_returns_patterns() -> None:
    parsed = patterns.parse(["team-*", "default"], "spec.x", empty="-")
    assert parsed.texts == ("team-*", "default")
    assert parsed.matches("team-z")
