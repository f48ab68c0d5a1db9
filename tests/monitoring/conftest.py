"""Fixtures for the alerting rules: promtool, and a Bulkhead running to scrape.

``promtool``: the binary ``tools/promtool.sh`` installs (cached). The
cluster fixtures are the audit's (its CRDs, RBAC install and controller)
and the operator's factory, so the scraped operator and audit run exactly
as in their own suites.
"""

from __future__ import annotations

import pathlib
import subprocess

import pytest

from devcluster import installation
from tests.audit.conftest import audit, install, report_crds
from tests.operator.conftest import operators

__all__ = ["audit", "install", "operators", "promtool", "report_crds"]


@pytest.fixture(scope="session")
def promtool() -> pathlib.Path:
    found = subprocess.run(
        ["bash", str(installation.REPO / "tools" / "promtool.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 0, f"tools/promtool.sh failed:\n{found.stderr}"
    return pathlib.Path(found.stdout.strip())
