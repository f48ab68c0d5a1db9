"""The per-policy cap of admission's answer: the same verdict as uncapped, less text."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from tests.unit.admission import requests
from webhook import admission, policy

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
LABELS = {"kubernetes.io/metadata.name": "team-a"}
RULES = {"privileged": False, "runAsNonRoot": True, "readOnlyRootFilesystem": True}


def compiled(name: str, action: str, **spec: Any) -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": name},
            "spec": {"action": action, **spec},
        }
    )


RESTRICTED = {"level": "restricted", "version": "latest"}
POLICY_SETS: dict[str, list[policy.CompiledPolicy]] = {
    "deny-profile": [compiled("pss", "Deny", profile=RESTRICTED)],
    "deny-rules": [compiled("rules", "Deny", rules=RULES)],
    "warn-and-audit": [
        compiled("warn", "Warn", profile=RESTRICTED),
        compiled("audit", "Audit", rules=RULES),
    ],
    "deny-warn-audit-same-rules": [
        compiled("deny", "Deny", rules=RULES),
        compiled("warn", "Warn", rules=RULES),
        compiled("audit", "Audit", rules=RULES),
    ],
    # every finding of the privileged containers exempt: only the compliant pod's pass counts
    "deny-with-exclusions": [
        compiled(
            "exempt",
            "Deny",
            rules={"privileged": False},
            exclude=[{"containers": ["priv-*"]}],
        )
    ],
    # the only finding comes from the last check (runAsNonRoot of the pod)
    "deny-last-check-only": [
        compiled("last", "Deny", rules={"privileged": False, "runAsNonRoot": True})
    ],
    "warn-last-check-only": [
        compiled("last", "Warn", rules={"privileged": False, "runAsNonRoot": True})
    ],
}

PODS: dict[str, dict[str, Any]] = {
    "compliant": requests.pod_with(privileged=0, safe=2),
    "compliant-but-root": requests.pod_with(privileged=0, safe=2, root=True),
    "one-privileged": requests.pod_with(privileged=1, safe=1),
    "three-privileged": requests.pod_with(privileged=3),
    "forty-privileged-and-root": requests.pod_with(privileged=40, safe=3, root=True),
}
CAPS = (1, 2, 3, 20)


def decide(policies: list[policy.CompiledPolicy], obj: dict[str, Any], cap: int | None) -> Any:
    request = requests.create(obj, kind="Pod", namespace="team-a")
    return admission.decide(request, policies, namespace_labels=LABELS, now=NOW, cap=cap)


def by_policy(decision: admission.Decision) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for v in decision.violations:
        out.setdefault(v.policy, []).append((v.finding.check, v.finding.path))
    return out


@pytest.mark.parametrize("cap", CAPS)
@pytest.mark.parametrize("pod_name", list(PODS))
@pytest.mark.parametrize("set_name", list(POLICY_SETS))
def test_the_verdict_is_the_uncapped_one(set_name: str, pod_name: str, cap: int) -> None:
    policies, obj = POLICY_SETS[set_name], PODS[pod_name]
    full = decide(policies, obj, None)
    capped = decide(policies, obj, cap)
    assert (capped.allowed, capped.code, capped.outcome) == (full.allowed, full.code, full.outcome)
    assert bool(capped.warnings) == bool(full.warnings)
    assert bool(capped.audit_annotations) == bool(full.audit_annotations)
    assert {(v.policy, v.action) for v in capped.violations} == {
        (v.policy, v.action) for v in full.violations
    }
    full_found, capped_found = by_policy(full), by_policy(capped)
    for name, found in full_found.items():  # each policy's first findings, in order
        assert capped_found[name] == found[:cap]
    if max(map(len, full_found.values()), default=0) <= cap:  # nothing to cut: the same answer
        assert capped == full


def test_a_warn_policy_past_the_cap_gets_one_line_with_the_exact_count() -> None:
    warn = compiled("warn", "Warn", rules={"runAsNonRoot": True, "privileged": False})
    decision = decide([warn], requests.pod_with(privileged=25, root=True), 20)
    # privileged (25 findings) comes before runAsNonRoot (pod level + 25 containers) in rule
    # id order: 20 shown, then the count of the rest; runAsNonRoot is the last check, so exact
    assert decision.allowed
    assert len(decision.warnings) == 21
    assert decision.warnings[-1] == (
        "... and more findings of policy ClusterContainerPolicy/warn (at least 5; check ids "
        "privileged and maybe others: its remaining checks were not run once the cap was reached)"
    )
    last = compiled("last", "Warn", rules={"runAsNonRoot": True})
    decision = decide([last], requests.pod_with(privileged=25, root=True), 20)
    assert decision.warnings[-1] == (
        "... and 6 more findings of policy ClusterContainerPolicy/last (check ids runAsNonRoot)"
    )


def test_a_denial_past_the_cap_says_more_was_left_out_under_its_policy() -> None:
    deny = compiled("deny", "Deny", rules={"privileged": False})
    message = decide([deny], requests.pod_with(privileged=30), 20).message
    lines = message.splitlines()
    assert lines[0] == 'Bulkhead denied Pod "team-a/p": 20 violations shown, more left out'
    assert lines[1] == "policy ClusterContainerPolicy/deny:"
    assert sum("[privileged]" in line for line in lines) == 20
    assert lines[-1] == (
        "  ... and 10 more findings of policy ClusterContainerPolicy/deny (check ids privileged)"
    )


def test_audit_annotations_past_the_cap_count_what_they_leave_out() -> None:
    audit = compiled("audit", "Audit", rules={"privileged": False})
    decision = decide([audit], requests.pod_with(privileged=30), 20)
    entries = json.loads(decision.audit_annotations["violations"])
    assert len(entries) == 21
    assert entries[-1] == {
        "policy": "ClusterContainerPolicy/audit",
        "omitted": 10,
        "checks": ["privileged"],
    }


def test_a_huge_pod_costs_a_bounded_answer() -> None:
    policies = [*POLICY_SETS["deny-warn-audit-same-rules"], *POLICY_SETS["deny-profile"]]
    decision = decide(policies, requests.pod_with(privileged=5_000, root=True), 20)
    assert not decision.allowed
    assert len(decision.violations) == 4 * 20
    assert len(decision.warnings) == 21
    text = (
        decision.message + "".join(decision.warnings) + "".join(decision.audit_annotations.values())
    )
    assert len(text.encode()) < 64 * 1024
