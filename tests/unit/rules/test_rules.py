"""Tests for the rule catalogue ``webhook.rules.RULES``."""

from __future__ import annotations

import ast
import pathlib

import pytest

from webhook import rules
from webhook.rules import findings, objectview, podview, registry

POD_IDS = {
    "allowPrivilegeEscalation",
    "automountServiceAccountToken",
    "capabilities",
    "hostNamespaces",
    "hostPath",
    "hostPorts",
    "images",
    "literalSecretEnv",
    "privileged",
    "probes",
    "readOnlyRootFilesystem",
    "resources",
    "runAsNonRoot",
    "seccomp",
    "secretsAsEnv",
}
OBJECT_IDS = {"ingressTLS", "rbac", "services"}
EXPECTED_IDS = POD_IDS | OBJECT_IDS
HERE = pathlib.Path(__file__).parent


def test_every_rule_is_registered() -> None:
    assert set(rules.RULES) == EXPECTED_IDS


@pytest.mark.parametrize("rule_id", sorted(EXPECTED_IDS))
def test_rule_is_documented(rule_id: str) -> None:
    rule = rules.RULES[rule_id]
    assert rule.id == rule_id
    assert rule.title
    assert rule.fix
    assert rule.fields
    if rule_id in POD_IDS:
        assert all(field.startswith("spec.") for field in rule.fields)
    else:
        assert isinstance(rule, registry.ObjectRule)
        assert set(rule.kinds) <= set(rules.OBJECT_KINDS)


def rule_modules() -> set[str]:
    return {rule.check.__module__ for rule in rules.RULES.values()}


@pytest.mark.parametrize(
    "module",
    sorted(
        rule_modules()
        | {
            "webhook.rules.image_references",
            "webhook.rules.quantity",
            "webhook.rules.safe_booleans",
        }
    ),
)
def test_every_rule_module_has_a_test_file(module: str) -> None:
    name = module.rsplit(".", 1)[1]
    assert (HERE / f"test_{name}.py").is_file(), f"{module} has no tests/unit/rules/test_{name}.py"


@pytest.mark.parametrize("module", sorted(rule_modules()))
def test_rule_modules_document_themselves(module: str) -> None:
    # from the source: a module compiled by mypyc keeps no docstring
    source = HERE.parents[2] / (module.replace(".", "/") + ".py")
    doc = ast.get_docstring(ast.parse(source.read_text(encoding="utf-8"))) or ""
    assert "no I/O" in doc
    assert "Policy value" in doc
    assert "Field" in doc


# One pod that breaks every rule: every rule must report something on it.
BAD_POD = {
    "hostNetwork": True,
    "securityContext": {"runAsNonRoot": False},
    "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
    "containers": [
        {
            "name": "app",
            "image": "nginx",
            "securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}},
            "ports": [{"containerPort": 80, "hostPort": 80}],
            "env": [
                {"name": "DB_PASSWORD", "value": "x"},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "t", "key": "t"}}},
            ],
        }
    ],
}
EVERYTHING_ON = {
    "allowPrivilegeEscalation": False,
    "automountServiceAccountToken": False,
    "capabilities": {"requireDrop": ["ALL"], "allowedAdd": []},
    "hostNamespaces": False,
    "hostPath": False,
    "hostPorts": False,
    "images": {"requireDigest": True, "allowedRegistries": ["ghcr.io/acme"], "forbidLatest": True},
    "literalSecretEnv": False,
    "privileged": False,
    "probes": ["liveness"],
    "readOnlyRootFilesystem": True,
    "resources": {"requireLimits": ["memory"]},
    "runAsNonRoot": True,
    "seccomp": "RuntimeDefault",
    "secretsAsEnv": False,
}


def test_example_policy_covers_every_rule() -> None:
    assert set(EVERYTHING_ON) == POD_IDS


@pytest.mark.parametrize("rule_id", sorted(POD_IDS))
def test_every_rule_reports_on_a_bad_pod(rule_id: str) -> None:
    bound = rules.RULES[rule_id].bind(EVERYTHING_ON[rule_id], f"spec.rules.{rule_id}")
    assert bound is not None
    found = bound.run(podview.read(BAD_POD))
    assert found
    for finding in found:
        assert isinstance(finding, findings.Finding)
        assert finding.check == rule_id
        assert finding.path.startswith("spec.")
        assert finding.message
        assert finding.fix
        if finding.path.startswith("spec.containers["):
            assert (finding.container, finding.image) == ("app", "nginx")
        else:
            assert finding.container is None


@pytest.mark.parametrize("rule_id", sorted(POD_IDS))
def test_every_rule_is_silent_on_an_empty_pod_when_it_has_nothing_to_judge(rule_id: str) -> None:
    # A pod with no containers and no pod-level fields: only pod-level requirements report.
    bound = rules.RULES[rule_id].bind(EVERYTHING_ON[rule_id], f"spec.rules.{rule_id}")
    assert bound is not None
    found = bound.run(podview.read({"containers": []}))
    pod_level = {"automountServiceAccountToken"}
    assert bool(found) is (rule_id in pod_level)


# One object per kind the object rules judge, each breaking its rule.
BAD_OBJECTS = {
    "Service": {"spec": {"type": "LoadBalancer", "externalIPs": ["203.0.113.7"]}},
    "Ingress": {"spec": {"rules": [{"host": "shop.example.com"}]}},
    "Role": {"rules": [{"apiGroups": [""], "verbs": ["*"], "resources": ["pods"]}]},
    "ClusterRole": {"rules": [{"apiGroups": [""], "verbs": ["list"], "resources": ["secrets"]}]},
    "RoleBinding": {
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "Group", "name": "devs"}],
    },
    "ClusterRoleBinding": {
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "team"}],
    },
}
OBJECTS_ON = {"ingressTLS": True, "rbac": True, "services": {"allowedTypes": ["ClusterIP"]}}


def test_every_object_kind_has_a_bad_example() -> None:
    assert set(BAD_OBJECTS) == set(rules.OBJECT_KINDS)
    assert set(OBJECTS_ON) == OBJECT_IDS


def _object_cases() -> list[tuple[str, str]]:
    return [
        (rule_id, kind)
        for rule_id in sorted(OBJECT_IDS)
        for kind in getattr(rules.RULES[rule_id], "kinds", ())
    ]


@pytest.mark.parametrize(("rule_id", "kind"), _object_cases())
def test_every_object_rule_reports_on_a_bad_object_and_not_on_an_empty_one(
    rule_id: str, kind: str
) -> None:
    bound = rules.RULES[rule_id].bind(OBJECTS_ON[rule_id], f"spec.rules.{rule_id}")
    assert isinstance(bound, registry.BoundObjectCheck)
    bad = objectview.ObjectView(
        kind, {"kind": kind, "metadata": {"name": "x"}, **BAD_OBJECTS[kind]}
    )
    found = bound.run(bad)
    assert found
    for finding in found:
        assert finding.check == rule_id
        assert finding.message.startswith(f'{kind} "x" ')
        assert finding.fix
        assert finding.container is None
    empty = objectview.ObjectView(kind, {"kind": kind, "metadata": {"name": "x"}})
    assert bound.run(empty) == []
