"""The chart and manifests/ say the same thing: CRDs, RBAC and install.yaml.

Owns: the chart's CRDs and RBAC being byte-identical copies of
``manifests/crds`` and ``manifests/rbac``; the RBAC the chart renders being
exactly those manifests (namespace and labels aside); ``manifests/install.yaml``
being what ``tools/render_manifests.py`` renders from the chart right now
(the stale check), holding no test hook, and starting with its Namespace.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
from collections.abc import Mapping
from typing import Any, Final

import pytest
import yaml

from tests.chart import rendering

MANIFESTS: Final = rendering.REPO / "manifests"
INSTALL: Final = MANIFESTS / "install.yaml"
RBAC_KINDS: Final = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


def _files(directory: pathlib.Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.yaml"))}


@pytest.mark.parametrize(
    ("source", "copy"),
    [
        (MANIFESTS / "crds", rendering.CHART / "crds"),
        (MANIFESTS / "rbac", rendering.CHART / "files" / "rbac"),
        (MANIFESTS / "policyreports", rendering.CHART / "files" / "policyreports"),
    ],
    ids=["crds", "rbac", "policyreports"],
)
def test_chart_copies_are_identical(source: pathlib.Path, copy: pathlib.Path) -> None:
    wanted, present = _files(source), _files(copy)
    assert wanted, f"{source} is empty"
    assert sorted(present) == sorted(wanted), "run python tools/render_manifests.py"
    for name in wanted:
        assert present[name] == wanted[name], (
            f"{copy / name} differs: run tools/render_manifests.py"
        )


def _without_chart_labels(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    metadata = dict(out["metadata"])
    labels = dict(metadata.get("labels", {}))
    for key in (
        "app.kubernetes.io/instance",
        "app.kubernetes.io/version",
        "app.kubernetes.io/managed-by",
        "app.kubernetes.io/part-of",
        "helm.sh/chart",
    ):
        labels.pop(key, None)  # fmt: skip
    metadata["labels"] = labels
    out["metadata"] = metadata
    return out


def test_rendered_rbac_is_exactly_manifests_rbac() -> None:
    expected = [
        doc
        for path in sorted((MANIFESTS / "rbac").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc
    ]
    rendered = [
        _without_chart_labels(d)
        for d in rendering.render({"audit": {"enabled": True}})
        if d["kind"] in RBAC_KINDS and not d["metadata"].get("annotations")
    ]

    def key(doc: Mapping[str, Any]) -> tuple[str, str]:
        return doc["kind"], doc["metadata"]["name"]

    assert sorted(rendered, key=key) == sorted(expected, key=key)


def test_rbac_follows_the_release_namespace() -> None:
    docs = rendering.render(namespace="security")
    for doc in docs:
        if doc["kind"] not in RBAC_KINDS or doc["metadata"]["name"] == "bulkhead-test":
            continue
        if "namespace" in doc["metadata"]:
            assert doc["metadata"]["namespace"] == "security"
        for subject in doc.get("subjects", []):
            assert subject["namespace"] == "security"


def test_install_yaml_is_not_stale() -> None:
    result = subprocess.run(
        [sys.executable, str(rendering.REPO / "tools" / "render_manifests.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={"HELM": str(rendering.kubetools_dir() / "helm"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr


def test_install_yaml_is_the_namespace_then_the_chart_without_its_test_hook() -> None:
    docs = [d for d in yaml.safe_load_all(INSTALL.read_text(encoding="utf-8")) if d]
    namespace = docs[0]
    assert namespace["kind"] == "Namespace"
    assert namespace["metadata"]["name"] == rendering.NAMESPACE
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    crds = [d for d in docs if d["kind"] == "CustomResourceDefinition"]
    assert [c["metadata"]["name"] for c in crds] == [
        "clustercontainerpolicies.bulkhead.dev",
        "containerpolicies.bulkhead.dev",
    ]
    assert not [d for d in docs if d["metadata"].get("annotations", {}).get("helm.sh/hook")]
    chart = [d for d in rendering.render() if not d["metadata"].get("annotations")]
    rest = docs[1 + len(crds) :]
    assert rendering.kinds(rest) == rendering.kinds(chart)
