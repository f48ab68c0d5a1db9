"""The committed CRD files are what ``crdfiles`` renders from the policy model right now."""

from __future__ import annotations

import pathlib

from webhook.operator import crdfiles

REPO_CRDS = pathlib.Path(__file__).resolve().parents[3] / "manifests" / "crds"


def test_committed_files_are_generated() -> None:
    assert crdfiles.stale(REPO_CRDS) == [], (
        "manifests/crds is stale: run `python -m webhook.operator.crdfiles manifests/crds`"
    )
