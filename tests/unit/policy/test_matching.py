"""Which requests a policy applies to: kinds, namespaces, selectors, whole-request exclusions."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from webhook import policy

NOW = datetime.datetime(2027, 1, 31, 12, 0, tzinfo=datetime.UTC)


def cluster(**spec: Any) -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "p"},
            "spec": {"profile": {"level": "baseline"}, **spec},
        }
    )


def namespaced(namespace: str = "team-a", **spec: Any) -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ContainerPolicy",
            "metadata": {"name": "p", "namespace": namespace},
            "spec": {"profile": {"level": "baseline"}, **spec},
        }
    )


def subject(
    kind: str = "Deployment",
    namespace: str | None = "team-a",
    *,
    namespace_labels: dict[str, str] | None = None,
    object_labels: dict[str, str] | None = None,
    username: str = "alice",
    groups: tuple[str, ...] = ("system:authenticated",),
) -> policy.Subject:
    return policy.Subject(
        kind=kind,
        namespace=namespace,
        namespace_labels=namespace_labels or {},
        object_labels=object_labels or {},
        username=username,
        groups=groups,
    )


PROD = {"env": "prod", "kubernetes.io/metadata.name": "team-a"}

CASES: list[tuple[str, policy.CompiledPolicy, policy.Subject, bool]] = [
    # kinds
    ("no-match-applies-to-everything", cluster(), subject(), True),
    ("kind-listed", cluster(match={"kinds": ["Pod", "Deployment"]}), subject("Deployment"), True),
    ("kind-not-listed", cluster(match={"kinds": ["Pod"]}), subject("CronJob"), False),
    ("kind-match-is-exact", cluster(match={"kinds": ["Pod"]}), subject("PodTemplate"), False),
    # ContainerPolicy namespace scoping
    ("namespaced-own-namespace", namespaced("team-a"), subject(namespace="team-a"), True),
    ("namespaced-other-namespace", namespaced("team-a"), subject(namespace="team-b"), False),
    ("namespaced-cluster-scoped-object", namespaced("team-a"), subject(namespace=None), False),
    # namespaces globs
    (
        "namespace-exact",
        cluster(match={"namespaces": ["team-a"]}),
        subject(namespace="team-a"),
        True,
    ),
    (
        "namespace-glob",
        cluster(match={"namespaces": ["team-*"]}),
        subject(namespace="team-zeta"),
        True,
    ),
    (
        "namespace-glob-anchored",
        cluster(match={"namespaces": ["team-*"]}),
        subject(namespace="my-team-a"),
        False,
    ),
    (
        "namespace-suffix-glob",
        cluster(match={"namespaces": ["*-prod"]}),
        subject(namespace="shop-prod"),
        True,
    ),
    (
        "namespace-not-listed",
        cluster(match={"namespaces": ["team-*"]}),
        subject(namespace="default"),
        False,
    ),
    (
        "namespaces-vs-cluster-scoped",
        cluster(match={"namespaces": ["*"]}),
        subject(namespace=None),
        False,
    ),
    # namespaceSelector
    (
        "nsselector-matches",
        cluster(match={"namespaceSelector": {"matchLabels": {"env": "prod"}}}),
        subject(namespace_labels=PROD),
        True,
    ),
    (
        "nsselector-other-labels",
        cluster(match={"namespaceSelector": {"matchLabels": {"env": "prod"}}}),
        subject(namespace_labels={"env": "dev"}),
        False,
    ),
    (
        "nsselector-notin-absent-label",
        cluster(
            match={
                "namespaceSelector": {
                    "matchExpressions": [{"key": "exempt", "operator": "NotIn", "values": ["true"]}]
                }
            }
        ),
        subject(namespace_labels=PROD),
        True,
    ),
    (
        "nsselector-empty-matches-namespaced",
        cluster(match={"namespaceSelector": {}}),
        subject(),
        True,
    ),
    (
        "nsselector-empty-vs-cluster-scoped",
        cluster(match={"namespaceSelector": {}}),
        subject(namespace=None),
        False,
    ),
    (
        "nsselector-doesnotexist-vs-cluster-scoped",
        cluster(
            match={
                "namespaceSelector": {
                    "matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]
                }
            }
        ),
        subject(namespace=None),
        False,
    ),
    # objectSelector
    (
        "objselector-matches",
        cluster(match={"objectSelector": {"matchLabels": {"app": "web"}}}),
        subject(object_labels={"app": "web"}),
        True,
    ),
    (
        "objselector-misses",
        cluster(match={"objectSelector": {"matchLabels": {"app": "web"}}}),
        subject(object_labels={"app": "db"}),
        False,
    ),
    (
        "objselector-vs-cluster-scoped",
        cluster(match={"objectSelector": {}}),
        subject(namespace=None),
        True,
    ),
    # all parts must hold
    (
        "all-parts-hold",
        cluster(
            match={
                "kinds": ["Deployment"],
                "namespaces": ["team-*"],
                "namespaceSelector": {"matchLabels": {"env": "prod"}},
                "objectSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]},
            }
        ),
        subject(namespace_labels=PROD, object_labels={"app": "web"}),
        True,
    ),
    (
        "one-part-fails",
        cluster(
            match={
                "kinds": ["Deployment"],
                "namespaces": ["team-*"],
                "objectSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]},
            }
        ),
        subject(object_labels={}),
        False,
    ),
    # whole-request exclusions
    (
        "excluded-namespace",
        cluster(exclude=[{"namespaces": ["kube-system"]}]),
        subject(namespace="kube-system"),
        False,
    ),
    (
        "excluded-namespace-glob",
        cluster(exclude=[{"namespaces": ["kube-*"]}]),
        subject(namespace="kube-public"),
        False,
    ),
    (
        "other-namespace-not-excluded",
        cluster(exclude=[{"namespaces": ["kube-system"]}]),
        subject(namespace="team-a"),
        True,
    ),
    (
        "excluded-username-glob",
        cluster(exclude=[{"usernames": ["system:serviceaccount:ci:*"]}]),
        subject(username="system:serviceaccount:ci:deployer"),
        False,
    ),
    (
        "username-glob-other-namespace",
        cluster(exclude=[{"usernames": ["system:serviceaccount:ci:*"]}]),
        subject(username="system:serviceaccount:cd:deployer"),
        True,
    ),
    (
        "excluded-group",
        cluster(exclude=[{"groups": ["system:masters"]}]),
        subject(groups=("system:authenticated", "system:masters")),
        False,
    ),
    ("group-not-held", cluster(exclude=[{"groups": ["system:masters"]}]), subject(), True),
    (
        "entry-needs-all-its-selectors",
        cluster(exclude=[{"namespaces": ["ci"], "usernames": ["bot"]}]),
        subject(namespace="ci", username="alice"),
        True,
    ),
    (
        "entry-with-all-selectors-matching",
        cluster(exclude=[{"namespaces": ["ci"], "usernames": ["bot"]}]),
        subject(namespace="ci", username="bot"),
        False,
    ),
    (
        "entries-are-ored",
        cluster(exclude=[{"namespaces": ["kube-system"]}, {"usernames": ["bot"]}]),
        subject(username="bot"),
        False,
    ),
    (
        "excluded-namespace-vs-cluster-scoped",
        cluster(exclude=[{"namespaces": ["*"]}]),
        subject(namespace=None),
        True,
    ),
    (
        "finding-level-entry-does-not-exempt-request",
        cluster(exclude=[{"usernames": ["alice"], "checks": ["privileged"]}]),
        subject(),
        True,
    ),
    ("image-entry-does-not-exempt-request", cluster(exclude=[{"images": ["*"]}]), subject(), True),
    # expiry, with NOW = 2027-01-31T12:00Z
    (
        "live-exclusion-date-today",
        cluster(exclude=[{"usernames": ["alice"], "expires": "2027-01-31"}]),
        subject(),
        False,
    ),
    (
        "expired-exclusion-date-yesterday",
        cluster(exclude=[{"usernames": ["alice"], "expires": "2027-01-30"}]),
        subject(),
        True,
    ),
    (
        "live-exclusion-timestamp-later",
        cluster(exclude=[{"usernames": ["alice"], "expires": "2027-01-31T12:00:01Z"}]),
        subject(),
        False,
    ),
    (
        "expired-exclusion-timestamp-now",
        cluster(exclude=[{"usernames": ["alice"], "expires": "2027-01-31T12:00:00Z"}]),
        subject(),
        True,
    ),
    (
        "expired-exclusion-offset",
        cluster(exclude=[{"usernames": ["alice"], "expires": "2027-01-31T13:00:00+02:00"}]),
        subject(),
        True,
    ),
    # a ContainerPolicy's own exclusions only exclude from itself
    (
        "namespaced-excludes-user",
        namespaced("team-a", exclude=[{"usernames": ["bot"]}]),
        subject(username="bot"),
        False,
    ),
]


@pytest.mark.parametrize(
    ("compiled", "request_subject", "expected"),
    [pytest.param(c, s, e, id=i) for i, c, s, e in CASES],
)
def test_applies(
    compiled: policy.CompiledPolicy, request_subject: policy.Subject, expected: bool
) -> None:
    assert policy.applies(compiled, request_subject, now=NOW) is expected


def test_naive_now_is_taken_as_utc() -> None:
    compiled = cluster(exclude=[{"usernames": ["alice"], "expires": "2027-01-31T12:00:01Z"}])
    assert not policy.applies(compiled, subject(), now=NOW.replace(tzinfo=None))


def test_a_namespaced_policy_never_relaxes_a_cluster_policy() -> None:
    """Each policy is asked on its own: a ContainerPolicy's exclusions leave others in force."""
    strict_cluster = cluster()
    lenient_team = namespaced("team-a", exclude=[{"usernames": ["alice"]}])
    asked = subject(namespace="team-a", username="alice")
    assert not policy.applies(lenient_team, asked, now=NOW)
    assert policy.applies(strict_cluster, asked, now=NOW)
