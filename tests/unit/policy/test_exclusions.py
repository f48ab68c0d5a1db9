"""Exclusion entries on their own: expiry instants and what each selector needs."""

from __future__ import annotations

import datetime

import pytest

from webhook.policy import exclusions, model, patterns
from webhook.rules import findings

UTC = datetime.UTC
END_OF_JANUARY = datetime.datetime(2027, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "live"),
    [
        pytest.param(
            datetime.datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC), True, id="last-second"
        ),
        pytest.param(END_OF_JANUARY, False, id="the-instant-itself"),
        pytest.param(
            datetime.datetime(
                2027, 2, 1, 0, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
            ),
            True,
            id="other-zone-earlier",
        ),
        pytest.param(datetime.datetime(2027, 1, 31, 23, 30), True, id="naive-is-utc"),
        pytest.param(datetime.datetime(2027, 2, 1, 0, 0, 1), False, id="naive-after"),
    ],
)
def test_live_until_the_expiry_instant(now: datetime.datetime, live: bool) -> None:
    entry = model.Exclusion(index=0, usernames=patterns.of(["a"]), expires=END_OF_JANUARY)
    assert exclusions.live(entry, now=now) is live


def test_never_expires_without_expires() -> None:
    entry = model.Exclusion(index=0, usernames=patterns.of(["a"]))
    assert exclusions.live(entry, now=datetime.datetime.max.replace(tzinfo=UTC))


POD_LEVEL = findings.Finding(check="hostNamespaces", path="spec.hostPID", message="m", fix="f")
IN_APP = findings.Finding(
    check="privileged",
    path="spec.containers[0].securityContext.privileged",
    message="m",
    fix="f",
    container="app",
    image="nginx:1.27",
)


EVIL = findings.Finding(
    check="images",
    path="spec.containers[0].image",
    message="m",
    fix="f",
    container="app",
    image="nginx.evil.example.com/cryptominer:1",
)


def checks(*names: str) -> model.Exclusion:
    return model.Exclusion(index=0, checks=frozenset(names))


def containers(*texts: str) -> model.Exclusion:
    return model.Exclusion(index=0, containers=patterns.of(texts))


def images(*texts: str) -> model.Exclusion:
    return model.Exclusion(index=0, images=patterns.images_of(texts))


@pytest.mark.parametrize(
    ("entry", "finding", "covered"),
    [
        pytest.param(checks("privileged"), IN_APP, True, id="check"),
        pytest.param(checks("privileged"), POD_LEVEL, False, id="other-check"),
        pytest.param(containers("*"), POD_LEVEL, False, id="container-needs-a-container"),
        pytest.param(images("*"), POD_LEVEL, False, id="image-needs-an-image"),
        pytest.param(images("docker.io/library/nginx:*"), IN_APP, True, id="normalised-image"),
        pytest.param(images("nginx:1.27"), IN_APP, True, id="written-image"),
        pytest.param(images("nginx"), IN_APP, False, id="image-needs-whole-reference"),
        pytest.param(images("nginx*"), IN_APP, True, id="short-glob"),
        pytest.param(images("nginx*"), EVIL, False, id="short-glob-not-lookalike-registry"),
    ],
)
def test_covers_finding(entry: model.Exclusion, finding: findings.Finding, covered: bool) -> None:
    assert exclusions.covers_finding(entry, finding) is covered
