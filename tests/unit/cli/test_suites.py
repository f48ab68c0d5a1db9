"""``bulkhead test`` (policy test suites) through the console script."""

from __future__ import annotations

import pathlib
import xml.etree.ElementTree as ET

import pytest
import yaml

from tests.unit.cli import console


def write_suite(directory: pathlib.Path, results: list[dict[str, str]], **fields: object) -> None:
    """A suite judging the privileged Pod with the example hardening policy and baseline."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pod.yaml").write_text(console.PRIVILEGED_POD)
    suite = {
        "policies": [str(console.POLICIES / "hardening.yaml")],
        "profiles": ["baseline"],
        "resources": ["pod.yaml"],
        "results": results,
        **fields,
    }
    (directory / "bulkhead-test.yaml").write_text(yaml.safe_dump(suite))


def test_the_example_policies_suite_passes() -> None:
    result = console.run("test", str(console.EXAMPLES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert result.stdout.splitlines()[-1].endswith(": 18 as expected, 0 not")
    assert "ok    CronJob/log-shipper policy supply-chain check probes: pass" in result.stdout


def test_a_verdict_that_differs_fails_and_shows_why(tmp_path: pathlib.Path) -> None:
    write_suite(
        tmp_path,
        [
            {"resource": "Pod/root-shell", "policy": "profile-baseline", "result": "fail"},
            {"resource": "Pod/team-a/root-shell", "check": "privileged", "result": "pass"},
            {"resource": "Pod/root-shell", "check": "hostPath", "result": "fail"},
        ],
    )
    result = console.run("test", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "  ok    Pod/root-shell policy profile-baseline: fail" in lines
    assert (
        "  FAIL  Pod/team-a/root-shell any policy check privileged: expected pass, got fail"
        in lines
    )
    assert any(
        "ClusterContainerPolicy/hardening: [privileged] spec.initContainers[0]" in line
        for line in lines
    )
    assert "  FAIL  Pod/root-shell any policy check hostPath: expected fail, got pass" in lines
    assert lines[-1] == "3 expectations in 1 suite: 1 as expected, 2 not"


def test_junit_output_and_every_suite_below_the_directory(tmp_path: pathlib.Path) -> None:
    write_suite(tmp_path / "a", [{"resource": "Pod/root-shell", "result": "fail"}])
    write_suite(
        tmp_path / "b" / "nested",
        [{"resource": "Pod/root-shell", "policy": "hardening", "result": "pass"}],
    )
    result = console.run("test", str(tmp_path), "-o", "junit")
    assert result.returncode == 1
    root = ET.fromstring(result.stdout)  # noqa: S314 (our own output)
    assert (root.attrib["tests"], root.attrib["failures"]) == ("2", "1")
    suites = root.findall("testsuite")
    assert [pathlib.PurePath(s.attrib["name"]).parent.name for s in suites] == ["a", "nested"]
    failure = suites[1].find("testcase/failure")
    assert failure is not None
    assert failure.attrib["message"] == "expected pass, got fail"


@pytest.mark.parametrize(
    ("results", "fields", "message"),
    [
        (
            [{"resource": "Pod/root-shell", "check": "privilegd", "result": "fail"}],
            {},
            "results[0].check: unknown check 'privilegd'",
        ),
        (
            [{"resource": "Pod/other", "result": "fail"}],
            {},
            "results[0].resource: no resource Pod/other in the suite (Pod/team-a/root-shell)",
        ),
        (
            [{"resource": "Pod/root-shell", "policy": "nope", "result": "fail"}],
            {},
            "results[0].policy: no policy nope in the suite",
        ),
        (
            [{"resource": "Pod/root-shell", "result": "denied"}],
            {},
            "results[0].result: must be pass or fail, not 'denied'",
        ),
        (
            [{"resource": "Pod/root-shell", "result": "fail", "chek": "privileged"}],
            {},
            "results[0]: unknown field 'chek'",
        ),
        ([{"resource": "root-shell", "result": "fail"}], {}, "give Kind/name or Kind/namespace"),
        (
            [{"resource": "Pod/root-shell", "result": "fail"}],
            {"polices": []},
            "unknown field 'polices'",
        ),
        ([], {}, "results: must be a non-empty list"),
        (
            [{"resource": "Pod/root-shell", "result": "fail"}],
            {"policies": [], "profiles": []},
            "give policies or profiles",
        ),
        (
            [{"resource": "Pod/root-shell", "result": "fail"}],
            {"resources": ["missing.yaml"]},
            "missing.yaml: no such file or directory",
        ),
    ],
    ids=[
        "unknown-check",
        "unknown-resource",
        "unknown-policy",
        "bad-result",
        "unknown-result-field",
        "bad-resource",
        "unknown-suite-field",
        "no-results",
        "no-policies",
        "missing-resource-file",
    ],
)
def test_unusable_suites_exit_2(
    tmp_path: pathlib.Path, results: list[dict[str, str]], fields: dict[str, object], message: str
) -> None:
    write_suite(tmp_path, results, **fields)
    result = console.run("test", str(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "bulkhead-test.yaml" in result.stderr
    assert result.stdout == ""


def test_no_suite_or_no_path_exits_2(tmp_path: pathlib.Path) -> None:
    empty = console.run("test", str(tmp_path))
    assert empty.returncode == 2
    assert f"no bulkhead-test.yaml in {tmp_path}" in empty.stderr
    missing = console.run("test", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert "nowhere: no such file or directory" in missing.stderr


def test_duplicate_keys_in_a_suite_exit_2(tmp_path: pathlib.Path) -> None:
    (tmp_path / "bulkhead-test.yaml").write_text("results: []\nresults: []\n")
    result = console.run("test", str(tmp_path))
    assert result.returncode == 2
    assert "duplicate key 'results'" in result.stderr
