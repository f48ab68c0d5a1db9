"""Shared pytest fixtures and markers for the whole test suite.

Owns: the ``cluster`` marker and the real-cluster fixtures. ``control_plane``
starts one etcd + kube-apiserver for the session, only when a test asks for
it; ``namespace`` gives each test a fresh namespace in it. If the control
plane cannot start, the fixture raises and every test that needs it fails:
it never skips. And the check that a run meant for the compiled core
(``BULKHEAD_CORE=compiled``) really imported it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from devcluster import controlplane

#: Fixtures that start a real cluster: a test asking for one needs the cluster.
CLUSTER_FIXTURES = frozenset({"control_plane", "node"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-cluster",
        action="store_true",
        help="leave out the tests that need a real cluster (control plane or node) "
        "for a quick local loop; CI runs everything",
    )


def needs_cluster(item: pytest.Item) -> bool:
    """Whether ``item`` needs the control plane or the node."""
    if item.get_closest_marker("cluster") or item.get_closest_marker("node"):
        return True
    return bool(CLUSTER_FIXTURES.intersection(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--no-cluster"):
        return
    kept = [item for item in items if not needs_cluster(item)]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if needs_cluster(i)])
        items[:] = kept


def pytest_collection_finish(session: pytest.Session) -> None:
    """With ``BULKHEAD_CORE=compiled`` (make test-compiled), refuse to test the sources.

    The tests then exist to judge the core as mypyc compiled it (the image's);
    passing on the Python sources instead would prove nothing about it.
    """
    if os.environ.get("BULKHEAD_CORE") != "compiled":
        return
    decide = sys.modules.get("webhook.admission.decide")
    origin = getattr(decide, "__file__", None) or ""
    if not origin.endswith(".so"):
        raise pytest.UsageError(
            f"BULKHEAD_CORE=compiled, but webhook.admission.decide came from {origin!r}: "
            "put the directory tools/compiled_core.sh prints first on PYTHONPATH"
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cluster: needs the real control plane (etcd + kube-apiserver on loopback)",
    )
    config.addinivalue_line(
        "markers",
        "node: needs the real test node (root; tests/node): image, kubelet, containerd",
    )


@pytest.fixture(scope="session")
def control_plane(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[controlplane.ControlPlane]:
    """One real control plane for the session; logs kept in pytest's tmp dir."""
    with controlplane.ControlPlane(log_dir=tmp_path_factory.mktemp("control-plane-logs")) as cp:
        yield cp


@pytest.fixture
def namespace(control_plane: controlplane.ControlPlane) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    with control_plane.namespace() as name:
        yield name
