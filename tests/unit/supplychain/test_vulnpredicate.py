"""Reading cosign's vulnerability predicate: scan time and the findings of each result shape."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from webhook.policy import vulnerabilities
from webhook.supplychain import vulnpredicate

V = vulnerabilities.Vulnerability

TRIVY = {
    "SchemaVersion": 2,
    "Results": [
        {"Target": "app (debian 12)", "Vulnerabilities": [
            {"VulnerabilityID": "CVE-2024-1", "Severity": "CRITICAL"},
            {"VulnerabilityID": "CVE-2024-2", "Severity": "UNKNOWN"},
        ]},
        {"Target": "app/go.sum", "Vulnerabilities": None},
        {"Target": "config"},
    ],
}  # fmt: skip
GRYPE = {
    "matches": [
        {"vulnerability": {"id": "GHSA-xxxx", "severity": "High"}},
        {"vulnerability": {"id": "CVE-2024-3", "severity": "Negligible"}},
    ]
}
SARIF = {
    "version": "2.1.0",
    "runs": [
        {
            "tool": {
                "driver": {
                    "name": "Trivy",
                    "rules": [
                        {"id": "CVE-2024-4", "properties": {"security-severity": "9.8"}},
                        {"id": "CVE-2024-5", "properties": {"security-severity": "5.3"}},
                        {"id": "CVE-2024-6", "properties": {"tags": ["vulnerability", "HIGH"]}},
                        {"id": "CVE-2024-7"},
                    ],
                }
            },
            "results": [
                {"ruleId": "CVE-2024-4", "level": "error"},
                {"ruleId": "CVE-2024-5", "level": "warning"},
                {"ruleId": "CVE-2024-6", "level": "error"},
                {"ruleId": "CVE-2024-7", "level": "note"},
                {"ruleId": "CVE-2024-8", "level": "note"},
            ],
        }
    ],
}


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        pytest.param(TRIVY, (V("CVE-2024-1", "critical"), V("CVE-2024-2", "unknown")), id="trivy"),
        pytest.param({"SchemaVersion": 2, "Results": []}, (), id="trivy-clean"),
        pytest.param(GRYPE, (V("GHSA-xxxx", "high"), V("CVE-2024-3", "negligible")), id="grype"),
        pytest.param(
            SARIF,
            (
                V("CVE-2024-4", "critical"),
                V("CVE-2024-5", "medium"),
                V("CVE-2024-6", "high"),
                V("CVE-2024-7", "unknown"),
                V("CVE-2024-8", "unknown"),
            ),
            id="sarif",
        ),
    ],
)
def test_known_shapes_are_read(result: object, expected: tuple[V, ...]) -> None:
    assert vulnpredicate.findings(result) == expected


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        pytest.param(None, "scanner.result is of an unknown shape", id="missing"),
        pytest.param({"vulns": []}, "scanner.result is of an unknown shape", id="other-json"),
        pytest.param({"runs": []}, "scanner.result is of an unknown shape", id="sarif-no-version"),
        pytest.param({"Results": {}}, "Results is not a list", id="trivy-not-list"),
        pytest.param(
            {"Results": [{"Vulnerabilities": [{"Severity": "HIGH"}]}]},
            "Results[0].Vulnerabilities[0] has no vulnerability id",
            id="trivy-no-id",
        ),
        pytest.param(
            {"matches": [{"vulnerability": "CVE-1"}]},
            "matches[0].vulnerability is not an object",
            id="grype-bad-entry",
        ),
    ],
)
def test_unreadable_results_say_where(result: object, problem: str) -> None:
    with pytest.raises(vulnpredicate.UnreadableError, match=problem.replace("[", r"\[")):
        vulnpredicate.findings(result)


def _predicate(result: object, finished: object = "2026-06-01T10:00:00Z") -> dict[str, Any]:
    return {
        "scanner": {"uri": "pkg:github/aquasecurity/trivy", "result": result},
        "metadata": {"scanStartedOn": "2026-06-01T09:59:00Z", "scanFinishedOn": finished},
    }


def test_read_takes_the_scan_finish_time() -> None:
    found = vulnpredicate.read(_predicate(TRIVY, "2026-06-01T12:00:00+02:00"), key="k")
    assert found.key == "k"
    assert found.scanned == datetime.datetime(2026, 6, 1, 10, tzinfo=datetime.UTC)
    assert len(found.vulnerabilities) == 2


def test_an_unknown_shape_still_counts_as_the_scan_of_its_time() -> None:
    found = vulnpredicate.read(_predicate({"findings": []}), key="k")
    assert found.key == "k"
    assert found.scanned is not None
    assert "unknown shape" in found.problem


@pytest.mark.parametrize(
    ("finished", "problem"),
    [
        pytest.param(None, "metadata.scanFinishedOn is missing", id="missing"),
        pytest.param("yesterday", "is not a time", id="not-a-time"),
        pytest.param("2026-06-01T10:00:00", "has no time zone", id="no-zone"),
    ],
)
def test_a_scan_without_a_readable_time_does_not_count(finished: object, problem: str) -> None:
    found = vulnpredicate.read(_predicate(TRIVY, finished), key="k")
    assert found.key is None
    assert problem in found.problem
