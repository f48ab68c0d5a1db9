"""Bulkhead judges its own chart: every Pod, Service and RBAC object it installs passes.

Owns: ``helm template charts/bulkhead ... | bulkhead check -f - --profile
restricted --policy-file <a policy enabling every Bulkhead rule, the chart's
registry allowed>`` exiting 0, with the default values and with every
optional part switched on; the policy is built from the rule registry, so a
new rule that the policy does not enable fails here; and a control showing
the same pipeline refuses the chart's Deployment once one hardening is
removed (so a pass means something).
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Final

import pytest
import yaml

from tests.chart import rendering
from webhook import admission, rules

REGISTRY: Final = "ghcr.io/bulkhead-dev/"
#: One setting per Bulkhead rule, each the strictest that makes sense.
EVERY_RULE: Final[Mapping[str, Any]] = {
    "runAsNonRoot": True,
    "privileged": False,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "hostNamespaces": False,
    "hostPath": {"allowedPrefixes": []},
    "hostPorts": False,
    "seccomp": "RuntimeDefault",
    "automountServiceAccountToken": False,
    "capabilities": {"requireDrop": ["ALL"], "allowedAdd": []},
    "images": {"requireDigest": True, "forbidLatest": True, "allowedRegistries": [REGISTRY]},
    "resources": {
        # No CPU limit: the chart leaves CPU unthrottled (a throttled webhook times out).
        "requireLimits": ["memory"],
        "requireRequests": ["cpu", "memory"],
        "maxLimits": {"cpu": "2", "memory": "1Gi"},
    },
    "probes": ["liveness", "readiness"],
    "literalSecretEnv": False,
    "secretsAsEnv": False,
    "services": {"allowedTypes": ["ClusterIP"]},
    "ingressTLS": True,
    "rbac": True,
}
#: Every optional part on, and the scheduling knobs set.
EVERYTHING_ON: Final[Mapping[str, Any]] = {
    "imagePullSecrets": [{"name": "registry-credentials"}],
    "webhook": {
        "antiAffinity": "hard",
        "replicas": 3,
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "priorityClassName": "system-cluster-critical",
        "resources": {"limits": {"cpu": "1", "memory": "472Mi"}},
        "extraEnv": [{"name": "TZ", "value": "UTC"}],
    },
    "operator": {"priorityClassName": "system-cluster-critical"},
    "audit": {"enabled": True},
    "serviceMonitor": {"enabled": True},
    "certManager": {"enabled": True},
    "policies": {"baseline": "Deny", "restricted": "Deny"},
}


def test_the_policy_enables_every_rule() -> None:
    assert set(EVERY_RULE) == set(rules.RULES)


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("policy") / "every-rule.yaml"
    document = {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": "every-rule"},
        "spec": {"action": "Deny", "rules": dict(EVERY_RULE)},
    }
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _bulkhead_check(manifest: str, policy: pathlib.Path) -> subprocess.CompletedProcess[str]:
    bulkhead = pathlib.Path(sys.executable).with_name("bulkhead")
    return subprocess.run(
        [str(bulkhead), "check", "-f", "-", "--profile", "restricted", "--policy-file",
         str(policy), "-o", "json"],
        input=manifest,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )  # fmt: skip


def _manifest(values: Mapping[str, Any], extra: Sequence[str] = ()) -> str:
    result = rendering.template(rendering.merge(rendering.BASE, values), extra=extra)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("values", "extra"),
    [({}, ()), (EVERYTHING_ON, rendering.OPTIONAL_APIS)],
    ids=["defaults", "everything on"],
)
def test_every_pod_the_chart_installs_passes_restricted_and_every_rule(
    policy_file: pathlib.Path, values: Mapping[str, Any], extra: Sequence[str]
) -> None:
    result = _bulkhead_check(_manifest(values, extra), policy_file)
    report = json.loads(result.stdout)
    judged = sorted(
        (r["kind"], r["name"]) for r in report["results"] if r["kind"] in admission.POD_KINDS
    )
    audit = [("Deployment", "bulkhead-audit")] if values.get("audit") else []
    # the chart's own Services and RBAC pass services and rbac too; its NetworkPolicies
    # (allow policies) are judged as objects whose removal networkPolicy would judge
    assert {r["kind"] for r in report["results"]} - set(admission.POD_KINDS) == {
        "Service", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "NetworkPolicy"
    }  # fmt: skip
    assert judged == [
        *audit,
        ("Deployment", "bulkhead-operator"),
        ("Deployment", "bulkhead-webhook"),
        ("Pod", "bulkhead-test"),
    ]
    for entry in report["results"]:
        assert entry["outcome"] != "skipped"
        assert entry["allowed"], entry["message"]
        assert not entry["warnings"], entry["warnings"]
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("field", "value", "check"),
    [
        ("readOnlyRootFilesystem", False, "readOnlyRootFilesystem"),
        ("allowPrivilegeEscalation", True, "allowPrivilegeEscalation"),
    ],
)
def test_the_same_pipeline_refuses_a_weakened_pod(
    policy_file: pathlib.Path, field: str, value: bool, check: str
) -> None:
    docs = [d for d in yaml.safe_load_all(_manifest({})) if d]
    webhook = rendering.find(docs, "Deployment", "bulkhead-webhook")
    rendering.pod_spec(webhook)["containers"][0]["securityContext"][field] = value
    result = _bulkhead_check(yaml.safe_dump(webhook), policy_file)
    assert result.returncode == 1, result.stdout
    (entry,) = json.loads(result.stdout)["results"]
    assert check in {v["check"] for v in entry["violations"]}
