"""What a person reads: the denial message, warnings and audit annotations, from violations."""

from __future__ import annotations

import json

import pytest

from webhook.admission import messages
from webhook.rules import findings

CLUSTER = "ClusterContainerPolicy/baseline"
LOCAL = "ContainerPolicy/team-a/hardening"


def violation(
    check: str,
    path: str,
    *,
    policy: str = CLUSTER,
    container: str | None = "app",
    profile: str | None = None,
    action: str = "Deny",
) -> messages.Violation:
    finding = findings.Finding(
        check=check,
        path=path,
        message=f"{check} is wrong",
        fix=f"set {check} right",
        container=container,
    )
    return messages.Violation(policy=policy, action=action, profile=profile, finding=finding)


PRIVILEGED = violation("privileged", "spec.containers[0].securityContext.privileged")
ROOT = violation("runAsNonRoot", "spec.containers[0].securityContext.runAsNonRoot")
HOST_PID = violation("hostNamespaces", "spec.hostPID", container=None)


@pytest.mark.parametrize(
    ("violations", "expected"),
    [
        pytest.param(
            [PRIVILEGED],
            [
                'Bulkhead denied Pod "web": 1 violation',
                f"policy {CLUSTER}:",
                '  container "app" (spec.containers[0]):',
                "    - [privileged] spec.containers[0].securityContext.privileged: "
                "privileged is wrong. Fix: set privileged right",
            ],
            id="one-violation-singular",
        ),
        pytest.param(
            [PRIVILEGED, ROOT, HOST_PID],
            [
                'Bulkhead denied Pod "web": 3 violations',
                f"policy {CLUSTER}:",
                '  container "app" (spec.containers[0]):',
                "    - [privileged] spec.containers[0].securityContext.privileged: "
                "privileged is wrong. Fix: set privileged right",
                "    - [runAsNonRoot] spec.containers[0].securityContext.runAsNonRoot: "
                "runAsNonRoot is wrong. Fix: set runAsNonRoot right",
                "  pod:",
                "    - [hostNamespaces] spec.hostPID: "
                "hostNamespaces is wrong. Fix: set hostNamespaces right",
            ],
            id="container-then-pod-level",
        ),
        pytest.param(
            [
                violation(
                    "pss/privileged",
                    "spec.template.spec.initContainers[1].securityContext.privileged",
                    container="setup",
                    profile="baseline:v1.35",
                ),
                violation(
                    "privileged", "spec.containers[0].securityContext.privileged", policy=LOCAL
                ),
            ],
            [
                'Bulkhead denied Pod "web": 2 violations',
                f"policy {CLUSTER} (profile baseline:v1.35):",
                '  container "setup" (spec.template.spec.initContainers[1]):',
                "    - [pss/privileged] spec.template.spec.initContainers[1].securityContext"
                ".privileged: pss/privileged is wrong. Fix: set pss/privileged right",
                f"policy {LOCAL}:",
                '  container "app" (spec.containers[0]):',
                "    - [privileged] spec.containers[0].securityContext.privileged: "
                "privileged is wrong. Fix: set privileged right",
            ],
            id="two-policies-with-profile-and-template-path",
        ),
        pytest.param(
            [
                PRIVILEGED,
                violation(PRIVILEGED.finding.check, PRIVILEGED.finding.path, policy=LOCAL),
            ],
            [
                'Bulkhead denied Pod "web": 1 violation',
                f"policy {CLUSTER}:",
                '  container "app" (spec.containers[0]):',
                "    - [privileged] spec.containers[0].securityContext.privileged: "
                f"privileged is wrong. Fix: set privileged right (also policy {LOCAL})",
            ],
            id="same-finding-two-policies-one-line",
        ),
    ],
)
def test_denial(violations: list[messages.Violation], expected: list[str]) -> None:
    assert messages.denial('Pod "web"', violations).splitlines() == expected


def test_denial_is_capped_and_says_how_much_is_hidden() -> None:
    many = [
        violation(
            "privileged", f"spec.containers[{i}].securityContext.privileged", container=f"c{i}"
        )
        for i in range(40)
    ]
    lines = messages.denial('Pod "web"', many).splitlines()
    # header + policy line + 29 x (container line + violation line) = 60 lines shown
    assert len(lines) == 61
    assert lines[0] == 'Bulkhead denied Pod "web": 40 violations'
    assert lines[-2].startswith("    - [privileged] spec.containers[28].")
    assert lines[-1] == "... and 11 more violations"


def test_warnings_are_one_line_per_finding_naming_every_policy() -> None:
    warned = [
        violation("privileged", PRIVILEGED.finding.path, action="Warn"),
        violation("privileged", PRIVILEGED.finding.path, policy=LOCAL, action="Warn"),
        violation("hostNamespaces", "spec.hostPID", container=None, action="Warn"),
    ]
    assert messages.warnings(warned) == (
        f"{CLUSTER}, {LOCAL}: [privileged] spec.containers[0].securityContext.privileged: "
        "privileged is wrong. Fix: set privileged right",
        f"{CLUSTER}: [hostNamespaces] spec.hostPID: "
        "hostNamespaces is wrong. Fix: set hostNamespaces right",
    )


def test_no_warnings_without_violations() -> None:
    assert messages.warnings([]) == ()


def test_audit_annotation_lists_policy_check_and_path_of_each_violation() -> None:
    audited = [PRIVILEGED, violation("hostNamespaces", "spec.hostPID", policy=LOCAL)]
    annotations = messages.audit_annotations(audited)
    assert list(annotations) == ["violations"]
    assert json.loads(annotations["violations"]) == [
        {"policy": CLUSTER, "check": "privileged", "path": PRIVILEGED.finding.path},
        {"policy": LOCAL, "check": "hostNamespaces", "path": "spec.hostPID"},
    ]


def test_no_audit_annotation_without_violations() -> None:
    assert messages.audit_annotations([]) == {}


def test_merged_keeps_first_report_and_lists_each_policy_once() -> None:
    again = violation(PRIVILEGED.finding.check, PRIVILEGED.finding.path, policy=LOCAL)
    merged = messages.merged([PRIVILEGED, again, PRIVILEGED, ROOT])
    assert [(v.finding.check, policies) for v, policies in merged] == [
        ("privileged", [CLUSTER, LOCAL]),
        ("runAsNonRoot", [CLUSTER]),
    ]
