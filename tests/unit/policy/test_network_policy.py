"""``networkPolicy``: what counts as a default deny, and admission of Pods and NetworkPolicies."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest

from webhook import admission, policy
from webhook.policy import network_policy

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def compiled(value: object = True, *, action: str = "Deny", **spec: Any) -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "isolate"},
            "spec": {"action": action, "rules": {"networkPolicy": value}, **spec},
        }
    )


def netpol(name: str = "deny", namespace: str = "shop", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"podSelector": {}, **spec},
    }


DENY_INGRESS = netpol("deny-ingress", policyTypes=["Ingress"])
DENY_ALL = netpol("deny-all", policyTypes=["Ingress", "Egress"])
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"containers": [{"name": "app", "image": "nginx"}]},
}
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "api", "namespace": "shop"},
    "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx"}]}}},
}
RESOURCES = {"Pod": ("", "pods"), "Deployment": ("apps", "deployments")}


def isolation(*objects: dict[str, Any], terminating: frozenset[str] = frozenset()) -> Any:
    known = network_policy.of_objects(objects, default_namespace="default")
    return policy.Isolation(known=True, denying=known.denying, terminating=terminating)


# -- the policy value ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "directions"),
    [
        (True, ("Ingress",)),
        ({}, ("Ingress",)),
        ({"egress": False}, ("Ingress",)),
        ({"egress": True}, ("Ingress", "Egress")),
    ],
    ids=["true", "empty-object", "egress-false", "egress-true"],
)
def test_value_sets_the_directions(value: object, directions: tuple[str, ...]) -> None:
    assert compiled(value).network_isolation == network_policy.Settings(directions=directions)
    assert "networkPolicy" in policy.RULE_IDS


def test_false_switches_it_off_and_a_policy_with_nothing_else_enforces_nothing() -> None:
    with pytest.raises(policy.CompileError, match="enforces nothing"):
        compiled(False)


@pytest.mark.parametrize(
    ("value", "path", "reason"),
    [
        ("yes", "spec.rules.networkPolicy", "must be true"),
        ({"egres": True}, "spec.rules.networkPolicy.egres", "unknown field"),
        ({"egress": "true"}, "spec.rules.networkPolicy.egress", "must be true or false"),
    ],
    ids=["string", "unknown-field", "egress-string"],
)
def test_bad_values_are_refused_with_their_path(value: object, path: str, reason: str) -> None:
    with pytest.raises(policy.CompileError) as caught:
        compiled(value)
    [problem] = caught.value.problems
    assert problem.path == path
    assert reason in problem.reason


# -- which NetworkPolicies deny by default -----------------------------------------------


@pytest.mark.parametrize(
    ("spec", "denied"),
    [
        ({"policyTypes": ["Ingress"]}, {"Ingress"}),
        ({"policyTypes": ["Ingress", "Egress"]}, {"Ingress", "Egress"}),
        ({"policyTypes": ["Egress"]}, {"Egress"}),
        ({}, {"Ingress"}),  # policyTypes left out: Ingress always
        ({"egress": [{"to": [{"podSelector": {}}]}]}, {"Ingress"}),  # Egress implied, has rules
        ({"policyTypes": ["Ingress"], "ingress": []}, {"Ingress"}),
        ({"policyTypes": ["Ingress"], "ingress": [{}]}, set()),  # allows everything
        (
            {"policyTypes": ["Ingress", "Egress"], "ingress": [{"from": [{"podSelector": {}}]}]},
            {"Egress"},
        ),
        ({"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}, set()),
        (
            {
                "podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists"}]},
                "policyTypes": ["Ingress"],
            },
            set(),
        ),
        ({"podSelector": {"matchLabels": {}}, "policyTypes": ["Ingress"]}, {"Ingress"}),
        ({"policyTypes": "Ingress"}, set()),  # malformed: denies nothing
        ({"podSelector": "all", "policyTypes": ["Ingress"]}, set()),
    ],
    ids=[
        "ingress",
        "ingress-and-egress",
        "egress-only",
        "types-left-out",
        "types-left-out-egress-rules",
        "empty-ingress-list",
        "allow-all-rule",
        "ingress-rules-egress-denied",
        "selects-some-pods",
        "selects-by-expression",
        "empty-match-labels",
        "types-not-a-list",
        "selector-not-an-object",
    ],
)
def test_default_deny_definition(spec: dict[str, Any], denied: set[str]) -> None:
    obj = netpol()
    obj["spec"].update(spec)
    assert network_policy.denied_directions(obj) == frozenset(denied)


# -- Pods and pod templates ----------------------------------------------------------------


def review(
    obj: dict[str, Any] | None,
    *,
    kind: str,
    operation: str = "CREATE",
    old: dict[str, Any] | None = None,
    name: str = "",
) -> admission.Request:
    group, resource = RESOURCES.get(kind, ("networking.k8s.io", "networkpolicies"))
    request: dict[str, Any] = {
        "uid": "1",
        "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": resource},
        "operation": operation,
        "namespace": "shop",
        "name": name,
        "userInfo": {"username": "alice"},
        "object": obj,
        "oldObject": old,
    }
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
    return admission.parse(body)


def decide(
    request: admission.Request,
    isolated: policy.Isolation,
    policies: list[policy.CompiledPolicy] | None = None,
) -> admission.Decision:
    return admission.decide(
        request,
        [compiled()] if policies is None else policies,
        namespace_labels={"kubernetes.io/metadata.name": "shop"},
        now=NOW,
        isolation=isolated,
    )


@pytest.mark.parametrize(
    ("value", "present", "missing"),
    [
        (True, [DENY_INGRESS], []),
        (True, [DENY_ALL], []),
        (True, [], ["Ingress"]),
        (True, [netpol(namespace="other", policyTypes=["Ingress"])], ["Ingress"]),
        (True, [netpol(policyTypes=["Ingress"], ingress=[{}])], ["Ingress"]),
        ({"egress": True}, [DENY_INGRESS], ["Egress"]),
        ({"egress": True}, [DENY_ALL], []),
        (
            {"egress": True},
            [DENY_INGRESS, netpol("deny-egress", policyTypes=["Egress"])],
            [],
        ),
        ({"egress": True}, [], ["Ingress and Egress"]),
    ],
    ids=[
        "ingress-denied",
        "all-denied",
        "no-policy",
        "policy-in-another-namespace",
        "allow-policy-only",
        "egress-required-missing",
        "egress-required-present",
        "egress-from-a-second-policy",
        "both-missing",
    ],
)
@pytest.mark.parametrize("kind", ["Pod", "Deployment"])
def test_pods_need_a_default_deny_in_their_namespace(
    value: object, present: list[dict[str, Any]], missing: list[str], kind: str
) -> None:
    obj = POD if kind == "Pod" else DEPLOYMENT
    decision = decide(review(obj, kind=kind), isolation(*present), [compiled(value)])
    assert decision.allowed is not missing
    if missing:
        [violation] = decision.violations
        assert violation.finding.check == "networkPolicy"
        assert violation.finding.path == "metadata.namespace"
        assert (
            f'namespace "shop" has no default-deny NetworkPolicy for {missing[0]}'
            in decision.message
        )
        assert "policy ClusterContainerPolicy/isolate:" in decision.message
        assert "Fix: Apply a default-deny NetworkPolicy" in decision.message


def test_unknown_network_policies_fail_closed_with_a_message() -> None:
    decision = decide(review(POD, kind="Pod"), policy.UNKNOWN_ISOLATION)
    assert not decision.allowed
    assert decision.code == 403
    assert "has not loaded the cluster's NetworkPolicies yet" in decision.message
    assert "retry in a few seconds" in decision.message


def test_warn_and_exclusions_apply_as_to_any_check() -> None:
    warned = decide(review(POD, kind="Pod"), isolation(), [compiled(action="Warn")])
    assert warned.allowed
    assert any("networkPolicy" in w and "metadata.namespace" in w for w in warned.warnings)
    excused = compiled(exclude=[{"namespaces": ["shop"], "checks": ["networkPolicy"]}])
    assert decide(review(POD, kind="Pod"), isolation(), [excused]).allowed


def test_a_policy_not_matching_the_namespace_does_not_judge() -> None:
    elsewhere = compiled(match={"namespaces": ["payments"]})
    assert decide(review(POD, kind="Pod"), isolation(), [elsewhere]).allowed


# -- deleting and changing NetworkPolicies ------------------------------------------------


def test_deleting_the_last_default_deny_is_refused() -> None:
    request = review(None, kind="NetworkPolicy", operation="DELETE", old=DENY_ALL, name="deny-all")
    decision = decide(request, isolation(DENY_ALL))
    assert not decision.allowed
    [violation] = decision.violations
    assert (violation.finding.check, violation.finding.path) == ("networkPolicy", "metadata.name")
    assert (
        'NetworkPolicy "deny-all" is the last default-deny NetworkPolicy for Ingress in '
        'namespace "shop"' in decision.message
    )


@pytest.mark.parametrize(
    ("value", "old", "others", "allowed"),
    [
        (True, DENY_ALL, [DENY_INGRESS], True),
        (True, DENY_INGRESS, [netpol("deny-egress", policyTypes=["Egress"])], False),
        ({"egress": True}, DENY_ALL, [DENY_INGRESS], False),
        (True, netpol("allow-web", policyTypes=["Ingress"], ingress=[{}]), [], True),
        (True, netpol("deny-egress", policyTypes=["Egress"]), [], True),
        (True, DENY_INGRESS, [netpol("deny-other", "other", policyTypes=["Ingress"])], False),
    ],
    ids=[
        "another-denies-ingress",
        "the-other-denies-only-egress",
        "egress-required-and-lost",
        "an-allow-policy",
        "egress-not-required",
        "the-other-is-in-another-namespace",
    ],
)
def test_deletion_table(
    value: object, old: dict[str, Any], others: list[dict[str, Any]], allowed: bool
) -> None:
    name = old["metadata"]["name"]
    request = review(None, kind="NetworkPolicy", operation="DELETE", old=old, name=name)
    decision = decide(request, isolation(old, *others), [compiled(value)])
    assert decision.allowed is allowed, decision.message


def update(new: dict[str, Any]) -> admission.Request:
    """An update of ``DENY_INGRESS`` to ``new``."""
    return review(
        new, kind="NetworkPolicy", operation="UPDATE", old=DENY_INGRESS, name="deny-ingress"
    )


def test_an_update_that_ends_the_default_deny_is_refused_and_one_that_keeps_it_is_not() -> None:
    opened = copy.deepcopy(DENY_INGRESS)
    opened["spec"]["ingress"] = [{}]
    refused = decide(update(opened), isolation(DENY_INGRESS))
    assert not refused.allowed
    assert "[networkPolicy] metadata.name: " in refused.message
    widened = copy.deepcopy(DENY_INGRESS)
    widened["spec"]["policyTypes"] = ["Ingress", "Egress"]
    kept = decide(update(widened), isolation(DENY_INGRESS))
    assert kept.allowed
    assert kept.judged


def test_creating_a_network_policy_is_not_judged() -> None:
    decision = decide(review(DENY_INGRESS, kind="NetworkPolicy", name="deny"), isolation())
    assert decision.allowed
    assert not decision.judged


def test_deleting_in_a_namespace_being_deleted_is_allowed() -> None:
    request = review(None, kind="NetworkPolicy", operation="DELETE", old=DENY_ALL, name="deny-all")
    gone = isolation(DENY_ALL, terminating=frozenset({"shop"}))
    assert decide(request, gone).allowed


def test_a_deletion_without_old_object_is_refused() -> None:
    request = review(None, kind="NetworkPolicy", operation="DELETE", name="deny-all")
    decision = decide(request, isolation(DENY_ALL))
    assert (decision.allowed, decision.code) == (False, 400)
    assert "no oldObject" in decision.message


def test_deleting_while_unknown_fails_closed() -> None:
    request = review(None, kind="NetworkPolicy", operation="DELETE", old=DENY_ALL, name="deny-all")
    decision = decide(request, policy.UNKNOWN_ISOLATION)
    assert not decision.allowed
    assert "has not loaded the cluster's NetworkPolicies yet" in decision.message


def test_other_deletions_stay_unjudged() -> None:
    request = review(None, kind="Pod", operation="DELETE", old=POD, name="web")
    assert not decide(request, isolation()).judged


def test_replaced_tracks_one_policy_without_touching_the_rest() -> None:
    before = isolation(DENY_INGRESS, netpol("deny-all", policyTypes=["Ingress", "Egress"]))
    assert before.names("shop", "Ingress") == ("deny-all", "deny-ingress")
    after = before.replaced("shop", "deny-all", None)
    assert after.names("shop", "Ingress") == ("deny-ingress",)
    assert after.names("shop", "Egress") == ()
    assert before.names("shop", "Egress") == ("deny-all",)
    assert after.replaced("shop", "deny-ingress", None).denying == {}


def test_the_policy_summary_names_the_check() -> None:
    assert compiled().rule_ids == ("networkPolicy",)
    assert (
        policy.describe(compiled()) == "ClusterContainerPolicy/isolate: Deny, rules [networkPolicy]"
    )


def test_a_capped_answer_counts_the_namespace_finding_exactly() -> None:
    # the namespace's finding comes after the container checks; a cap it passes on that last
    # check is an exact count, and a cap passed before it says "at least"
    both = policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "isolate"},
            "spec": {"rules": {"networkPolicy": True, "readOnlyRootFilesystem": True}},
        }
    )
    subject = policy.Subject(kind="Pod", namespace="shop")
    view = admission.pod_view("Pod", POD)
    full = policy.judge(both, view, subject, now=NOW, isolation=isolation())
    assert [f.check for f in full] == ["readOnlyRootFilesystem", "networkPolicy"]
    exact = policy.judge_first(both, view, subject, limit=1, now=NOW, isolation=isolation())
    assert (exact.more, exact.more_checks, exact.stopped) == (1, ("networkPolicy",), False)
    isolated = isolation(DENY_INGRESS)
    alone = policy.judge_first(both, view, subject, limit=1, now=NOW, isolation=isolated)
    assert [f.check for f in alone.shown] == ["readOnlyRootFilesystem"]
    assert (alone.more, alone.stopped) == (0, False)
    two = copy.deepcopy(POD)
    two["spec"]["containers"].append({"name": "side", "image": "nginx"})
    early = policy.judge_first(
        both, admission.pod_view("Pod", two), subject, limit=1, now=NOW, isolation=isolation()
    )
    assert (early.more, early.more_checks, early.stopped) == (1, ("readOnlyRootFilesystem",), True)
