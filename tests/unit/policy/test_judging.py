"""Judging a Deployment's pod template: profile and rules run, exclusions drop findings."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from webhook import policy
from webhook.rules import podview

NOW = datetime.datetime(2027, 1, 31, 12, 0, tzinfo=datetime.UTC)
PREFIX = "spec.template.spec."

# A Deployment whose template is bad in several ways: host network (baseline
# hostNamespaces, pod level), runAsUser 0 on the pod (runAsNonRoot, pod level),
# and three containers with writable root filesystems that may run as root.
DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "shop", "namespace": "team-a"},
    "spec": {
        "template": {
            "metadata": {"labels": {"app": "shop"}},
            "spec": {
                "hostNetwork": True,
                "securityContext": {"runAsUser": 0},
                "initContainers": [{"name": "setup", "image": "busybox:1.36"}],
                "containers": [
                    {"name": "app", "image": "ghcr.io/acme/legacy-app:1.0"},
                    {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.20"},
                ],
            },
        }
    },
}

POD = podview.read(
    DEPLOYMENT["spec"]["template"]["spec"],
    metadata=DEPLOYMENT["spec"]["template"]["metadata"],
    spec_path="spec.template.spec",
    metadata_path="spec.template.metadata",
)

SUBJECT = policy.Subject(
    kind="Deployment",
    namespace="team-a",
    namespace_labels={"kubernetes.io/metadata.name": "team-a"},
    object_labels={},
    username="alice",
    groups=("system:authenticated",),
)

HOST = ("pss/hostNamespaces", "hostNetwork")
POD_ROOT = ("runAsNonRoot", "securityContext.runAsUser")
ROFS_SETUP = ("readOnlyRootFilesystem", "initContainers[0].securityContext.readOnlyRootFilesystem")
ROFS_APP = ("readOnlyRootFilesystem", "containers[0].securityContext.readOnlyRootFilesystem")
ROFS_PROXY = ("readOnlyRootFilesystem", "containers[1].securityContext.readOnlyRootFilesystem")
ROOT_SETUP = ("runAsNonRoot", "initContainers[0].securityContext.runAsNonRoot")
ROOT_APP = ("runAsNonRoot", "containers[0].securityContext.runAsNonRoot")
ROOT_PROXY = ("runAsNonRoot", "containers[1].securityContext.runAsNonRoot")
EVERYTHING = [HOST, ROFS_SETUP, ROFS_APP, ROFS_PROXY, POD_ROOT, ROOT_SETUP, ROOT_APP, ROOT_PROXY]


def compiled(exclude: list[dict[str, Any]] | None = None) -> policy.CompiledPolicy:
    spec: dict[str, Any] = {
        "profile": {"level": "baseline", "version": "latest"},
        "rules": {"readOnlyRootFilesystem": True, "runAsNonRoot": True},
    }
    if exclude is not None:
        spec["exclude"] = exclude
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "p"},
            "spec": spec,
        }
    )


def reported(
    exclude: list[dict[str, Any]] | None = None, subject: policy.Subject = SUBJECT
) -> list[tuple[str, str]]:
    out = []
    for finding in policy.judge(compiled(exclude), POD, subject, now=NOW):
        assert finding.path.startswith(PREFIX), finding.path
        out.append((finding.check, finding.path.removeprefix(PREFIX)))
    return out


def without(*dropped: tuple[str, str]) -> list[tuple[str, str]]:
    return [f for f in EVERYTHING if f not in dropped]


def test_profile_then_rules_with_full_template_paths() -> None:
    assert reported() == EVERYTHING


def test_findings_name_their_container_and_image() -> None:
    found = policy.judge(compiled(), POD, SUBJECT, now=NOW)
    by_path = {f.path.removeprefix(PREFIX): f for f in found}
    proxy = by_path[ROFS_PROXY[1]]
    assert (proxy.container, proxy.image) == ("istio-proxy", "docker.io/istio/proxyv2:1.20")
    assert (by_path["hostNetwork"].container, by_path["hostNetwork"].image) == (None, None)


CASES: list[tuple[str, list[dict[str, Any]], list[tuple[str, str]]]] = [
    # per check
    (
        "check-rule-id",
        [{"checks": ["readOnlyRootFilesystem"]}],
        without(ROFS_SETUP, ROFS_APP, ROFS_PROXY),
    ),
    ("check-pod-security-id", [{"checks": ["pss/hostNamespaces"]}], without(HOST)),
    ("rule-id-never-exempts-the-profile-check", [{"checks": ["hostNamespaces"]}], EVERYTHING),
    (
        "check-id-shared-by-rule-and-pod-level-finding",
        [{"checks": ["runAsNonRoot"]}],
        without(POD_ROOT, ROOT_SETUP, ROOT_APP, ROOT_PROXY),
    ),
    ("check-not-reported-changes-nothing", [{"checks": ["privileged"]}], EVERYTHING),
    # per container
    ("container", [{"containers": ["istio-proxy"]}], without(ROFS_PROXY, ROOT_PROXY)),
    (
        "container-glob",
        [{"containers": ["istio-*", "set*"]}],
        without(ROFS_SETUP, ROFS_PROXY, ROOT_SETUP, ROOT_PROXY),
    ),
    (
        "container-and-check",
        [{"containers": ["istio-proxy"], "checks": ["readOnlyRootFilesystem"]}],
        without(ROFS_PROXY),
    ),
    ("container-never-matches-pod-level-findings", [{"containers": ["*"]}], [HOST, POD_ROOT]),
    # per image
    ("image-as-written", [{"images": ["ghcr.io/acme/legacy-*"]}], without(ROFS_APP, ROOT_APP)),
    (
        "image-and-check",
        [{"images": ["ghcr.io/acme/legacy-*"], "checks": ["readOnlyRootFilesystem"]}],
        without(ROFS_APP),
    ),
    (
        "image-normalised-form",
        [{"images": ["docker.io/library/busybox:*"]}],
        without(ROFS_SETUP, ROOT_SETUP),
    ),
    ("image-short-form", [{"images": ["busybox*"]}], without(ROFS_SETUP, ROOT_SETUP)),
    ("image-other-registry", [{"images": ["quay.io/*"]}], EVERYTHING),
    ("image-prefix-is-anchored", [{"images": ["acme/*"]}], EVERYTHING),
    ("image-star-stays-in-its-segment", [{"images": ["ghcr.io/*"]}], EVERYTHING),
    ("image-lookalike-registry", [{"images": ["ghcr*"]}], EVERYTHING),
    (
        "image-never-matches-pod-level-findings",
        [
            {
                "images": ["*", "docker.io/*/*", "ghcr.io/*/*"],
                "checks": ["pss/hostNamespaces", "runAsNonRoot"],
            }
        ],
        without(ROOT_SETUP, ROOT_APP, ROOT_PROXY),
    ),
    (
        "image-container-and-check-all-needed",
        [{"images": ["ghcr.io/acme/*"], "containers": ["istio-proxy"]}],
        EVERYTHING,
    ),
    # entries are ORed
    (
        "two-entries",
        [{"containers": ["app"], "checks": ["runAsNonRoot"]}, {"checks": ["pss/hostNamespaces"]}],
        without(ROOT_APP, HOST),
    ),
    # request selectors on a finding-level entry
    ("user-matches", [{"usernames": ["alice"], "checks": ["pss/hostNamespaces"]}], without(HOST)),
    ("user-differs", [{"usernames": ["bob"], "checks": ["pss/hostNamespaces"]}], EVERYTHING),
    (
        "namespace-matches",
        [{"namespaces": ["team-*"], "containers": ["app"]}],
        without(ROFS_APP, ROOT_APP),
    ),
    ("namespace-differs", [{"namespaces": ["kube-system"], "containers": ["app"]}], EVERYTHING),
    (
        "group-matches",
        [{"groups": ["system:auth*"], "checks": ["pss/hostNamespaces"]}],
        without(HOST),
    ),
    # a whole-request entry drops everything
    ("whole-request", [{"usernames": ["alice"]}], []),
    # expiry (NOW is 2027-01-31T12:00Z)
    (
        "live-through-its-date",
        [{"checks": ["pss/hostNamespaces"], "expires": "2027-01-31"}],
        without(HOST),
    ),
    ("expired-date", [{"checks": ["pss/hostNamespaces"], "expires": "2027-01-30"}], EVERYTHING),
    (
        "expired-timestamp",
        [{"checks": ["pss/hostNamespaces"], "expires": "2027-01-31T11:59:59Z"}],
        EVERYTHING,
    ),
    (
        "expired-entry-beside-live-one",
        [
            {"containers": ["app"], "expires": "2026-12-31"},
            {"containers": ["istio-proxy"], "expires": "2027-12-31"},
        ],
        without(ROFS_PROXY, ROOT_PROXY),
    ),
]


@pytest.mark.parametrize(("exclude", "expected"), [pytest.param(x, e, id=i) for i, x, e in CASES])
def test_exclusions(exclude: list[dict[str, Any]], expected: list[tuple[str, str]]) -> None:
    assert reported(exclude) == expected


def test_profile_only_and_rules_only() -> None:
    profile_only = policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "p"},
            "spec": {"profile": {"level": "baseline"}},
        }
    )
    assert [f.check for f in policy.judge(profile_only, POD, SUBJECT, now=NOW)] == [
        "pss/hostNamespaces"
    ]
    rules_only = policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ContainerPolicy",
            "metadata": {"name": "p", "namespace": "team-a"},
            "spec": {"rules": {"runAsNonRoot": True}},
        }
    )
    assert [f.check for f in policy.judge(rules_only, POD, SUBJECT, now=NOW)] == [
        "runAsNonRoot"
    ] * 4


def test_clean_pod_has_no_findings() -> None:
    clean = podview.read(
        {
            "securityContext": {"runAsNonRoot": True},
            "containers": [
                {
                    "name": "app",
                    "image": "ghcr.io/acme/app:1.0",
                    "securityContext": {"readOnlyRootFilesystem": True},
                }
            ],
        },
        spec_path="spec.template.spec",
        metadata_path="spec.template.metadata",
    )
    assert policy.judge(compiled([{"checks": ["privileged"]}]), clean, SUBJECT, now=NOW) == []


# judge_first: the first findings, the others counted; the same "reports anything" as judge
LIMITS = (1, 2, 3, 5, 7, 8, 20)


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("exclude", [pytest.param(x, id=i) for i, x, _ in CASES])
def test_judge_first_shows_the_first_findings_and_counts_the_rest(
    exclude: list[dict[str, Any]], limit: int
) -> None:
    full = policy.judge(compiled(exclude), POD, SUBJECT, now=NOW)
    first = policy.judge_first(compiled(exclude), POD, SUBJECT, limit=limit, now=NOW)
    assert list(first.shown) == full[:limit]
    assert bool(first.shown) == bool(full)
    rest = full[limit:]
    assert (first.more > 0) == bool(rest)
    if first.stopped:  # a lower bound, from the checks run before it stopped
        assert 0 < first.more <= len(rest)
        assert set(first.more_checks) <= {f.check for f in rest}
    else:
        assert first.more == len(rest)
        assert first.more_checks == tuple(dict.fromkeys(f.check for f in rest))


def test_judge_first_stops_after_the_check_that_passes_the_limit() -> None:
    # the profile's one finding (hostNetwork) and three readOnlyRootFilesystem ones pass
    # a limit of 2; runAsNonRoot, the last check, is not run
    first = policy.judge_first(compiled(), POD, SUBJECT, limit=2, now=NOW)
    assert [(f.check, f.path.removeprefix(PREFIX)) for f in first.shown] == [HOST, ROFS_SETUP]
    assert (first.more, first.more_checks, first.stopped) == (2, ("readOnlyRootFilesystem",), True)


def test_judge_first_with_the_last_check_past_the_limit_is_exact() -> None:
    first = policy.judge_first(compiled(), POD, SUBJECT, limit=5, now=NOW)
    assert (first.more, first.more_checks, first.stopped) == (3, ("runAsNonRoot",), False)


def test_judge_first_needs_a_limit_of_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        policy.judge_first(compiled(), POD, SUBJECT, limit=0, now=NOW)
