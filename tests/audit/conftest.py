"""Fixtures for the background audit on the real control plane.

``report_crds``: Bulkhead's policy CRDs and the PolicyReport CRDs of
``manifests/policyreports``, applied once per session. ``install``: the RBAC
manifests rendered into the test's namespace, with a kubeconfig for the
``bulkhead-audit`` ServiceAccount (so the audit runs with exactly the
manifests' permissions). ``audit``: a started ``Controller`` on those
credentials, batching for a fraction of a second, stopped after the test.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from devcluster import controlplane, installation
from webhook import kube
from webhook.audit import controller

REPORT_CRDS = installation.REPO / "manifests" / "policyreports"


@pytest.fixture(scope="session")
def report_crds(control_plane: controlplane.ControlPlane) -> controlplane.ControlPlane:
    installation.install_crds(control_plane)
    control_plane.kubectl("apply", "-f", str(REPORT_CRDS))
    control_plane.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=30s",
        "crd/policyreports.wgpolicyk8s.io",
        "crd/clusterpolicyreports.wgpolicyk8s.io",
    )
    return control_plane


@pytest.fixture
def install(
    report_crds: controlplane.ControlPlane, namespace: str, tmp_path: pathlib.Path
) -> Iterator[installation.Install]:
    installed = installation.Install(report_crds, namespace=namespace, directory=tmp_path)
    try:
        yield installed
    finally:
        installed.remove()


@pytest.fixture
def audit(install: installation.Install) -> Iterator[controller.Controller]:
    api = kube.Api(kube.client_configuration(kubeconfig=str(install.audit_kubeconfig)))
    running = controller.Controller(
        api=api,
        settings=controller.Settings(batch_seconds=0.2, resync_seconds=600.0),
        backoff=kube.Backoff(first=0.1, limit=1.0),
    )
    running.start()
    try:
        assert running.wait_complete(30), "the audit never made its first report set"
        yield running
    finally:
        running.stop()
        api.close()
