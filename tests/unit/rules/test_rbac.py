"""Table tests for the ``rbac`` rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rules import objectspecs as obj_specs
from tests.unit.rules import podspecs as ps
from webhook import rules
from webhook.rules import objectview

ID = "rbac"
ALLOW = {
    "allowedSubjects": ["Group:platform-admins", "ServiceAccount:argocd/*"],
    "allowedRoles": ["system:*", "ops-impersonator"],
}


def role(*rules_: dict[str, Any], kind: str = "Role", name: str = "app") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if kind == "Role":
        metadata["namespace"] = "team"
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "rules": list(rules_),
    }


def rule(verbs: list[str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"apiGroups": [""], "verbs": verbs, "resources": resources, **extra}


def binding(
    *subjects: dict[str, Any], role_name: str = "cluster-admin", kind: str = "ClusterRoleBinding"
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "grant"}
    if kind == "RoleBinding":
        metadata["namespace"] = "team"
    return {
        "kind": kind,
        "metadata": metadata,
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role_name,
        },
        "subjects": list(subjects),
    }


def sa(name: str, namespace: str | None = None) -> dict[str, Any]:
    out = {"kind": "ServiceAccount", "name": name}
    return out if namespace is None else {**out, "namespace": namespace}


def group(name: str) -> dict[str, Any]:
    return {"kind": "Group", "name": name, "apiGroup": "rbac.authorization.k8s.io"}


CASES = [
    pytest.param(True, role(rule(["get", "list"], ["pods"])), [], id="allow-narrow-role"),
    pytest.param(True, role(rule(["*"], ["pods"])), ["rules[0].verbs[0]"], id="deny-wildcard-verb"),
    pytest.param(
        True,
        role(rule(["get"], ["pods"]), rule(["get"], ["deployments", "*"])),
        ["rules[1].resources[1]"],
        id="deny-wildcard-resource",
    ),
    pytest.param(
        True, role(rule(["get"], ["*/scale"])), ["rules[0].resources[0]"], id="deny-any-scale"
    ),
    pytest.param(
        True,
        role(rule(["*"], ["*"]), kind="ClusterRole"),
        ["rules[0].verbs[0]", "rules[0].resources[0]"],
        id="deny-star-on-star",
    ),
    pytest.param(
        True,
        role(rule(["get", "escalate", "bind"], ["roles"]), rule(["impersonate"], ["users"])),
        ["rules[0].verbs[1]", "rules[0].verbs[2]", "rules[1].verbs[0]"],
        id="deny-privilege-verbs",
    ),
    pytest.param(
        ALLOW,
        role(rule(["impersonate"], ["users"]), name="ops-impersonator"),
        [],
        id="allow-exempt-role",
    ),
    pytest.param(
        ALLOW,
        role(rule(["*"], ["*"]), kind="ClusterRole", name="system:controller:x"),
        [],
        id="allow-exempt-role-prefix",
    ),
    pytest.param(
        True,
        role(rule(["get", "list"], ["secrets"]), kind="ClusterRole"),
        ["rules[0].resources[0]"],
        id="deny-cluster-secret-reads",
    ),
    pytest.param(
        True,
        role(rule(["get"], ["secrets"])),
        [],
        id="edge-namespaced-role-may-read-secrets",
    ),
    pytest.param(
        True,
        role(rule(["get"], ["secrets"], resourceNames=["tls"]), kind="ClusterRole"),
        [],
        id="edge-named-secrets-only",
    ),
    pytest.param(
        True,
        role(rule(["create"], ["secrets"]), kind="ClusterRole"),
        [],
        id="edge-writing-is-not-reading",
    ),
    pytest.param(
        True,
        role(
            {"apiGroups": ["example.com"], "verbs": ["get"], "resources": ["secrets"]},
            kind="ClusterRole",
        ),
        [],
        id="edge-secrets-of-another-group",
    ),
    pytest.param(
        True,
        binding(sa("ci", "team"), group("devs")),
        ["subjects[0]", "subjects[1]"],
        id="deny-cluster-admin-to-sa-and-group",
    ),
    pytest.param(
        ALLOW,
        binding(group("platform-admins"), sa("argocd-server", "argocd"), sa("x", "argocd-evil")),
        ["subjects[2]"],
        id="allow-listed-subjects-only",
    ),
    pytest.param(
        True, binding(sa("ci", "team"), role_name="view"), [], id="allow-binding-other-role"
    ),
    pytest.param(
        ALLOW,
        binding(sa("argocd-server"), kind="RoleBinding"),
        ["subjects[0]"],
        id="edge-sa-without-namespace-is-the-bindings",
    ),
    pytest.param(True, binding(), [], id="edge-no-subjects"),
]


@pytest.mark.parametrize(("value", "obj", "expected"), CASES)
def test_check(value: object, obj: dict[str, Any], expected: list[str]) -> None:
    assert obj_specs.paths(obj_specs.run(ID, value, obj)) == expected


def test_binding_message_names_the_subject() -> None:
    [found] = obj_specs.run(ID, True, binding(sa("ci", "team")))
    assert found.message.startswith(
        'ClusterRoleBinding "grant" grants ServiceAccount:team/ci cluster-admin'
    )
    assert "allowedSubjects" in found.fix


def test_a_namespaced_binding_defaults_the_sa_namespace() -> None:
    [found] = obj_specs.run(ID, True, binding(sa("ci"), kind="RoleBinding"))
    assert "ServiceAccount:team/ci" in found.message


def test_false_turns_the_rule_off() -> None:
    assert rules.RULES[ID].bind(False, f"spec.rules.{ID}") is None


@pytest.mark.parametrize(
    ("obj", "path"),
    [
        (role(rule("get", ["pods"])), "rules[0].verbs"),
        ({**binding(), "subjects": [["x"]]}, "subjects[0]"),
        ({**binding(), "roleRef": "cluster-admin"}, "roleRef"),
    ],
    ids=["verbs-string", "subject-list", "roleref-string"],
)
def test_unreadable_fields_are_refused_not_judged(obj: dict[str, Any], path: str) -> None:
    with pytest.raises(objectview.ObjectError) as caught:
        obj_specs.run(ID, True, obj)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("value", "paths"),
    [
        ("on", [f"spec.rules.{ID}"]),
        ({"allowedSubjects": ["admins"]}, [f"spec.rules.{ID}.allowedSubjects[0]"]),
        ({"allowedSubjects": ["Robot:x"]}, [f"spec.rules.{ID}.allowedSubjects[0]"]),
        ({"allowedRoles": "system:*"}, [f"spec.rules.{ID}.allowedRoles"]),
        ({"roles": []}, [f"spec.rules.{ID}.roles"]),
    ],
    ids=["string", "subject-without-kind", "unknown-subject-kind", "roles-string", "unknown"],
)
def test_bad_values_are_config_errors(value: object, paths: list[str]) -> None:
    assert ps.problems(ID, value) == paths
