"""Name patterns: exact strings, and globs where only ``*`` is special."""

from __future__ import annotations

import time

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


def test_exact_patterns_are_kept_apart() -> None:
    compiled = patterns.of(["a", "b*", "b*"])
    assert compiled.exact == frozenset({"a"})
    assert len(compiled.globs) == 1
    assert str(compiled) == "a, b*, b*"


SHA = "sha256:" + "a" * 64

IMAGE_MATCHES = [
    # id, pattern, image as written in the pod, expected
    ("hub-short-glob", "nginx*", "nginx:1.27", True),
    ("hub-short-glob-not-other-registry", "nginx*", "nginx.evil.example.com/cryptominer:1", False),
    ("hub-short-glob-not-registry-port", "nginx*", "nginx:5000/miner:1", False),
    ("hub-full-glob", "docker.io/library/nginx*", "nginx:1.27", True),
    ("hub-index-alias", "index.docker.io/library/nginx:*", "nginx:1.27", True),
    ("exact-implies-latest", "nginx", "nginx", True),
    ("exact-implies-latest-not-other-tag", "nginx", "nginx:1.27", False),
    ("exact-written-tag", "nginx:1.27", "docker.io/library/nginx:1.27", True),
    ("written-form-is-not-compared", "acme/app:1", "docker.io/acme/app:1", True),
    ("star-within-segment", "ghcr.io/acme/*", "ghcr.io/acme/app:1", True),
    ("star-crosses-at-and-colon", "ghcr.io/acme/*", f"ghcr.io/acme/app@{SHA}", True),
    ("star-never-crosses-slash", "ghcr.io/acme/*", "ghcr.io/acme/team/app:1", False),
    ("star-per-segment", "ghcr.io/acme/*/*", "ghcr.io/acme/team/app:1", True),
    ("registry-glob", "*.acme.io/app:*", "eu.acme.io/app:1", True),
    ("registry-glob-not-deeper", "*.acme.io/app:*", "eu.acme.io/x/app:1", False),
    ("registry-case-folded", "GHCR.IO/acme/*", "ghcr.io/acme/app:1", True),
    ("tag-glob", "ghcr.io/acme/app:v1.*", "ghcr.io/acme/app:v1.2", True),
    ("tag-glob-other-repo", "ghcr.io/acme/app:v1.*", "ghcr.io/acme/app2:v1.2", False),
    ("lone-star-is-hub-official", "*", "nginx:1", True),
    ("lone-star-not-elsewhere", "*", "ghcr.io/acme/app:1", False),
    ("unparseable-image-matches-nothing", "*", "Not An Image", False),
    ("localhost-registry", "localhost:5000/*", "localhost:5000/app:1", True),
]


@pytest.mark.parametrize(
    ("pattern", "image", "expected"),
    [pytest.param(p, v, e, id=i) for i, p, v, e in IMAGE_MATCHES],
)
def test_image_patterns_match_the_normalised_reference(
    pattern: str, image: str, expected: bool
) -> None:
    assert patterns.images_of([pattern]).matches(image) is expected


def test_glob_matching_is_linear_not_backtracking() -> None:
    # Backtracking regex engines take cubic time here (15 s and more for 7 KB).
    hostile = "ghcr.io/" + "a/" * 3500 + "b"
    names = patterns.of(["ghcr.io/*/*/*:*", "*a*a*a*a*a*a*a*a*c"])
    image_globs = patterns.images_of(["ghcr.io/*/*/*:*"])
    started = time.perf_counter()
    for _ in range(20):
        assert not names.matches(hostile)
        assert not image_globs.matches(hostile)
    assert time.perf_counter() - started < 5  # a generous bound: linear takes milliseconds


@pytest.mark.parametrize(
    ("pieces", "value", "expected"),
    [
        (["a", "b", "c"], "abc", True),
        (["a", "b", "c"], "aXbYc", True),
        (["a", "b", "c"], "ac", False),
        (["ab", "ba"], "aba", False),
        (["ab", "ba"], "abba", True),
        (["", "x", ""], "x", True),
        (["", "x", "x", ""], "x", False),
    ],
    ids=str,
)
def test_glob_pieces(pieces: list[str], value: str, expected: bool) -> None:
    assert patterns.Glob(tuple(pieces)).matches(value) is expected


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
