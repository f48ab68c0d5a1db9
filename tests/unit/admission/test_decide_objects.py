"""Admission of the object rules' kinds: Services, Ingresses and RBAC objects."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest
import yaml

from tests import object_rules
from webhook import admission, policy

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
OBJECTS = policy.compile(yaml.safe_load(object_rules.POLICY))
GROUPS = {
    "Service": ("", "services"),
    "Ingress": ("networking.k8s.io", "ingresses"),
    "Role": ("rbac.authorization.k8s.io", "roles"),
    "ClusterRole": ("rbac.authorization.k8s.io", "clusterroles"),
    "RoleBinding": ("rbac.authorization.k8s.io", "rolebindings"),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io", "clusterrolebindings"),
    "Pod": ("", "pods"),
}


def submit(
    new: dict[str, Any],
    *,
    old: dict[str, Any] | None = None,
    policies: list[policy.CompiledPolicy] | None = None,
) -> admission.Decision:
    group, resource = GROUPS[new["kind"]]
    request: dict[str, Any] = {
        "uid": "1",
        "kind": {"group": group, "version": "v1", "kind": new["kind"]},
        "resource": {"group": group, "version": "v1", "resource": resource},
        "operation": "CREATE" if old is None else "UPDATE",
        "userInfo": {"username": "alice"},
        "object": new,
    }
    namespace = new["metadata"].get("namespace")
    if namespace:
        request["namespace"] = namespace
    if old is not None:
        request["oldObject"] = old
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
    return admission.decide(
        admission.parse(body),
        [OBJECTS] if policies is None else policies,
        namespace_labels={"kubernetes.io/metadata.name": "team"},
        now=NOW,
    )


def case(case_id: str) -> dict[str, Any]:
    [found] = [c for c in object_rules.CASES if c.id == case_id]
    return object_rules.object_(found, "team")


@pytest.mark.parametrize("item", object_rules.CASES, ids=lambda c: c.id)
def test_create_is_judged_by_the_rules_of_its_kind(item: object_rules.Case) -> None:
    decision = submit(object_rules.object_(item, "team"))
    assert decision.allowed is not item.violations
    assert tuple((v.finding.check, v.finding.path) for v in decision.violations) == item.violations
    if item.violations:
        assert decision.code == 403
        assert decision.message.startswith(f"Bulkhead denied {item.kind} ")
        assert "policy ClusterContainerPolicy/network-and-access:" in decision.message
        owner = 'container "app"' if item.kind == "Pod" else f"{item.kind}:"
        assert f"\n  {owner}" in decision.message
        assert "pod:" not in decision.message


def test_an_update_of_labels_or_status_only_is_not_judged() -> None:
    old = case("service-node-port")
    new = copy.deepcopy(old)
    new["metadata"]["labels"]["team"] = "web"
    new["status"] = {"loadBalancer": {}}
    decision = submit(new, old=old)
    assert (decision.allowed, decision.judged) == (True, False)


@pytest.mark.parametrize(
    ("where", "value"),
    [(("spec", "externalIPs"), ["203.0.113.7"]), (("metadata", "annotations"), {"a": "b"})],
    ids=["spec", "annotations"],
)
def test_an_update_of_what_rules_read_is_judged(where: tuple[str, str], value: Any) -> None:
    old = case("service-node-port")
    new = copy.deepcopy(old)
    new[where[0]][where[1]] = value
    decision = submit(new, old=old)
    assert decision.judged
    assert not decision.allowed


def test_a_namespaced_policy_never_judges_a_cluster_scoped_object() -> None:
    team = policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ContainerPolicy",
            "metadata": {"name": "team-rbac", "namespace": "team"},
            "spec": {"rules": {"rbac": True}},
        }
    )
    assert submit(case("clusterrole-reads-every-secret"), policies=[team]).allowed
    assert not submit(case("role-wildcards"), policies=[team]).allowed


def test_match_kinds_selects_object_kinds_like_any_kind() -> None:
    document = yaml.safe_load(object_rules.POLICY)
    document["spec"]["match"]["kinds"] = ["Pod", "Service"]
    pods_and_services = policy.compile(document)
    assert not submit(case("service-node-port"), policies=[pods_and_services]).allowed
    assert submit(case("role-wildcards"), policies=[pods_and_services]).allowed


def test_pod_rules_and_profiles_never_judge_other_kinds() -> None:
    profile = policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "restricted"},
            "spec": {"profile": {"level": "restricted"}, "rules": {"privileged": False}},
        }
    )
    decision = submit(case("service-node-port"), policies=[profile])
    assert decision.allowed
    assert not decision.violations


def test_an_unreadable_object_is_refused_with_400_naming_the_field() -> None:
    service = case("service-cluster-ip")
    service["spec"]["externalIPs"] = "203.0.113.7"
    decision = submit(service)
    assert (decision.allowed, decision.code) == (False, 400)
    assert 'Service "team/web": spec.externalIPs: must be a list, not str' in decision.message


def test_unreadable_metadata_is_refused_whatever_the_policies() -> None:
    service = case("service-cluster-ip")
    service["metadata"]["labels"] = ["judged"]
    decision = submit(service, policies=[])
    assert (decision.allowed, decision.code) == (False, 400)
    assert "metadata.labels" in decision.message
