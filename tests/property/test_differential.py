"""Bulkhead against an independent oracle, on random near-compliant pods in every kind.

Each example draws a policy (images, capabilities, hostPorts, runAsNonRoot,
privileged, allowPrivilegeEscalation, image exclusions) and a pod spec
wrapped in one of the nine pod-bearing kinds, sends it through the whole
admission decision (``admission.decide`` on an AdmissionReview) and compares
every reported (check id, field path) with what ``oracle.judge`` derives
from the rule docs. At least ``EXAMPLES`` examples per run, from a fixed
seed (``BULKHEAD_PROPERTY_SEED`` overrides it); a disagreement names the seed.
"""

from __future__ import annotations

import datetime
import functools
import os
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests.property import oracle, strategies
from webhook import admission, policy

SEED = int(os.environ.get("BULKHEAD_PROPERTY_SEED", "20261202"))
EXAMPLES = int(os.environ.get("BULKHEAD_PROPERTY_EXAMPLES", "20000"))
NOW = datetime.datetime(2026, 12, 2, tzinfo=datetime.UTC)
GROUPS = {
    "Pod": "",
    "Deployment": "apps",
    "ReplicaSet": "apps",
    "StatefulSet": "apps",
    "DaemonSet": "apps",
    "Job": "batch",
    "CronJob": "batch",
    "ReplicationController": "",
    "PodTemplate": "",
}


@functools.cache
def compiled(drawn: oracle.Policy) -> policy.CompiledPolicy:
    return policy.compile(drawn.document())


def review(obj: dict[str, Any]) -> admission.Request:
    kind = obj["kind"]
    return admission.parse(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "differential",
                "kind": {"group": GROUPS[kind], "version": "v1", "kind": kind},
                "resource": {"group": GROUPS[kind], "version": "v1", "resource": "x"},
                "namespace": "team-a",
                "operation": "CREATE",
                "userInfo": {"username": "alice"},
                "object": obj,
            },
        }
    )


judged: list[int] = []


@seed(SEED)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=(Phase.generate, Phase.shrink),
    suppress_health_check=list(HealthCheck),
)
@given(
    drawn=strategies.policies,
    kind=st.sampled_from(sorted(oracle.SPEC_PATHS)),
    pod=strategies.pod_specs(),
)
def _agree(drawn: oracle.Policy, kind: str, pod: tuple[dict[str, Any], Any]) -> None:
    spec, images = pod
    judged.append(1)
    decision = admission.decide(
        review(strategies.wrap(kind, spec)), [compiled(drawn)], namespace_labels={}, now=NOW
    )
    got = sorted((v.finding.check, v.finding.path) for v in decision.violations)
    want = oracle.judge(drawn, kind, spec, images)
    assert got == want, (
        f"Bulkhead and the oracle disagree (seed {SEED}; rerun with "
        f"BULKHEAD_PROPERTY_SEED={SEED}):\n  only Bulkhead: {sorted(set(got) - set(want))}"
        f"\n  only oracle: {sorted(set(want) - set(got))}"
    )
    assert decision.allowed is (not want), f"seed {SEED}: verdict differs"


def test_bulkhead_agrees_with_the_oracle() -> None:
    judged.clear()
    _agree()
    assert len(judged) >= EXAMPLES, f"only {len(judged)} examples ran (seed {SEED})"
    print(f"differential: {len(judged)} examples, seed {SEED}, 0 disagreements")
