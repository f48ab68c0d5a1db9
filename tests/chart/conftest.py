"""Fixtures for the chart's cluster tests: a control plane of their own.

The chart registers a cluster-wide webhook configuration, so its tests get
their own etcd and kube-apiserver (as tests/e2e does) instead of the suite's
shared one. Started only when a test asks for it; if it cannot start, the
fixture raises and the test fails (it never skips).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devcluster import controlplane


@pytest.fixture(scope="session")
def control_plane(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[controlplane.ControlPlane]:
    """The chart tests' own control plane (overrides the suite-wide one for tests/chart)."""
    with controlplane.ControlPlane(log_dir=tmp_path_factory.mktemp("chart-control-plane")) as cp:
        yield cp
