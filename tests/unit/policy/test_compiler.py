"""Compiling policy documents: what valid ones become, and every problem of invalid ones."""

from __future__ import annotations

import datetime
import pathlib
from typing import Any

import pytest
import yaml

from webhook import policy
from webhook.policy import model

UTC = datetime.UTC
EXAMPLES = pathlib.Path(__file__).parents[3] / "manifests" / "examples" / "policies"


def cluster(spec: Any, *, name: str = "p", **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": name, **metadata},
        "spec": spec,
    }


def namespaced(spec: Any, *, name: str = "p", namespace: str = "team-a") -> dict[str, Any]:
    return {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ContainerPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


RESTRICTED = {"profile": {"level": "restricted"}}


# ---------------------------------------------------------------- valid documents


def test_profile_only_cluster_policy() -> None:
    compiled = policy.compile(cluster(RESTRICTED, name="restricted-baseline"))
    assert compiled.kind == "ClusterContainerPolicy"
    assert compiled.name == "restricted-baseline"
    assert compiled.namespace is None
    assert compiled.key == "ClusterContainerPolicy/restricted-baseline"
    assert compiled.action == "Deny"
    assert compiled.profile is not None
    assert compiled.profile.label == "restricted:latest"
    assert compiled.checks == ()
    assert compiled.generation is None
    assert compiled.match == model.MATCH_EVERYTHING
    assert compiled.exclusions == ()


def test_rules_only_policy_binds_enabled_rules_in_id_order() -> None:
    compiled = policy.compile(
        cluster(
            {
                "rules": {
                    "runAsNonRoot": True,
                    "readOnlyRootFilesystem": True,
                    "privileged": True,  # turns the privileged rule off
                }
            }
        )
    )
    assert compiled.profile is None
    assert [c.id for c in compiled.checks] == ["readOnlyRootFilesystem", "runAsNonRoot"]
    assert compiled.rule_ids == ("readOnlyRootFilesystem", "runAsNonRoot")


def test_namespaced_policy_lives_in_its_namespace() -> None:
    compiled = policy.compile(namespaced({"action": "Warn", **RESTRICTED}, name="strict"))
    assert compiled.kind == "ContainerPolicy"
    assert compiled.namespace == "team-a"
    assert compiled.key == "ContainerPolicy/team-a/strict"
    assert compiled.action == "Warn"


def test_cluster_policy_ignores_a_namespace_in_its_metadata() -> None:
    compiled = policy.compile(cluster(RESTRICTED, namespace="default"))
    assert compiled.namespace is None
    assert compiled.key == "ClusterContainerPolicy/p"


@pytest.mark.parametrize("action", ["Deny", "Warn", "Audit"])
def test_actions(action: str) -> None:
    assert policy.compile(cluster({"action": action, **RESTRICTED})).action == action


def test_generation_is_kept_for_observed_generation() -> None:
    assert policy.compile(cluster(RESTRICTED, generation=7)).generation == 7


def test_pinned_profile_version_is_shown_as_asked() -> None:
    compiled = policy.compile(cluster({"profile": {"level": "baseline", "version": "v1.30"}}))
    assert compiled.profile is not None
    assert compiled.profile.label == "baseline:v1.30"
    assert compiled.profile.minor == 30


def test_latest_minor_setting_reaches_the_profile() -> None:
    compiled = policy.compile(cluster(RESTRICTED), latest_minor=25)
    assert compiled.profile is not None
    assert compiled.profile.minor == 25


def test_privileged_profile_with_a_rule_is_fine() -> None:
    compiled = policy.compile(
        cluster({"profile": {"level": "privileged"}, "rules": {"runAsNonRoot": True}})
    )
    assert compiled.profile is not None
    assert compiled.profile.label == "privileged:latest"
    assert compiled.rule_ids == ("runAsNonRoot",)


def test_match_is_compiled() -> None:
    compiled = policy.compile(
        cluster(
            {
                **RESTRICTED,
                "match": {
                    "kinds": ["Pod", "Deployment"],
                    "namespaces": ["team-*", "default"],
                    "namespaceSelector": {"matchLabels": {"env": "prod"}},
                    "objectSelector": {},
                },
            }
        )
    )
    match = compiled.match
    assert match.kinds == frozenset({"Pod", "Deployment"})
    assert match.namespaces is not None
    assert match.namespaces.texts == ("team-*", "default")
    assert match.namespace_selector is not None
    assert str(match.namespace_selector) == "env=prod"
    assert match.object_selector is not None
    assert match.object_selector.matches({})


def test_exclusion_entries_are_compiled() -> None:
    compiled = policy.compile(
        cluster(
            {
                **RESTRICTED,
                "exclude": [
                    {"namespaces": ["kube-system"], "reason": "system components"},
                    {"usernames": ["system:serviceaccount:ci:*"], "groups": ["ops"]},
                    {
                        "images": ["ghcr.io/acme/legacy-*"],
                        "checks": ["readOnlyRootFilesystem", "runAsNonRoot"],
                        "containers": ["istio-proxy"],
                        "reason": "legacy app, ticket OPS-12",
                        "expires": "2027-01-31",
                    },
                ],
            }
        )
    )
    first, second, third = compiled.exclusions
    assert first.whole_request
    assert first.reason == "system components"
    assert second.whole_request
    assert not third.whole_request
    assert third.index == 2
    assert third.checks == frozenset({"readOnlyRootFilesystem", "runAsNonRoot"})
    # A date means "through that day": the entry stops at the next midnight, UTC.
    assert third.expires == datetime.datetime(2027, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "instant"),
    [
        pytest.param("2027-01-31", datetime.datetime(2027, 2, 1, tzinfo=UTC), id="date"),
        pytest.param(
            "2027-01-31T18:30:00Z", datetime.datetime(2027, 1, 31, 18, 30, tzinfo=UTC), id="zulu"
        ),
        pytest.param(
            "2027-01-31T18:30:00.5+02:00",
            datetime.datetime(2027, 1, 31, 16, 30, 0, 500000, tzinfo=UTC),
            id="offset-and-fraction",
        ),
        pytest.param(
            datetime.date(2027, 1, 31), datetime.datetime(2027, 2, 1, tzinfo=UTC), id="yaml-date"
        ),
        pytest.param(
            datetime.datetime(2027, 1, 31, 18, 0),
            datetime.datetime(2027, 1, 31, 18, 0, tzinfo=UTC),
            id="yaml-naive-timestamp-is-utc",
        ),
    ],
)
def test_expires_forms(written: object, instant: datetime.datetime) -> None:
    compiled = policy.compile(
        cluster({**RESTRICTED, "exclude": [{"usernames": ["a"], "expires": written}]})
    )
    assert compiled.exclusions[0].expires == instant


def test_yaml_document_with_unquoted_date() -> None:
    document = yaml.safe_load(
        """
        apiVersion: bulkhead.dev/v1alpha1
        kind: ContainerPolicy
        metadata: {name: legacy, namespace: shop}
        spec:
          rules:
            readOnlyRootFilesystem: true
          exclude:
            - images: [ghcr.io/acme/legacy-*]
              checks: [readOnlyRootFilesystem]
              expires: 2027-01-31
        """
    )
    compiled = policy.compile(document)
    assert compiled.exclusions[0].expires == datetime.datetime(2027, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_policies_compile(path: pathlib.Path) -> None:
    for document in yaml.safe_load_all(path.read_text()):
        assert policy.compile(document).name == document["metadata"]["name"]


# ---------------------------------------------------------------- invalid documents

INVALID: list[tuple[str, Any, list[str]]] = [
    ("document-not-an-object", ["not", "a", "policy"], ["document"]),
    ("apiVersion-missing", {**cluster(RESTRICTED), "apiVersion": None}, ["apiVersion"]),
    (
        "apiVersion-wrong-version",
        {**cluster(RESTRICTED), "apiVersion": "bulkhead.dev/v1"},
        ["apiVersion"],
    ),
    ("kind-missing", {**cluster(RESTRICTED), "kind": None}, ["kind"]),
    ("kind-unknown", {**cluster(RESTRICTED), "kind": "PodSecurityPolicy"}, ["kind"]),
    (
        "top-level-typo",
        {**{k: v for k, v in cluster(RESTRICTED).items() if k != "spec"}, "sepc": RESTRICTED},
        ["sepc", "spec"],
    ),
    ("metadata-missing", {**cluster(RESTRICTED), "metadata": None}, ["metadata.name"]),
    ("metadata-not-an-object", {**cluster(RESTRICTED), "metadata": "p"}, ["metadata"]),
    ("name-upper-case", cluster(RESTRICTED, name="Restricted"), ["metadata.name"]),
    ("name-not-a-string", cluster(RESTRICTED, name=12), ["metadata.name"]),
    ("name-too-long", cluster(RESTRICTED, name="a" * 254), ["metadata.name"]),
    (
        "namespaced-without-namespace",
        {**namespaced(RESTRICTED), "metadata": {"name": "p"}},
        ["metadata.namespace"],
    ),
    (
        "namespaced-bad-namespace",
        namespaced(RESTRICTED, namespace="team.a"),
        ["metadata.namespace"],
    ),
    (
        "namespaced-missing-both",
        {**namespaced(RESTRICTED), "metadata": {}},
        ["metadata.name", "metadata.namespace"],
    ),
    ("spec-missing", {**cluster(RESTRICTED), "spec": None}, ["spec"]),
    ("spec-not-an-object", cluster(["restricted"]), ["spec"]),
    ("spec-empty-enforces-nothing", cluster({}), ["spec"]),
    ("spec-unknown-field", cluster({**RESTRICTED, "mach": {}}), ["spec.mach"]),
    ("action-lower-case", cluster({**RESTRICTED, "action": "deny"}), ["spec.action"]),
    ("action-unknown", cluster({**RESTRICTED, "action": "Block"}), ["spec.action"]),
    ("profile-not-an-object", cluster({"profile": "restricted"}), ["spec.profile"]),
    ("profile-level-missing", cluster({"profile": {"version": "latest"}}), ["spec.profile.level"]),
    ("profile-level-unknown", cluster({"profile": {"level": "strict"}}), ["spec.profile.level"]),
    (
        "profile-version-without-v",
        cluster({"profile": {"level": "baseline", "version": "1.30"}}),
        ["spec.profile.version"],
    ),
    (
        "profile-version-a-number",
        cluster({"profile": {"level": "baseline", "version": 1.3}}),
        ["spec.profile.version"],
    ),
    (
        "profile-unknown-field",
        cluster({"profile": {"level": "baseline", "versoin": "v1.30"}}),
        ["spec.profile.versoin"],
    ),
    ("profile-privileged-alone", cluster({"profile": {"level": "privileged"}}), ["spec"]),
    ("rules-not-an-object", cluster({"rules": ["runAsNonRoot"]}), ["spec.rules"]),
    (
        "rules-unknown-id",
        cluster({**RESTRICTED, "rules": {"runAsNonroot": True}}),
        ["spec.rules.runAsNonroot"],
    ),
    ("rules-bad-value", cluster({"rules": {"runAsNonRoot": "yes"}}), ["spec.rules.runAsNonRoot"]),
    (
        "rules-all-switched-off",
        cluster({"rules": {"privileged": True, "runAsNonRoot": False}}),
        ["spec"],
    ),
    ("match-not-an-object", cluster({**RESTRICTED, "match": ["Pod"]}), ["spec.match"]),
    (
        "match-unknown-field",
        cluster({**RESTRICTED, "match": {"namespace": ["a"]}}),
        ["spec.match.namespace"],
    ),
    (
        "match-kind-plural",
        cluster({**RESTRICTED, "match": {"kinds": ["Pod", "Deployments"]}}),
        ["spec.match.kinds[1]"],
    ),
    (
        "match-kind-not-pod-bearing",
        cluster({**RESTRICTED, "match": {"kinds": ["Service"]}}),
        ["spec.match.kinds[0]"],
    ),
    ("match-kinds-empty", cluster({**RESTRICTED, "match": {"kinds": []}}), ["spec.match.kinds"]),
    (
        "match-namespaces-not-a-list",
        cluster({**RESTRICTED, "match": {"namespaces": "team-a"}}),
        ["spec.match.namespaces"],
    ),
    (
        "match-namespace-upper-case",
        cluster({**RESTRICTED, "match": {"namespaces": ["ok", "Team-*"]}}),
        ["spec.match.namespaces[1]"],
    ),
    (
        "match-namespaces-in-namespaced",
        namespaced({**RESTRICTED, "match": {"namespaces": ["team-a"]}}),
        ["spec.match.namespaces"],
    ),
    (
        "match-namespace-selector-in-namespaced",
        namespaced({**RESTRICTED, "match": {"namespaceSelector": {}}}),
        ["spec.match.namespaceSelector"],
    ),
    (
        "match-selector-bad-operator",
        cluster(
            {
                **RESTRICTED,
                "match": {
                    "namespaceSelector": {
                        "matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]
                    }
                },
            }
        ),
        ["spec.match.namespaceSelector.matchExpressions[0].operator"],
    ),
    (
        "match-object-selector-boolean",
        cluster({**RESTRICTED, "match": {"objectSelector": {"matchLabels": {"app": True}}}}),
        ["spec.match.objectSelector.matchLabels.app"],
    ),
    (
        "exclude-an-object",
        cluster({**RESTRICTED, "exclude": {"namespaces": ["kube-system"]}}),
        ["spec.exclude"],
    ),
    (
        "exclude-entry-not-an-object",
        cluster({**RESTRICTED, "exclude": ["kube-system"]}),
        ["spec.exclude[0]"],
    ),
    (
        "exclude-entry-selects-nothing",
        cluster({**RESTRICTED, "exclude": [{"reason": "because"}]}),
        ["spec.exclude[0]"],
    ),
    (
        "exclude-entry-typo",
        cluster({**RESTRICTED, "exclude": [{"image": ["a/*"]}]}),
        ["spec.exclude[0].image", "spec.exclude[0]"],
    ),
    (
        "exclude-unknown-check",
        cluster({**RESTRICTED, "exclude": [{"checks": ["runAsNonRoot", "readOnlyRootFS"]}]}),
        ["spec.exclude[0].checks[1]"],
    ),
    (
        "exclude-checks-empty",
        cluster({**RESTRICTED, "exclude": [{"checks": []}]}),
        ["spec.exclude[0].checks"],
    ),
    (
        "exclude-usernames-empty",
        cluster({**RESTRICTED, "exclude": [{"usernames": []}]}),
        ["spec.exclude[0].usernames"],
    ),
    (
        "exclude-container-bad-name",
        cluster({**RESTRICTED, "exclude": [{"containers": ["Istio_Proxy"]}]}),
        ["spec.exclude[0].containers[0]"],
    ),
    (
        "exclude-image-with-space",
        cluster({**RESTRICTED, "exclude": [{"images": ["ghcr.io/acme/ app"]}]}),
        ["spec.exclude[0].images[0]"],
    ),
    (
        "exclude-image-upper-case-repository",
        cluster({**RESTRICTED, "exclude": [{"images": ["ok/x:*", "ghcr.io/Acme/*"]}]}),
        ["spec.exclude[0].images[1]"],
    ),
    (
        "exclude-image-empty-segment",
        cluster({**RESTRICTED, "exclude": [{"images": ["ghcr.io//x:*", "ghcr.io/x/"]}]}),
        ["spec.exclude[0].images[0]", "spec.exclude[0].images[1]"],
    ),
    (
        "exclude-namespaces-in-namespaced",
        namespaced({**RESTRICTED, "exclude": [{"namespaces": ["team-a"]}]}),
        ["spec.exclude[0].namespaces"],
    ),
    (
        "exclude-expires-words",
        cluster({**RESTRICTED, "exclude": [{"usernames": ["a"], "expires": "next year"}]}),
        ["spec.exclude[0].expires"],
    ),
    (
        "exclude-expires-impossible-date",
        cluster({**RESTRICTED, "exclude": [{"usernames": ["a"], "expires": "2027-02-30"}]}),
        ["spec.exclude[0].expires"],
    ),
    (
        "exclude-expires-without-offset",
        cluster(
            {**RESTRICTED, "exclude": [{"usernames": ["a"], "expires": "2027-01-31T10:00:00"}]}
        ),
        ["spec.exclude[0].expires"],
    ),
    (
        "exclude-expires-number",
        cluster({**RESTRICTED, "exclude": [{"usernames": ["a"], "expires": 20270131}]}),
        ["spec.exclude[0].expires"],
    ),
    (
        "exclude-reason-not-a-string",
        cluster({**RESTRICTED, "exclude": [{"usernames": ["a"], "reason": ["x"]}]}),
        ["spec.exclude[0].reason"],
    ),
    (
        "exclude-later-entry",
        cluster(
            {
                **RESTRICTED,
                "exclude": [
                    {"namespaces": ["kube-system"]},
                    {"usernames": ["a"]},
                    {"images": ["a"], "expires": "soon"},
                ],
            }
        ),
        ["spec.exclude[2].expires"],
    ),
    (
        "every-problem-at-once",
        {
            "apiVersion": "bulkhead.dev/v1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "Bad Name"},
            "spec": {
                "action": "Block",
                "profile": {"level": "strict"},
                "rules": {"runAsNonroot": True},
                "match": {"kinds": ["Deployments"]},
                "exclude": [{"reason": "no selector"}, {"checks": ["nope"], "expires": "soon"}],
            },
        },
        [
            "apiVersion",
            "metadata.name",
            "spec.action",
            "spec.profile.level",
            "spec.rules.runAsNonroot",
            "spec.match.kinds[0]",
            "spec.exclude[0]",
            "spec.exclude[1].checks[0]",
            "spec.exclude[1].expires",
        ],
    ),
]


@pytest.mark.parametrize(("document", "paths"), [pytest.param(d, p, id=i) for i, d, p in INVALID])
def test_invalid_documents_report_every_problem_path(document: Any, paths: list[str]) -> None:
    with pytest.raises(policy.CompileError) as caught:
        policy.compile(document)
    assert [p.path for p in caught.value.problems] == paths


def test_there_are_enough_invalid_cases() -> None:
    assert len(INVALID) >= 30


def reasons(document: Any) -> dict[str, str]:
    with pytest.raises(policy.CompileError) as caught:
        policy.compile(document)
    return {p.path: p.reason for p in caught.value.problems}


@pytest.mark.parametrize(
    ("document", "path", "fragment"),
    [
        pytest.param(
            cluster({**RESTRICTED, "mach": {}}), "spec.mach", 'did you mean "match"?', id="spec-key"
        ),
        pytest.param(
            cluster({**RESTRICTED, "action": "deny"}),
            "spec.action",
            'did you mean "Deny"?',
            id="action-case",
        ),
        pytest.param(
            cluster({"profile": {"level": "restriced"}}),
            "spec.profile.level",
            'did you mean "restricted"?',
            id="level",
        ),
        pytest.param(
            cluster({"rules": {"runAsNonroot": True}}),
            "spec.rules.runAsNonroot",
            'did you mean "runAsNonRoot"?',
            id="rule-id",
        ),
        pytest.param(
            cluster({**RESTRICTED, "match": {"kinds": ["deployment"]}}),
            "spec.match.kinds[0]",
            'did you mean "Deployment"?',
            id="kind",
        ),
        pytest.param(
            cluster({**RESTRICTED, "exclude": [{"checks": ["seccompProfile"]}]}),
            "spec.exclude[0].checks[0]",
            "did you mean",
            id="check-id",
        ),
        pytest.param(
            {**cluster(RESTRICTED), "kind": "ClusterContainerPolicies"},
            "kind",
            'did you mean "ClusterContainerPolicy"?',
            id="policy-kind",
        ),
        pytest.param(
            namespaced({**RESTRICTED, "match": {"namespaces": ["x"]}}),
            "spec.match.namespaces",
            "always applies to its own namespace",
            id="namespaced-scope",
        ),
        pytest.param(cluster({}), "spec", "enforces nothing", id="enforces-nothing"),
        pytest.param(
            cluster({**RESTRICTED, "exclude": {"namespaces": ["a"]}}),
            "spec.exclude",
            "must be a list of exclusion entries",
            id="exclude-shape",
        ),
        pytest.param(
            cluster({**RESTRICTED, "exclude": [{"reason": "x"}]}),
            "spec.exclude[0]",
            "selects nothing",
            id="entry-selects-nothing",
        ),
    ],
)
def test_problem_reasons_tell_the_admin_what_to_do(document: Any, path: str, fragment: str) -> None:
    assert fragment in reasons(document)[path]


def test_compile_error_is_a_value_error_listing_every_problem() -> None:
    with pytest.raises(ValueError, match=r"spec\.action: .*; spec\.profile\.level: "):
        policy.compile(cluster({"action": "Block", "profile": {}}))


def test_rule_problems_keep_the_rules_own_paths() -> None:
    """A rule reports problems inside its value at their exact paths below spec.rules."""
    problems = reasons(cluster({"rules": {"capabilities": {"requireDrop": "ALL", "bogus": 1}}}))
    assert problems
    assert all(path.startswith("spec.rules.capabilities.") for path in problems)
