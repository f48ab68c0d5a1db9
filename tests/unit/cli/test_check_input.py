"""``bulkhead check`` on hostile and incomplete input, through the console script.

Unusable input exits 2 naming the file, the document and the field, never a
traceback and never a verdict; zero policies is unusable; a
``namespaceSelector`` is decided with the labels known offline or reported.
"""

from __future__ import annotations

import pathlib
import subprocess

import pytest

from tests import selecting_policies
from tests.unit.cli.console import BULKHEAD, run


def _pod(extra: str = "", container: str = "", namespace: str = "prod") -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: {namespace}}}\n"
        f"spec:\n{extra}  containers:\n  - name: app\n    image: busybox\n{container}"
    )


def _check(tmp_path: pathlib.Path, manifest: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pod.yaml").write_text(manifest)
    return subprocess.run(
        [str(BULKHEAD), "check", "-f", "pod.yaml", "--profile", "baseline", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )


def _assert_unusable(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for text in expected:
        assert text in result.stderr, result.stderr


MALFORMED = [
    pytest.param(
        _pod(container="    securityContext: privileged\n"),
        "spec.containers[0].securityContext: must be an object, not string",
        id="securityContext-string",
    ),
    pytest.param(
        _pod("  securityContext:\n    sysctls: {name: kernel.shm_rmid_forced, value: '1'}\n"),
        "spec.securityContext.sysctls: must be a list, not object",
        id="sysctls-mapping",
    ),
    pytest.param(
        _pod(container="    securityContext: {capabilities: [NET_ADMIN]}\n"),
        "spec.containers[0].securityContext.capabilities: must be an object, not list",
        id="capabilities-list",
    ),
    pytest.param(
        _pod(container="    securityContext: {capabilities: {add: NET_ADMIN}}\n"),
        "spec.containers[0].securityContext.capabilities.add: must be a list, not string",
        id="capabilities-add-string",
    ),
    pytest.param(
        _pod(container="    securityContext: {capabilities: {add: [[SYS_ADMIN]]}}\n"),
        "spec.containers[0].securityContext.capabilities.add[0]: must be a string, not list",
        id="capability-name-list",
    ),
    pytest.param(
        _pod(container="    securityContext: {privileged: 'true'}\n"),
        "spec.containers[0].securityContext.privileged: must be a boolean, not string",
        id="privileged-string",
    ),
    pytest.param(
        _pod("  hostPID: 'true'\n"),
        "spec.hostPID: must be a boolean, not string",
        id="hostPID-string",
    ),
    pytest.param(
        _pod(container="    ports: [{containerPort: 80, hostPort: '80'}]\n"),
        "spec.containers[0].ports[0].hostPort: must be an integer, not string",
        id="hostPort-string",
    ),
    pytest.param(
        _pod("  securityContext: {seccompProfile: {type: [Unconfined]}}\n"),
        "spec.securityContext.seccompProfile.type: must be a string, not list",
        id="seccomp-type-list",
    ),
    pytest.param(
        _pod("  securityContext: {seLinuxOptions: {type: {a: b}}}\n"),
        "spec.securityContext.seLinuxOptions.type: must be a string, not object",
        id="selinux-type-object",
    ),
    pytest.param(
        _pod("  volumes: 7\n"),
        "spec.volumes: must be a list, not number",
        id="volumes-number",
    ),
    pytest.param(
        _pod("  volumes: [{name: v, hostPath: /etc}]\n"),
        "spec.volumes[0].hostPath: must be an object, not string",
        id="hostPath-string",
    ),
    pytest.param(
        _pod(container="    ports: 7\n"),
        "spec.containers[0].ports: must be a list, not number",
        id="ports-number",
    ),
    pytest.param(
        _pod(container="    env: [{name: A, value: 1}]\n"),
        "spec.containers[0].env[0].value: must be a string, not number",
        id="env-value-number",
    ),
    pytest.param(
        _pod(container="    securityContext: {runAsUser: true}\n"),
        "spec.containers[0].securityContext.runAsUser: must be an integer, not boolean",
        id="runAsUser-boolean",
    ),
    pytest.param(
        _pod().replace("metadata: {", "metadata: {labels: {tier: 1}, "),
        "metadata.labels.tier: must be a string, not number",
        id="label-number",
    ),
    pytest.param(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n"
        "    metadata: {annotations: {a: true}}\n    spec:\n      containers: [null]\n",
        "spec.template.metadata.annotations.a: must be a string, not boolean",
        id="template-annotation-boolean",
    ),
    pytest.param(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n"
        "    spec:\n      containers: [null]\n",
        "spec.template.spec.containers[0]: must not be null",
        id="null-container",
    ),
]


@pytest.mark.parametrize(("manifest", "field"), MALFORMED)
def test_a_malformed_pod_spec_exits_2_naming_file_document_and_field(
    tmp_path: pathlib.Path, manifest: str, field: str
) -> None:
    result = _check(
        tmp_path, "{kind: ConfigMap, apiVersion: v1, metadata: {name: c}}\n---\n" + manifest
    )
    _assert_unusable(result, "pod.yaml (document 2)", field)


def test_an_unhashable_key_exits_2_naming_file_and_line(tmp_path: pathlib.Path) -> None:
    result = _check(tmp_path, _pod(container="    ? [a, b]\n    : c\n"))
    _assert_unusable(
        result,
        "pod.yaml (document 1, line 8, column 7): not valid YAML or JSON: "
        "while constructing a mapping; found unhashable key",
    )


def test_an_alias_bomb_exits_2_without_expanding(tmp_path: pathlib.Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
    annotated = _pod().replace("metadata: {name: p", "metadata: {name: p, annotations: {x: *i}")
    result = _check(tmp_path, bomb.replace("\n", "\n  ").join(("anchors:\n  ", "\n")) + annotated)
    _assert_unusable(result, "pod.yaml", "refused as an alias bomb")
    assert len(bomb) < 700


def test_a_symlink_out_of_the_directory_exits_2(tmp_path: pathlib.Path) -> None:
    (tmp_path / "outside.yaml").write_text(_pod())
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "pod.yaml").symlink_to(tmp_path / "outside.yaml")
    result = run("check", "-f", str(tmp_path / "in"), "--profile", "baseline")
    _assert_unusable(result, "in/pod.yaml: a symlink to", "outside")


def test_json_output_into_a_closed_pipe_ends_without_a_traceback(tmp_path: pathlib.Path) -> None:
    privileged = _pod(container="    securityContext: {privileged: true}\n")
    (tmp_path / "many.yaml").write_text("---\n".join([privileged] * 400))
    with subprocess.Popen(
        [str(BULKHEAD), "check", "-f", "many.yaml", "--profile", "baseline", "-o", "json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.read(10).startswith(b"{")
        process.stdout.close()  # what `| head -c 10` does
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=60)
    assert "Traceback" not in stderr
    assert "BrokenPipe" not in stderr
    assert code == 1  # the verdict stands: every pod is denied


@pytest.mark.parametrize(
    ("files", "given"),
    [
        ({"p.yaml": ""}, "p.yaml"),
        ({"p.yaml": "# policies go here\n---\n# none yet\n"}, "p.yaml"),
        ({}, "policies"),
        ({"policies/README.md": "policies go here"}, "policies"),
    ],
    ids=["empty-file", "comment-only", "empty-directory", "directory-of-no-yaml"],
)
def test_zero_policies_exits_2(tmp_path: pathlib.Path, files: dict[str, str], given: str) -> None:
    (tmp_path / "policies").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "pod.yaml").write_text(_pod(container="    securityContext: {privileged: true}\n"))
    result = run("check", "-f", str(tmp_path / "pod.yaml"), "--policy-file", str(tmp_path / given))
    _assert_unusable(result, "no policy to enforce", "would admit everything")


PROD = "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {env: %s}}\n"


def _select(tmp_path: pathlib.Path, manifest: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "policies.yaml").write_text(
        selecting_policies.by_name("prod") + "---\n" + selecting_policies.BY_ENV
    )
    (tmp_path / "in.yaml").write_text(manifest)
    return run(
        "check", "-f", str(tmp_path / "in.yaml"), "--policy-file", str(tmp_path / "policies.yaml"),
        *args,
    )  # fmt: skip


def test_the_name_label_every_namespace_has_is_assumed(tmp_path: pathlib.Path) -> None:
    privileged = _pod(container="    securityContext: {privileged: true}\n")
    result = _select(tmp_path, privileged)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ClusterContainerPolicy/by-name" in result.stdout
    assert (
        _select(tmp_path, privileged.replace("namespace: prod", "namespace: dev")).returncode == 0
    )


def test_a_selector_needing_unknown_labels_is_reported_not_passed(tmp_path: pathlib.Path) -> None:
    result = _select(tmp_path, _pod("  hostPID: true\n"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "UNDECIDED  " in result.stdout
    assert "policy ClusterContainerPolicy/by-env (Deny) would report 1 finding" in result.stdout
    assert "depends on labels Bulkhead does not know: env" in result.stdout
    assert "--namespace-labels" in result.stdout
    assert "1 undecided" in result.stdout
    # a pod the policy would not fault is not held up by the question
    assert _select(tmp_path, _pod()).returncode == 0


def test_namespace_labels_from_a_file_or_the_input_decide_it(tmp_path: pathlib.Path) -> None:
    host_pid = _pod("  hostPID: true\n")
    (tmp_path / "ns.yaml").write_text(PROD % "prod")
    assert (
        _select(tmp_path, host_pid, "--namespace-labels", str(tmp_path / "ns.yaml")).returncode == 1
    )
    in_input = _select(tmp_path, PROD % "dev" + "---\n" + host_pid)
    assert in_input.returncode == 0, in_input.stdout + in_input.stderr
    assert "1 of other kinds skipped" in in_input.stdout
