"""Loading policy files and profiles for ``check`` and ``serve`` (real files)."""

from __future__ import annotations

import pathlib

import pytest

from webhook import policyfiles

GOOD = """\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: %s}
spec:
  rules: {privileged: false}
"""


def test_files_directories_and_profiles_load_together(tmp_path: pathlib.Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.yaml").write_text(GOOD % "a")
    (tmp_path / "dir" / "notes.txt").write_text("not a policy")
    (tmp_path / "b.yml").write_text(GOOD % "b")
    loaded = policyfiles.load(
        [str(tmp_path / "dir"), str(tmp_path / "b.yml")], ["restricted"], latest_minor=35
    )
    assert [p.key for p in loaded] == [
        "ClusterContainerPolicy/a",
        "ClusterContainerPolicy/b",
        "ClusterContainerPolicy/profile-restricted",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kind: ConfigMap\napiVersion: v1\nmetadata: {name: x}\n", "not a ClusterContainerPolicy"),
        (GOOD % "a" + "---\n" + GOOD % "a", "more than one policy is named"),
        ("a: [", "not valid YAML"),
        (GOOD.replace("privileged", "privilegd") % "a", "spec.rules.privilegd"),
    ],
    ids=["wrong kind", "duplicate names", "bad YAML", "invalid policy"],
)
def test_unusable_files_name_the_problem(
    tmp_path: pathlib.Path, content: str, message: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(content)
    with pytest.raises(policyfiles.PolicyFileError, match=message):
        policyfiles.load([str(path)], [], latest_minor=35)


def test_a_missing_path_is_an_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(policyfiles.PolicyFileError, match="no such file"):
        policyfiles.load([str(tmp_path / "gone")], [], latest_minor=35)


def test_profiles_compile_to_deny_policies() -> None:
    (compiled,) = policyfiles.compile_profiles(["baseline:v1.25"], latest_minor=35)
    assert compiled.key == "ClusterContainerPolicy/profile-baseline"
    assert compiled.action == "Deny"
    with pytest.raises(policyfiles.PolicyFileError, match="--profile strict"):
        policyfiles.compile_profiles(["strict"], latest_minor=35)
