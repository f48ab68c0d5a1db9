"""``bulkhead check`` through the installed console script, as a user runs it."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[3]
EXAMPLES = ROOT / "manifests" / "examples"
POLICIES = EXAMPLES / "policies"
BULKHEAD = pathlib.Path(sys.executable).with_name("bulkhead")

PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: root-shell, namespace: team-a}
spec:
  initContainers:
  - name: setup
    image: busybox
    securityContext: {privileged: true}
  containers:
  - name: app
    image: busybox
"""
COMPLIANT_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: fine}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: busybox
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BULKHEAD), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def test_good_examples_pass() -> None:
    result = run("check", "-f", str(EXAMPLES / "good"), "--policy-file", str(POLICIES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 objects judged: 2 passed, 0 warned, 0 denied" in result.stdout


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("privileged-pod.yaml", "[privileged] spec.containers[0].securityContext.privileged"),
        (
            "leaky-deployment.yaml",
            "[literalSecretEnv] spec.template.spec.containers[0].env[0].value",
        ),
        (
            "hostpath-cronjob.yaml",
            "[pss/hostPathVolumes] spec.jobTemplate.spec.template.spec.volumes[0].hostPath",
        ),
    ],
    ids=["pod", "deployment", "cronjob"],
)
def test_bad_examples_are_denied_with_paths(name: str, expected: str) -> None:
    result = run("check", "-f", str(EXAMPLES / "bad" / name), "--policy-file", str(POLICIES))
    assert result.returncode == 1
    assert expected in result.stdout
    assert "Fix:" in result.stdout
    assert "policy ClusterContainerPolicy/" in result.stdout


def test_secret_values_are_never_printed() -> None:
    for output in ("text", "json"):
        result = run(
            "check",
            "-f",
            str(EXAMPLES / "bad" / "leaky-deployment.yaml"),
            "--policy-file",
            str(POLICIES),
            "-o",
            output,
        )
        assert "DB_PASSWORD" in result.stdout
        assert "hunter2" not in result.stdout + result.stderr


def test_profile_from_stdin_with_pinned_version() -> None:
    result = run("check", "-f", "-", "--profile", "baseline:v1.30", stdin=PRIVILEGED_POD)
    assert result.returncode == 1
    assert 'Pod "team-a/root-shell"' in result.stdout
    assert "(profile baseline:v1.30)" in result.stdout
    assert "spec.initContainers[0].securityContext.privileged" in result.stdout


def test_json_output() -> None:
    result = run("check", "-f", "-", "--profile", "restricted", "-o", "json", stdin=PRIVILEGED_POD)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    (only,) = report["results"]
    assert (only["kind"], only["name"], only["allowed"]) == ("Pod", "root-shell", False)
    checks = {(v["check"], v["path"]) for v in only["violations"]}
    assert ("pss/privileged", "spec.initContainers[0].securityContext.privileged") in checks
    assert all(
        v["policy"] == "ClusterContainerPolicy/profile-restricted" for v in only["violations"]
    )


def test_lists_and_multi_documents_like_helm_template(tmp_path: pathlib.Path) -> None:
    listing = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "fine"},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "app",
                            "image": "busybox",
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                },
            },
        ],
    }
    (tmp_path / "list.json").write_text(json.dumps(listing))
    (tmp_path / "rendered.yaml").write_text(
        "---\n# Source: chart/templates/a.yaml\n" + COMPLIANT_POD + "---\n---\n" + COMPLIANT_POD
    )
    result = run("check", "-f", str(tmp_path), "--profile", "restricted")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 objects judged: 3 passed" in result.stdout
    assert "1 without a pod spec skipped" in result.stdout


def test_warn_policy_warns_but_passes(tmp_path: pathlib.Path) -> None:
    (tmp_path / "pod.yaml").write_text(PRIVILEGED_POD)
    result = run(
        "check",
        "-f",
        str(tmp_path / "pod.yaml"),
        "--policy-file",
        str(POLICIES / "restricted-warn.yaml"),
    )
    assert result.returncode == 0
    assert result.stdout.startswith("WARN")
    assert "warning: ClusterContainerPolicy/restricted-preview: [pss/privileged]" in result.stdout


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"a.yaml": "kind: Pod\nspec: [\n"}, ["--profile", "baseline"], "a.yaml: not valid YAML"),
        (
            {"a.yaml": COMPLIANT_POD + "---\n- just\n- a list\n"},
            ["--profile", "baseline"],
            "a.yaml (document 2): must be an object",
        ),
        (
            {"a.yaml": "kind: Pod\nmetadata: {name: x}\nspec:\n  containers: {name: c}\n"},
            ["--profile", "baseline"],
            'a.yaml (document 1): Pod "default/x": spec.containers: must be a list',
        ),
        (
            {"a.yaml": "kind: Pod\nkind: Deployment\n"},
            ["--profile", "baseline"],
            "duplicate key 'kind'",
        ),
        (
            {"a.yaml": COMPLIANT_POD, "p.yaml": "kind: ClusterContainerPolicy\n"},
            ["--policy-file", "p.yaml"],
            "p.yaml (document 1): invalid policy",
        ),
        ({"a.yaml": COMPLIANT_POD}, ["--policy-file", "a.yaml"], "not a ClusterContainerPolicy"),
        ({"a.yaml": COMPLIANT_POD}, ["--profile", "strict"], "--profile strict"),
        ({"a.yaml": COMPLIANT_POD}, ["--profile", "baseline:v1.05"], "'v1.05'"),
        (
            {"a.yaml": COMPLIANT_POD},
            ["--profile", "baseline", "--pss-latest", "v1.99"],
            "--pss-latest",
        ),
        ({"a.yaml": COMPLIANT_POD}, [], "nothing to check against"),
        ({}, ["--profile", "baseline"], "missing.yaml: no such file"),
    ],
    ids=[
        "bad-yaml",
        "document-not-object",
        "broken-pod-spec",
        "duplicate-key",
        "invalid-policy",
        "workload-as-policy",
        "unknown-profile",
        "bad-version",
        "bad-latest",
        "no-policy",
        "missing-file",
    ],
)
def test_unusable_input_exits_2(
    tmp_path: pathlib.Path, files: dict[str, str], args: list[str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    target = "a.yaml" if "a.yaml" in files else "missing.yaml"
    result = subprocess.run(
        [str(BULKHEAD), "check", "-f", target, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def test_version() -> None:
    result = run("version")
    assert result.returncode == 0
    assert result.stdout.startswith("bulkhead ")
