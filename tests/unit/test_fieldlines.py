"""Field paths to positions in YAML files (what SARIF's line numbers come from)."""

from __future__ import annotations

import pathlib

import pytest

from webhook import fieldlines

MANIFEST = """\
kind: Pod
metadata:
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: unconfined
spec:
  containers:
  - name: app
    env:
    - {name: A, value: x}
"""


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("spec.hostNetwork", ["spec", "hostNetwork"]),
        ("spec.containers[0].env[12].value", ["spec", "containers", 0, "env", 12, "value"]),
        (
            "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]",
            ["metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/app"],
        ),
    ],
    ids=["fields", "indexes", "dotted-key"],
)
def test_steps(path: str, steps: list[str | int]) -> None:
    assert fieldlines.steps(path) == steps


@pytest.mark.parametrize(
    ("path", "line", "column", "exact"),
    [
        ("metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]", 4, 5, True),
        ("spec.containers[0].env[0].value", 9, 17, True),
        ("spec.containers[0].securityContext.privileged", 7, 5, False),
        ("spec.containers[3].image", 6, 3, False),
    ],
    ids=["annotation", "flow-mapping", "absent-field", "absent-index"],
)
def test_position(tmp_path: pathlib.Path, path: str, line: int, column: int, exact: bool) -> None:
    (tmp_path / "pod.yaml").write_text("---\n# nothing here\n---\n" + MANIFEST)
    # the empty first document keeps its number, as when the file was read
    found = fieldlines.Locator().position(
        str(tmp_path / "pod.yaml"), document=2, item=None, path=path
    )
    assert found == fieldlines.Position(line=line + 3, column=column, exact=exact)


def test_unreadable_sources_have_no_position(tmp_path: pathlib.Path) -> None:
    locator = fieldlines.Locator()
    assert locator.position("-", document=1, item=None, path="spec") is None
    assert locator.position(str(tmp_path / "gone.yaml"), document=1, item=None, path="spec") is None
