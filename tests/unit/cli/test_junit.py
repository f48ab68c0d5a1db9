"""``bulkhead check -o junit`` through the console script: the XML parses and fails what fails."""

from __future__ import annotations

import pathlib
import xml.etree.ElementTree as ET

from tests.unit.cli import console


def junit(*args: str, stdin: str = "") -> tuple[int, ET.Element]:
    result = console.run("check", *args, "-o", "junit", stdin=stdin)
    assert result.returncode in (0, 1), result.stderr
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return result.returncode, ET.fromstring(result.stdout)  # noqa: S314 (our own output)


def test_examples_one_case_per_object_failures_for_denials() -> None:
    code, root = junit("-f", str(console.EXAMPLES), "--policy-file", str(console.POLICIES))
    assert code == 1
    assert root.tag == "testsuites"
    cases = root.findall("testsuite/testcase")
    assert len(cases) == int(root.attrib["tests"]) == 5
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(root.attrib["failures"]) == len(failed) == 3
    assert {pathlib.PurePath(s.attrib["name"]).parent.name for s in root.iter("testsuite")} == {
        "good",
        "bad",
    }
    (pod,) = [c for c in failed if "node-debugger" in c.attrib["name"]]
    failure = pod.find("failure")
    assert failure is not None
    assert failure.attrib["message"] == "denied"
    assert failure.text is not None
    assert (
        "[pss/privileged, privileged] spec.containers[0].securityContext.privileged" in failure.text
    )
    # one line per field path, every policy that reported it named on it
    privileged = [line for line in failure.text.splitlines() if ".privileged:" in line]
    assert len(privileged) == 1
    assert "ClusterContainerPolicy/baseline, ClusterContainerPolicy/hardening" in privileged[0]


def test_fail_on_warn_turns_warnings_into_failures(tmp_path: pathlib.Path) -> None:
    (tmp_path / "pod.yaml").write_text(console.PRIVILEGED_POD)
    args = ("-f", str(tmp_path / "pod.yaml"), "--policy-file")
    warn = str(console.POLICIES / "restricted-warn.yaml")
    code, root = junit(*args, warn)
    assert (code, root.attrib["failures"]) == (0, "0")
    out = root.find("testsuite/testcase/system-out")
    assert out is not None
    assert out.text is not None
    assert "[Warn] ClusterContainerPolicy/restricted-preview" in out.text
    code, root = junit(*args, warn, "--fail-on", "warn")
    assert (code, root.attrib["failures"]) == (1, "1")
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.attrib["message"] == "warned"


def test_control_characters_in_names_still_parse() -> None:
    pod = console.PRIVILEGED_POD.replace("name: root-shell", 'name: "root\\x01shell"')
    code, root = junit("-f", "-", "--profile", "baseline", stdin=pod)
    assert code == 1
    (case,) = root.findall("testsuite/testcase")
    assert "root\ufffdshell" in case.attrib["name"]
