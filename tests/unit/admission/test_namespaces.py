"""Judging with partly known namespace labels: never matched with labels Bulkhead lacks."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.unit.admission import requests
from webhook import admission, policy
from webhook.admission import namespaces

NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


def _policy(name: str, action: str, selector: dict[str, Any]) -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": name},
            "spec": {
                "action": action,
                "rules": {"privileged": False},
                "match": {"namespaceSelector": selector},
            },
        },
        latest_minor=35,
    )


def _review(*, privileged: bool) -> admission.Request:
    container = {"name": "a", "image": "x", "securityContext": {"privileged": privileged}}
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [container]}}
    return requests.create(pod, kind="Pod", namespace="prod")


ENV_PROD = {"matchLabels": {"env": "prod"}}


def _decide(
    policies: list[policy.CompiledPolicy], known: namespaces.NamespaceLabels, *, privileged: bool
) -> admission.Decision:
    return admission.decide(
        _review(privileged=privileged),
        policies,
        namespace_labels=known.labels,
        namespace_complete=known.complete,
        now=NOW,
    )


def test_an_unknown_label_a_deny_policy_needs_refuses_with_503_and_says_retry() -> None:
    decision = _decide(
        [_policy("env", "Deny", ENV_PROD)], namespaces.assumed("prod"), privileged=True
    )
    assert decision.allowed is False
    assert decision.code == 503
    assert "retry" in decision.message
    assert "ClusterContainerPolicy/env (Deny) would report 1 finding" in decision.message
    assert "labels Bulkhead does not know: env" in decision.message


def test_known_labels_decide_either_way() -> None:
    policies = [_policy("env", "Deny", ENV_PROD)]
    denied = _decide(policies, namespaces.known("prod", {"env": "prod"}), privileged=True)
    assert (denied.allowed, denied.code) == (False, 403)
    allowed = _decide(policies, namespaces.known("prod", {"env": "dev"}), privileged=True)
    assert allowed.allowed is True


def test_the_question_does_not_matter_when_the_policy_finds_nothing() -> None:
    decision = _decide(
        [_policy("env", "Deny", ENV_PROD)], namespaces.assumed("prod"), privileged=False
    )
    assert decision.allowed is True
    assert decision.warnings == ()


def test_the_name_label_is_always_known() -> None:
    by_name = _policy("name", "Deny", {"matchLabels": {namespaces.NAME_LABEL: "prod"}})
    decision = _decide([by_name], namespaces.assumed("prod"), privileged=True)
    assert (decision.allowed, decision.code) == (False, 403)


@pytest.mark.parametrize("action", ["Warn", "Audit"])
def test_an_undecided_warn_or_audit_policy_warns(action: str) -> None:
    decision = _decide(
        [_policy("env", action, ENV_PROD)], namespaces.assumed("prod"), privileged=True
    )
    assert decision.allowed is True
    assert any("labels Bulkhead does not know: env" in w for w in decision.warnings)


def test_an_undecided_deny_is_added_to_a_denial() -> None:
    by_name = _policy("name", "Deny", {"matchLabels": {namespaces.NAME_LABEL: "prod"}})
    decision = _decide(
        [by_name, _policy("env", "Deny", ENV_PROD)], namespaces.assumed("prod"), privileged=True
    )
    assert (decision.allowed, decision.code) == (False, 403)
    assert "ClusterContainerPolicy/name" in decision.message
    assert "ClusterContainerPolicy/env (Deny) would report" in decision.message
