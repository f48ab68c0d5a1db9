"""Pod Security check ``restrictedVolumes`` (restricted, v1.0). Pure, no I/O.

Every ``spec.volumes[*]`` must use one of the source types configMap, csi,
downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or
secret; every other type (hostPath, nfs, iscsi, gitRepo, ... and any unknown
one) is denied. Overrides ``hostPathVolumes``. A volume that names no source at
all is what the API server defaults to ``emptyDir`` before admission, so it is
allowed here too (``bulkhead check`` reads manifests that were never defaulted).
"""

from __future__ import annotations

from typing import Final

from webhook.profiles import catalog
from webhook.rules import findings, podview

ALLOWED_TYPES: Final = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


def _restricted_volumes(pod: podview.PodView) -> list[findings.Finding]:
    volumes = pod.spec.get("volumes")
    if not volumes:
        return []
    out: list[findings.Finding] = []
    for index, volume in enumerate(volumes):
        if not isinstance(volume, dict):
            continue
        for key, value in volume.items():
            if key == "name" or value is None or key in ALLOWED_TYPES:
                continue
            out.append(
                pod.finding(
                    "restrictedVolumes",
                    f"volumes[{index}]",
                    key,
                    message=f'restricted volume types (volume "{volume.get("name")}" uses {key})',
                    fix="use a configMap, csi, downwardAPI, emptyDir, ephemeral, image, "
                    "persistentVolumeClaim, projected or secret volume",
                )
            )
    return out


CHECKS: Final[tuple[catalog.Check, ...]] = (
    catalog.Check(
        id="restrictedVolumes",
        level="restricted",
        reason="restricted volume types",
        variants=(catalog.Variant(0, _restricted_volumes),),
        overrides="hostPathVolumes",
    ),
)
