"""``bulkhead check`` through the installed console script, as a user runs it."""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml

from tests.unit.cli import console


def test_good_examples_pass() -> None:
    result = console.run(
        "check", "-f", str(console.EXAMPLES / "good"), "--policy-file", str(console.POLICIES)
    )
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
    result = console.run(
        "check", "-f", str(console.EXAMPLES / "bad" / name), "--policy-file", str(console.POLICIES)
    )
    assert result.returncode == 1
    assert expected in result.stdout
    assert "Fix:" in result.stdout
    assert "policy ClusterContainerPolicy/" in result.stdout


def test_secret_values_are_never_printed() -> None:
    for output in ("text", "json"):
        result = console.run(
            "check",
            "-f",
            str(console.EXAMPLES / "bad" / "leaky-deployment.yaml"),
            "--policy-file",
            str(console.POLICIES),
            "-o",
            output,
        )
        assert "DB_PASSWORD" in result.stdout
        assert "hunter2" not in result.stdout + result.stderr


def test_profile_from_stdin_with_pinned_version() -> None:
    result = console.run(
        "check", "-f", "-", "--profile", "baseline:v1.30", stdin=console.PRIVILEGED_POD
    )
    assert result.returncode == 1
    assert 'Pod "team-a/root-shell"' in result.stdout
    assert "(profile baseline:v1.30)" in result.stdout
    assert "spec.initContainers[0].securityContext.privileged" in result.stdout


def test_json_output() -> None:
    result = console.run(
        "check", "-f", "-", "--profile", "restricted", "-o", "json", stdin=console.PRIVILEGED_POD
    )
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
        "---\n# Source: chart/templates/a.yaml\n"
        + console.COMPLIANT_POD
        + "---\n---\n"
        + console.COMPLIANT_POD
    )
    result = console.run("check", "-f", str(tmp_path), "--profile", "restricted")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 objects judged: 3 passed" in result.stdout
    assert "1 of other kinds skipped" in result.stdout


def test_warn_policy_warns_but_passes(tmp_path: pathlib.Path) -> None:
    (tmp_path / "pod.yaml").write_text(console.PRIVILEGED_POD)
    result = console.run(
        "check",
        "-f",
        str(tmp_path / "pod.yaml"),
        "--policy-file",
        str(console.POLICIES / "restricted-warn.yaml"),
    )
    assert result.returncode == 0
    assert result.stdout.startswith("WARN")
    assert "warning: ClusterContainerPolicy/restricted-preview: [pss/privileged]" in result.stdout


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        (
            {"a.yaml": "kind: Pod\nspec: [\n"},
            ["--profile", "baseline"],
            "a.yaml (document 1, line 3",
        ),
        (
            {"a.yaml": console.COMPLIANT_POD + "---\n- just\n- a list\n"},
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
            {"a.yaml": console.COMPLIANT_POD, "p.yaml": "kind: ClusterContainerPolicy\n"},
            ["--policy-file", "p.yaml"],
            "p.yaml (document 1): invalid policy",
        ),
        (
            {"a.yaml": console.COMPLIANT_POD},
            ["--policy-file", "a.yaml"],
            "not a ClusterContainerPolicy",
        ),
        ({"a.yaml": console.COMPLIANT_POD}, ["--profile", "strict"], "--profile strict"),
        ({"a.yaml": console.COMPLIANT_POD}, ["--profile", "baseline:v1.05"], "'v1.05'"),
        (
            {"a.yaml": console.COMPLIANT_POD},
            ["--profile", "baseline", "--pss-latest", "v1.99"],
            "--pss-latest",
        ),
        (
            {"a.yaml": console.COMPLIANT_POD},
            [],
            "no policy to enforce: give --policy-file or --profile",
        ),
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
    result = console.run("check", "-f", target, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def test_version() -> None:
    result = console.run("version")
    assert result.returncode == 0
    assert result.stdout.startswith("bulkhead ")


def test_version_flag() -> None:
    result = console.run("--version")
    assert result.returncode == 0
    assert result.stdout == console.run("version").stdout
    assert result.stdout.startswith("bulkhead 0.")


def test_yaml_output_matches_json() -> None:
    args = ("check", "-f", "-", "--profile", "restricted")
    as_yaml = console.run(*args, "-o", "yaml", stdin=console.PRIVILEGED_POD)
    as_json = console.run(*args, "-o", "json", stdin=console.PRIVILEGED_POD)
    assert as_yaml.returncode == as_json.returncode == 1
    assert yaml.safe_load(as_yaml.stdout) == json.loads(as_json.stdout)


def test_fail_on_warn_fails_the_build_on_warnings(tmp_path: pathlib.Path) -> None:
    (tmp_path / "pod.yaml").write_text(console.PRIVILEGED_POD)
    args = ("check", "-f", str(tmp_path / "pod.yaml"), "--policy-file")
    warn_policy = str(console.POLICIES / "restricted-warn.yaml")
    assert console.run(*args, warn_policy).returncode == 0
    strict = console.run(*args, warn_policy, "--fail-on", "warn")
    assert strict.returncode == 1
    assert strict.stdout.startswith("WARN")
    clean = console.run(
        "check",
        "-f",
        "-",
        "--policy-file",
        warn_policy,
        "--fail-on",
        "warn",
        stdin=console.COMPLIANT_POD,
    )
    assert clean.returncode == 0, clean.stdout


@pytest.mark.parametrize(
    ("files", "target", "message"),
    [
        ({}, "empty", "nothing to judge in empty: no objects"),
        (
            {"empty/cm.yaml": "kind: ConfigMap\nmetadata: {name: c}\n---\nkind: Secret\n"},
            "empty",
            "nothing to judge in empty: 2 objects (ConfigMap, Secret), none of a kind Bulkhead",
        ),
        ({"empty/notes.txt": "kind: Pod\n"}, "empty", "nothing to judge in empty: no objects"),
        (
            {"comments.yaml": "# only a comment\n---\n"},
            "comments.yaml",
            "comments.yaml: no objects",
        ),
    ],
    ids=["empty-directory", "no-pod-kinds", "no-manifest-files", "only-comments"],
)
def test_nothing_to_judge_exits_2(
    tmp_path: pathlib.Path, files: dict[str, str], target: str, message: str
) -> None:
    (tmp_path / "empty").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = console.run("check", "-f", target, "--profile", "baseline", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def test_nothing_to_judge_on_stdin_names_it() -> None:
    result = console.run("check", "-f", "-", "--profile", "baseline", stdin="")
    assert result.returncode == 2
    assert "nothing to judge in standard input" in result.stderr


def test_same_finding_from_two_policies_is_one_entry(tmp_path: pathlib.Path) -> None:
    """Pod Security ``baseline`` and the hardening rules both flag ``privileged``."""
    (tmp_path / "pod.yaml").write_text(console.PRIVILEGED_POD)
    result = console.run(
        "check",
        "-f",
        str(tmp_path / "pod.yaml"),
        "-f",
        str(tmp_path),  # the same file again, through its directory
        "--policy-file",
        str(console.POLICIES / "hardening.yaml"),
        "--profile",
        "baseline",
        "-o",
        "json",
    )
    assert result.returncode == 1
    (only,) = json.loads(result.stdout)["results"]
    path = "spec.initContainers[0].securityContext.privileged"
    raw = [v for v in only["violations"] if v["path"] == path]
    assert {v["policy"] for v in raw} == {
        "ClusterContainerPolicy/hardening",
        "ClusterContainerPolicy/profile-baseline",
    }
    (merged,) = [f for f in only["findings"] if f["path"] == path]
    assert merged["policies"] == [
        "ClusterContainerPolicy/hardening",
        "ClusterContainerPolicy/profile-baseline",
    ]
    assert merged["checks"] == ["privileged", "pss/privileged"]  # two checks, two ids
    assert len(only["findings"]) == len({v["path"] for v in only["violations"]})


def test_warning_already_denied_is_not_repeated(tmp_path: pathlib.Path) -> None:
    (tmp_path / "pod.yaml").write_text(console.PRIVILEGED_POD)
    result = console.run(
        "check",
        "-f",
        str(tmp_path / "pod.yaml"),
        "--policy-file",
        str(console.POLICIES / "restricted-warn.yaml"),
        "--profile",
        "baseline",
    )
    assert result.returncode == 1
    privileged = "spec.initContainers[0].securityContext.privileged"
    assert sum(privileged in line for line in result.stdout.splitlines()) == 1
    # what only the Warn policy reports is still a warning
    assert "warning: ClusterContainerPolicy/restricted-preview: [pss/runAsNonRoot]" in result.stdout
