"""The UPDATE rule: which updates are judged, as Pod Security Admission reads its inputs."""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
import json
from typing import Any

import pytest

from tests.unit.admission import requests
from webhook import admission, policy

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
APPARMOR = "container.apparmor.security.beta.kubernetes.io/app"
SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_APP = "container.seccomp.security.alpha.kubernetes.io/app"

RESTRICTED = policy.compile(
    {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": "restricted"},
        "spec": {"action": "Deny", "profile": {"level": "restricted", "version": "v1.18"}},
    }
)
COMPLIANT_SPEC: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "app",
            "image": "registry.k8s.io/pause",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
}


def deployment(annotations: dict[str, str] | None = None, **labels: str) -> dict[str, Any]:
    template: dict[str, Any] = {"metadata": {"labels": {"app": "web"}}, "spec": COMPLIANT_SPEC}
    if annotations is not None:
        template["metadata"]["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "team-a", "labels": labels},
        "spec": {"replicas": 1, "template": copy.deepcopy(template)},
    }


def pod(annotations: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "web", "namespace": "team-a"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": COMPLIANT_SPEC}


def submit(
    new: dict[str, Any],
    *,
    old: dict[str, Any] | None = None,
    policies: list[policy.CompiledPolicy] | None = None,
) -> admission.Decision:
    """Judge a CREATE (no ``old``) or an UPDATE of ``new`` (restricted v1.18 by default)."""
    kind = new["kind"]
    group = "apps" if kind == "Deployment" else ""
    request: dict[str, Any] = {
        "uid": "1",
        "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": kind.lower() + "s"},
        "namespace": "team-a",
        "operation": "CREATE" if old is None else "UPDATE",
        "userInfo": {"username": "alice"},
        "object": new,
    }
    if old is not None:
        request["oldObject"] = old
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
    return admission.decide(
        admission.parse(body), policies or [RESTRICTED], namespace_labels={}, now=NOW
    )


def update(new: dict[str, Any], old: dict[str, Any]) -> admission.Decision:
    return submit(new, old=old)


@pytest.mark.parametrize("make", [deployment, pod], ids=["deployment-template", "pod"])
@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(None, {APPARMOR: "unconfined"}, id="apparmor-added"),
        pytest.param(
            {APPARMOR: "runtime/default"}, {APPARMOR: "unconfined"}, id="apparmor-changed"
        ),
        pytest.param(None, {SECCOMP_POD: "unconfined"}, id="seccomp-pod-added"),
        pytest.param({"x": "y"}, {"x": "y", SECCOMP_APP: "unconfined"}, id="seccomp-container"),
    ],
)
def test_update_of_an_annotation_a_check_reads_is_judged(
    make: Any, before: dict[str, str] | None, after: dict[str, str]
) -> None:
    decision = update(make(after), make(before))
    assert decision.judged
    assert not decision.allowed
    assert "annotations[" in decision.message


@pytest.mark.parametrize("make", [deployment, pod], ids=["deployment-template", "pod"])
def test_update_of_other_annotations_is_not_judged(make: Any) -> None:
    violating = {APPARMOR: "unconfined"}
    decision = update(make({**violating, "owner": "team-b"}), make(violating))
    assert decision.allowed
    assert not decision.judged


def test_relabel_and_scale_are_not_judged() -> None:
    old = deployment({APPARMOR: "unconfined"})
    new = deployment({APPARMOR: "unconfined"}, tier="legacy")
    new["spec"]["replicas"] = 5
    decision = update(new, old)
    assert decision.allowed
    assert not decision.judged


def test_the_same_update_is_denied_like_a_create() -> None:
    new = deployment({APPARMOR: "unconfined"})
    decision = update(new, deployment())
    assert not decision.allowed
    assert "spec.template.metadata.annotations[" + APPARMOR + "]" in decision.message


# -- one check, one id; one finding, one line ------------------------------------------


def cluster_policy(name: str, spec: dict[str, Any]) -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": name},
            "spec": spec,
        }
    )


PRIVILEGED_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "root", "namespace": "team-a"},
    "spec": {
        "containers": [
            {"name": "app", "image": "ghcr.io/acme/app:1", "securityContext": {"privileged": True}}
        ]
    },
}


def create(obj: dict[str, Any], policies: list[policy.CompiledPolicy]) -> admission.Decision:
    return submit(obj, policies=policies)


PRIVILEGED_FIELD = "spec.containers[0].securityContext.privileged"


def test_profile_and_rule_findings_have_distinct_ids() -> None:
    both = cluster_policy(
        "both", {"profile": {"level": "baseline"}, "rules": {"privileged": False}}
    )
    decision = create(PRIVILEGED_POD, [both])
    ids = sorted(v.finding.check for v in decision.violations)
    assert ids == ["privileged", "pss/privileged"]
    assert f"[pss/privileged] {PRIVILEGED_FIELD}:" in decision.message
    assert f"[privileged] {PRIVILEGED_FIELD}:" in decision.message


def test_excluding_the_rule_id_keeps_the_profile_check() -> None:
    spec = {
        "profile": {"level": "baseline"},
        "rules": {"privileged": False},
        "exclude": [{"checks": ["privileged"]}],
    }
    decision = create(PRIVILEGED_POD, [cluster_policy("p", spec)])
    assert not decision.allowed
    assert [v.finding.check for v in decision.violations] == ["pss/privileged"]


def test_the_same_finding_from_two_policies_is_one_line() -> None:
    first = cluster_policy("first", {"profile": {"level": "baseline"}})
    second = cluster_policy("second", {"profile": {"level": "restricted"}})
    decision = create(PRIVILEGED_POD, [first, second])
    assert decision.message.count(f"[pss/privileged] {PRIVILEGED_FIELD}:") == 1
    line = next(
        x for x in decision.message.splitlines() if f"[pss/privileged] {PRIVILEGED_FIELD}" in x
    )
    assert line.endswith("(also policy ClusterContainerPolicy/second)")


def test_the_same_warning_from_two_policies_is_one_line() -> None:
    first = cluster_policy("first", {"action": "Warn", "profile": {"level": "baseline"}})
    second = cluster_policy("second", {"action": "Warn", "rules": {"privileged": False}})
    third = cluster_policy("third", {"action": "Warn", "profile": {"level": "baseline"}})
    decision = create(PRIVILEGED_POD, [first, second, third])
    assert decision.allowed
    merged = [w for w in decision.warnings if "[pss/privileged]" in w]
    assert merged == [
        next(w for w in decision.warnings if w.startswith("ClusterContainerPolicy/first, "))
    ]
    assert merged[0].startswith(
        "ClusterContainerPolicy/first, ClusterContainerPolicy/third: [pss/privileged]"
    )
    assert sum("[privileged]" in w for w in decision.warnings) == 1


# -- the verdict: actions, exemptions, several policies ------------------------------------

COMPLIANT_POD = pod()
PAST = "2025-06-01T00:00:00Z"
FUTURE = "2027-06-01T00:00:00Z"


def policy_in(namespace: str, name: str, spec: dict[str, Any]) -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ContainerPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )


def no_privileged(action: str, **extra: Any) -> policy.CompiledPolicy:
    return cluster_policy(
        f"no-privileged-{action.lower()}",
        {"action": action, "rules": {"privileged": False}, **extra},
    )


DENY = no_privileged("Deny")
WARN = no_privileged("Warn")
AUDIT = no_privileged("Audit")


@pytest.mark.parametrize(
    ("policies", "obj", "request_args", "outcome", "code"),
    [
        pytest.param([], PRIVILEGED_POD, {}, "allowed", 200, id="no-policy"),
        pytest.param([DENY], COMPLIANT_POD, {}, "allowed", 200, id="deny-compliant"),
        pytest.param([DENY], PRIVILEGED_POD, {}, "denied", 403, id="deny"),
        pytest.param([WARN], PRIVILEGED_POD, {}, "warned", 200, id="warn"),
        pytest.param([AUDIT], PRIVILEGED_POD, {}, "audited", 200, id="audit"),
        pytest.param([WARN, AUDIT], PRIVILEGED_POD, {}, "warned", 200, id="warn-and-audit"),
        pytest.param([AUDIT, WARN, DENY], PRIVILEGED_POD, {}, "denied", 403, id="deny-wins"),
        pytest.param(
            [no_privileged("Deny", exclude=[{"namespaces": ["team-a"]}])],
            PRIVILEGED_POD,
            {},
            "allowed",
            200,
            id="exempt-namespace",
        ),
        pytest.param(
            [no_privileged("Deny", exclude=[{"usernames": ["ci-*"]}])],
            PRIVILEGED_POD,
            {"username": "ci-bot"},
            "allowed",
            200,
            id="exempt-username-pattern",
        ),
        pytest.param(
            [no_privileged("Deny", exclude=[{"usernames": ["ci-*"]}])],
            PRIVILEGED_POD,
            {"username": "alice"},
            "denied",
            403,
            id="other-username-not-exempt",
        ),
        pytest.param(
            [no_privileged("Deny", exclude=[{"containers": ["app"], "expires": FUTURE}])],
            PRIVILEGED_POD,
            {},
            "allowed",
            200,
            id="exempt-container-until-future",
        ),
        pytest.param(
            [no_privileged("Deny", exclude=[{"containers": ["app"], "expires": PAST}])],
            PRIVILEGED_POD,
            {},
            "denied",
            403,
            id="expired-exemption",
        ),
        pytest.param(
            [no_privileged("Deny", match={"kinds": ["Deployment"]})],
            PRIVILEGED_POD,
            {},
            "allowed",
            200,
            id="kind-not-matched",
        ),
        pytest.param(
            [policy_in("team-b", "strict", {"rules": {"privileged": False}})],
            PRIVILEGED_POD,
            {},
            "allowed",
            200,
            id="namespaced-policy-elsewhere",
        ),
        pytest.param(
            [policy_in("team-a", "strict", {"rules": {"privileged": False}})],
            PRIVILEGED_POD,
            {},
            "denied",
            403,
            id="namespaced-policy-here",
        ),
        pytest.param([DENY], PRIVILEGED_POD, {"operation": "DELETE"}, "skipped", 200, id="delete"),
        pytest.param(
            [DENY], PRIVILEGED_POD, {"subresource": "status"}, "skipped", 200, id="status"
        ),
        pytest.param(
            [DENY],
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
            {"kind": "ConfigMap"},
            "skipped",
            200,
            id="kind-without-pod-spec",
        ),
    ],
)
def test_verdict(
    policies: list[policy.CompiledPolicy],
    obj: dict[str, Any],
    request_args: dict[str, Any],
    outcome: str,
    code: int,
) -> None:
    args: dict[str, Any] = {"kind": "Pod", "namespace": "team-a", **request_args}
    decision = admission.decide(
        requests.review(obj, **args), policies, namespace_labels={}, now=NOW
    )
    assert (decision.outcome, decision.code) == (outcome, code)
    assert decision.allowed == (outcome != "denied")
    review = decision.to_review("u")["response"]
    assert review["uid"] == "u"
    assert review["allowed"] == decision.allowed


def test_denial_names_policy_check_path_and_fix() -> None:
    decision = admission.decide(
        requests.create(PRIVILEGED_POD, kind="Pod", namespace="team-a"),
        [DENY],
        namespace_labels={},
        now=NOW,
    )
    first, policy_line, owner, line = decision.message.splitlines()
    assert first == 'Bulkhead denied Pod "team-a/root": 1 violation'
    assert policy_line == "policy ClusterContainerPolicy/no-privileged-deny:"
    assert owner == '  container "app" (spec.containers[0]):'
    assert line.startswith(f"    - [privileged] {PRIVILEGED_FIELD}: ")
    assert "Fix: " in line
    assert decision.to_review("u")["response"]["status"]["code"] == 403


def test_warn_and_audit_ride_along_a_denial() -> None:
    decision = admission.decide(
        requests.create(PRIVILEGED_POD, kind="Pod", namespace="team-a"),
        [DENY, WARN, AUDIT],
        namespace_labels={},
        now=NOW,
    )
    assert not decision.allowed
    assert decision.warnings == (
        f"ClusterContainerPolicy/no-privileged-warn: [privileged] {PRIVILEGED_FIELD}: "
        + decision.violations[1].finding.message
        + ". Fix: "
        + decision.violations[1].finding.fix,
    )
    assert json.loads(decision.audit_annotations["violations"]) == [
        {
            "policy": "ClusterContainerPolicy/no-privileged-audit",
            "check": "privileged",
            "path": PRIVILEGED_FIELD,
        }
    ]
    assert [v.action for v in decision.violations] == ["Deny", "Warn", "Audit"]


def test_unreadable_pod_spec_is_refused_with_400_naming_the_field() -> None:
    broken = {**PRIVILEGED_POD, "spec": {"containers": "app"}}
    decision = admission.decide(
        requests.create(broken, kind="Pod", namespace="team-a"),
        [DENY],
        namespace_labels={},
        now=NOW,
    )
    assert (decision.allowed, decision.code) == (False, 400)
    assert decision.message.startswith('Bulkhead cannot read Pod "team-a/root": ')
    assert "spec.containers" in decision.message


SELECTED = {"match": {"namespaceSelector": {"matchLabels": {"tier": "prod"}}}}


@pytest.mark.parametrize(
    ("action", "allowed", "code"),
    [("Deny", False, 503), ("Warn", True, 200), ("Audit", True, 200)],
)
def test_labels_not_yet_known_are_never_a_silent_pass(
    action: str, allowed: bool, code: int
) -> None:
    decision = admission.decide(
        requests.create(PRIVILEGED_POD, kind="Pod", namespace="team-a"),
        [no_privileged(action, **SELECTED)],
        namespace_labels={},
        now=NOW,
        namespace_complete=False,
    )
    assert (decision.allowed, decision.code) == (allowed, code)
    name = f"ClusterContainerPolicy/no-privileged-{action.lower()}"
    if allowed:
        assert any(w.startswith("Bulkhead: ") and name in w for w in decision.warnings)
    else:
        assert "retry in a few seconds" in decision.message
        assert name in decision.message


def _signing(
    name: str, match: dict[str, Any] | None = None, *, from_secret: bool = False
) -> policy.CompiledPolicy:
    """A policy checking signatures of ghcr.io/acme images: with a key written in it, or
    (``from_secret``) with a key Secret the operator has not resolved yet."""
    # A P-256 SubjectPublicKeyInfo with a made-up point: the decision only counts key ids.
    der = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + bytes(65)
    key = f"-----BEGIN PUBLIC KEY-----\n{base64.b64encode(der).decode()}\n-----END PUBLIC KEY-----"
    keys: dict[str, Any] = (
        {"keySecrets": [{"namespace": "sigstore", "name": "release", "key": "cosign.pub"}]}
        if from_secret
        else {"keys": [key]}
    )
    spec: dict[str, Any] = {
        "rules": {"imageSignatures": {**keys, "repositories": ["ghcr.io/acme/*"]}}
    }
    if match is not None:
        spec["match"] = match
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": name},
            "spec": spec,
        }
    )


def _pod_running(*images: str) -> dict[str, Any]:
    obj = pod()
    obj["spec"] = {
        "containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)],
        "initContainers": [{"name": "init", "image": images[0]}],
    }
    return obj


@pytest.mark.parametrize(
    ("policies", "expected"),
    [
        pytest.param([RESTRICTED], (), id="no-signature-policy"),
        pytest.param(
            [_signing("signed")],
            ("ghcr.io/acme/app:1", "ghcr.io/acme/side@sha256:" + "b" * 64),
            id="covered-images-once",
        ),
        pytest.param(
            [_signing("elsewhere", match={"namespaces": ["team-b"]})],
            (),
            id="policy-not-applying",
        ),
        pytest.param([_signing("waiting", from_secret=True)], (), id="keys-not-resolved"),
        pytest.param(
            [_signing("waiting", from_secret=True), _signing("signed")],
            ("ghcr.io/acme/app:1", "ghcr.io/acme/side@sha256:" + "b" * 64),
            id="another-policy-resolved",
        ),
    ],
)
def test_images_to_verify_are_the_covered_images_of_applicable_policies(
    policies: list[policy.CompiledPolicy], expected: tuple[str, ...]
) -> None:
    request = requests.create(
        _pod_running(
            "ghcr.io/acme/app:1",
            "docker.io/library/nginx:1",
            "ghcr.io/acme/side@sha256:" + "b" * 64,
        ),
        kind="Pod",
        namespace="team-a",
    )
    wanted = admission.images_to_verify(request, policies, namespace_labels={}, now=NOW)
    assert sorted(wanted) == sorted(expected)


def test_unresolved_keys_deny_the_covered_images_without_asking_a_registry() -> None:
    waiting = _signing("waiting", from_secret=True)
    image = "ghcr.io/acme/app@sha256:" + "c" * 64
    request = requests.create(_pod_running(image), kind="Pod", namespace="team-a")
    assert admission.images_to_verify(request, [waiting], namespace_labels={}, now=NOW) == ()
    decision = admission.decide(request, [waiting], namespace_labels={}, now=NOW)
    assert not decision.allowed
    assert "the key Secret sigstore/release key cosign.pub is not resolved" in decision.message


def test_a_signature_policy_denies_without_evidence_and_passes_with_it() -> None:
    signing = _signing("signed")
    image = "ghcr.io/acme/app@sha256:" + "c" * 64
    request = requests.create(_pod_running(image), kind="Pod", namespace="team-a")
    bare = admission.decide(request, [signing], namespace_labels={}, now=NOW)
    assert not bare.allowed
    assert "was not verified" in bare.message
    key_id = signing.image_signatures.keys[0].id if signing.image_signatures else ""
    evidence = {
        image: policy.signatures.Evidence(
            image=image,
            digest="sha256:" + "c" * 64,
            signatures=(policy.signatures.Signature(key_id),),
        )
    }
    proven = admission.decide(request, [signing], namespace_labels={}, now=NOW, evidence=evidence)
    assert proven.allowed, proven.message


def crowded_pod(count: int) -> dict[str, Any]:
    """``PRIVILEGED_POD`` with ``count`` privileged containers ``c0``, ``c1``, ..."""
    crowded = copy.deepcopy(PRIVILEGED_POD)
    crowded["spec"]["containers"] = [
        {"name": f"c{i}", "image": "ghcr.io/acme/app:1", "securityContext": {"privileged": True}}
        for i in range(count)
    ]
    return crowded


def test_a_denial_of_many_containers_shows_the_first_and_counts_the_rest() -> None:
    crowded = crowded_pod(200)
    decision = create(crowded, [cluster_policy("p", {"rules": {"privileged": False}})])
    lines = decision.message.splitlines()
    assert lines[0].endswith(": 200 violations")
    assert lines[2] == '  container "c0" (spec.containers[0]):'
    assert lines[3].startswith("    - [privileged] spec.containers[0].securityContext.privileged:")
    shown = sum(line.startswith("    - [privileged]") for line in lines)
    assert 0 < shown < 200
    assert lines[-1] == f"... and {200 - shown} more violations"
    assert len(lines) <= 61


def test_a_denial_of_many_violations_from_several_policies_counts_each_once() -> None:
    crowded = crowded_pod(200)
    first = cluster_policy("first", {"profile": {"level": "baseline"}})
    rule = cluster_policy("rule", {"rules": {"privileged": False}})
    third = cluster_policy("third", {"profile": {"level": "baseline"}})
    decision = create(crowded, [first, rule, third])
    assert not decision.allowed
    lines = decision.message.splitlines()
    # 200 pss/privileged (from first and third) and 200 privileged (from rule)
    assert lines[0].endswith(": 400 violations")
    assert lines[1] == "policy ClusterContainerPolicy/first (profile baseline:latest):"
    assert lines[3].startswith(
        "    - [pss/privileged] spec.containers[0].securityContext.privileged"
    )
    assert lines[3].endswith("(also policy ClusterContainerPolicy/third)")
    # third reports nothing first: it has no group of its own
    assert not any(line.startswith("policy ClusterContainerPolicy/third") for line in lines)
    shown = sum(line.startswith("    - [") for line in lines)
    assert len(lines) <= 61
    assert lines[-1] == f"... and {400 - shown} more violations"


@pytest.mark.parametrize("cap", [None, 20])
def test_a_policy_with_an_action_outside_the_three_never_passes_what_it_finds(
    cap: int | None,
) -> None:
    # the compiler refuses such an action; a decision given one anyway raises (the server
    # answers that with a code-500 denial) rather than dropping its findings
    broken = dataclasses.replace(DENY, action="Block")
    with pytest.raises(KeyError):
        admission.decide(
            requests.create(PRIVILEGED_POD, kind="Pod", namespace="team-a"),
            [broken],
            namespace_labels={},
            now=NOW,
            cap=cap,
        )
