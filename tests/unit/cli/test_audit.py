"""``bulkhead audit -f`` through the installed console script, as a user runs it."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import yaml

BULKHEAD = pathlib.Path(sys.executable).with_name("bulkhead")

WORKLOADS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: nginx, securityContext: {privileged: true}}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-abc
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u, controller: true}]
spec:
  containers:
  - {name: app, image: nginx, securityContext: {privileged: true}}
---
apiVersion: v1
kind: Pod
metadata: {name: tidy}
spec:
  containers:
  - {name: app, image: nginx}
"""


def run(*args: str, stdin: str = WORKLOADS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BULKHEAD), "audit", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_table_lists_one_result_per_controller_and_exits_1_on_fail() -> None:
    result = run("-f", "-", "--profile", "baseline")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "NAMESPACE",
        "OBJECT",
        "POLICY",
        "CHECK",
        "RESULT",
        "SEVERITY",
        "PATH",
    ]
    [row] = lines[1:-1]
    assert row.split() == [
        "shop",
        "Deployment/web",
        "ClusterContainerPolicy/profile-baseline",
        "pss/privileged",
        "fail",
        "high",
        "spec.template.spec.containers[0].securityContext.privileged",
    ]
    assert lines[-1] == "1 pass, 1 fail, 0 warn, 0 error, 0 skip"


def test_yaml_is_policy_reports_per_namespace() -> None:
    result = run("-f", "-", "--profile", "baseline", "-o", "yaml")
    documents = list(yaml.safe_load_all(result.stdout))
    assert [(d["kind"], d["metadata"]["namespace"]) for d in documents] == [
        ("PolicyReport", "default"),
        ("PolicyReport", "shop"),
    ]
    assert documents[0]["summary"]["pass"] == 1
    assert documents[1]["results"][0]["resources"][0]["kind"] == "Deployment"


def test_json_and_a_clean_run_exit_0() -> None:
    result = run(
        "-f",
        "-",
        "--profile",
        "baseline",
        "-o",
        "json",
        "-n",
        "apps",
        stdin=WORKLOADS.split("---")[2],
    )
    assert result.returncode == 0, result.stderr
    [report] = json.loads(result.stdout)["reports"]
    assert report["metadata"]["namespace"] == "apps"
    assert report["results"] == []


def test_unusable_input_exits_2_with_a_reason() -> None:
    no_policy = run("-f", "-")
    assert no_policy.returncode == 2
    assert "--policy-file or --profile" in no_policy.stderr
    mixed = run("-f", "-", "--profile", "baseline", "--watch")
    assert mixed.returncode == 2
    assert "--watch" in mixed.stderr
    bad = run("-f", "-", "--profile", "baseline", "--max-results", "0")
    assert bad.returncode == 2
    assert "BULKHEAD_MAX_RESULTS" in bad.stderr
