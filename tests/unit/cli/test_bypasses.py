"""Every bypass of the judging core, judged offline by ``bulkhead check`` (the console script).

The same objects and policies go through the real apiserver in
``tests/e2e/test_bypasses.py``.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

import pytest
import yaml

from tests import bypasses

BULKHEAD = pathlib.Path(sys.executable).with_name("bulkhead")
FIXTURES = pathlib.Path(__file__).parents[2] / "conformance" / "pod-security"


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BULKHEAD), "check", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """``bulkhead check -o json`` of every case's object under every case's policy."""
    folder = tmp_path_factory.mktemp("bypasses")
    policies = folder / "policies.yaml"
    objects = folder / "objects.yaml"
    policies.write_text(yaml.safe_dump_all([case.policy() for case in bypasses.CASES]))
    objects.write_text(yaml.safe_dump_all([case.object() for case in bypasses.CASES]))
    result = check("-f", str(objects), "--policy-file", str(policies), "-o", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert bypasses.PASSWORD not in result.stdout + result.stderr
    return {r["name"]: r for r in json.loads(result.stdout)["results"]}


@pytest.mark.parametrize("case", bypasses.CASES, ids=lambda c: f"item{c.item}-{c.id}")
def test_offline_verdict(report: dict[str, dict[str, Any]], case: bypasses.Case) -> None:
    result = report[case.name]
    assert result["allowed"] is not case.denied, result["message"]
    for text in case.expect:
        assert text in result["message"]


@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_explicit_profile_version_through_the_cli(level: str) -> None:
    fixture = FIXTURES / "testdata" / level / "v1.37" / "pass" / "sysctls1.yaml"
    passed = check("-f", str(fixture), "--profile", f"{level}:v1.37")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    older = check("-f", str(fixture), "--profile", f"{level}:v1.35")
    assert older.returncode == 1, older.stdout + older.stderr
    assert "[pss/sysctls]" in older.stdout
