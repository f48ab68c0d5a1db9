"""restrictedVolumes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.profiles import pods
from webhook import profiles

ALLOWED: list[dict[str, Any]] = [
    {"configMap": {"name": "c"}},
    {"csi": {"driver": "d"}},
    {"downwardAPI": {}},
    {"emptyDir": {}},
    {"ephemeral": {"volumeClaimTemplate": {}}},
    {"image": {"reference": "x"}},
    {"persistentVolumeClaim": {"claimName": "c"}},
    {"projected": {"sources": []}},
    {"secret": {"secretName": "s"}},
    {},
]
DENIED = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "somethingNew",
]


@pytest.mark.parametrize("source", ALLOWED, ids=lambda s: next(iter(s), "no-source"))
def test_allowed_volume_types(source: dict[str, Any]) -> None:
    view = pods.pod(lambda s: s.update(volumes=[{"name": "v", **source}]))
    assert pods.judge("restricted", "latest", view) == set()


@pytest.mark.parametrize("kind", DENIED)
def test_denied_volume_types(kind: str) -> None:
    view = pods.pod(
        lambda s: s.update(volumes=[{"name": "ok", "emptyDir": {}}, {"name": "v", kind: {}}])
    )
    found = profiles.resolve("restricted", "latest").evaluate(view)
    assert [(f.check, f.path) for f in found] == [("restrictedVolumes", f"spec.volumes[1].{kind}")]
