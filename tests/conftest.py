"""Shared pytest fixtures and markers for the whole test suite.

Owns: the ``cluster`` marker and the real-cluster fixtures. ``control_plane``
starts one etcd + kube-apiserver for the session, only when a test asks for
it; ``namespace`` gives each test a fresh namespace in it. If the control
plane cannot start, the fixture raises and every test that needs it fails:
it never skips.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devcluster import controlplane


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
