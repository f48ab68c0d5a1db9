"""``bulkhead check`` judges Services, Ingresses and RBAC objects offline, like the webhook."""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml

from tests import object_rules
from tests.unit.cli import console


@pytest.fixture
def policy(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "policy.yaml"
    path.write_text(object_rules.POLICY)
    return path


def test_every_case_is_judged_with_the_expected_violations(
    tmp_path: pathlib.Path, policy: pathlib.Path
) -> None:
    manifests = tmp_path / "objects.yaml"
    bodies = [object_rules.object_(case, "team") for case in object_rules.CASES]
    manifests.write_text(yaml.safe_dump_all(bodies))
    result = console.run("check", "-f", str(manifests), "--policy-file", str(policy), "-o", "json")
    assert result.returncode == 1, result.stderr
    results = json.loads(result.stdout)["results"]
    assert [(r["kind"], r["name"]) for r in results] == [
        (case.kind, case.name) for case in object_rules.CASES
    ]
    for case, judged in zip(object_rules.CASES, results, strict=True):
        found = tuple((v["check"], v["path"]) for v in judged["violations"])
        assert found == case.violations, case.id
        assert judged["allowed"] is not case.violations, case.id
        assert all(v["fix"] and v["message"] for v in judged["violations"])


def test_cluster_scoped_objects_have_no_namespace(
    tmp_path: pathlib.Path, policy: pathlib.Path
) -> None:
    [case] = [c for c in object_rules.CASES if c.id == "clusterrole-reads-every-secret"]
    result = console.run(
        "check", "-f", "-", "--policy-file", str(policy), "-o", "json",
        stdin=json.dumps(object_rules.object_(case, "team")),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    [judged] = json.loads(result.stdout)["results"]
    assert judged["message"].startswith(
        'Bulkhead denied ClusterRole "e2e-secret-reader": 1 violation'
    )


def test_a_namespaced_policy_never_judges_a_cluster_scoped_object(tmp_path: pathlib.Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: bulkhead.dev/v1alpha1\nkind: ContainerPolicy\n"
        "metadata: {name: team-rbac, namespace: team}\nspec: {rules: {rbac: true}}\n"
    )
    [case] = [c for c in object_rules.CASES if c.id == "clusterrole-reads-every-secret"]
    result = console.run(
        "check", "-f", "-", "--policy-file", str(policy), "-n", "team", "-o", "json",
        stdin=json.dumps(object_rules.object_(case, "team")),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    [judged] = json.loads(result.stdout)["results"]
    assert judged["violations"] == []


def test_an_unreadable_object_is_refused_naming_the_field(policy: pathlib.Path) -> None:
    service = object_rules.object_(object_rules.CASES[0], "team")
    service["spec"]["externalIPs"] = "203.0.113.7"
    result = console.run(
        "check", "-f", "-", "--policy-file", str(policy), stdin=json.dumps(service)
    )
    assert result.returncode == 2
    assert 'Service "team/web": spec.externalIPs: must be a list, not str' in result.stderr


ISOLATE = """\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: isolate}
spec:
  rules:
    networkPolicy: {egress: true}
"""
ISOLATED_INPUT = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {containers: [{name: app, image: nginx}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: safe}
spec: {template: {spec: {containers: [{name: app, image: nginx}]}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-in, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: safe}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"""


def test_check_judges_network_policy_with_the_network_policies_of_its_input(
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "isolate.yaml").write_text(ISOLATE)
    result = console.run(
        "check", "-f", "-", "--policy-file", str(tmp_path / "isolate.yaml"), "-o", "json",
        stdin=ISOLATED_INPUT,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    judged = {f"{r['kind']}/{r['name']}": r for r in json.loads(result.stdout)["results"]}
    assert judged["Deployment/api"]["allowed"]
    assert judged["NetworkPolicy/deny-in"]["allowed"]
    [violation] = judged["Pod/web"]["violations"]
    assert (violation["check"], violation["path"]) == ("networkPolicy", "metadata.namespace")
    assert violation["message"].startswith(
        'namespace "shop" has no default-deny NetworkPolicy for Egress'
    )
