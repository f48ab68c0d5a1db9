"""Supply-chain verification of container images against their registries. Does network I/O.

``verify(images, policies, settings)`` resolves every image an
``imageSignatures`` check covers to its digest, finds and checks its cosign
signatures with the keys the policies trust, and returns the evidence the
pure decision (``policy.judge``) counts. Images are verified in parallel,
each once however many containers and policies name it.

``registry`` is the OCI distribution client, ``cosign`` the signature format.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable, Sequence
from typing import Final

from webhook import policy
from webhook.rules import image_references
from webhook.supplychain import cosign, registry

__all__ = ["cosign", "registry", "verify"]

#: Images verified at once (each is a few round trips to a registry).
PARALLEL: Final = 8


def _covered(image: str, policies: Sequence[policy.CompiledPolicy]) -> bool:
    return any(
        p.image_signatures is not None and p.image_signatures.covers(image) for p in policies
    )


def _host(image: str) -> str:
    try:
        return image_references.parse(image).registry
    except image_references.ImageError:
        return ""


def verify(
    wanted: Iterable[str],
    policies: Sequence[policy.CompiledPolicy],
    settings: registry.Settings,
) -> policy.EvidenceMap:
    """Evidence for each image of ``wanted`` that some policy's ``imageSignatures`` covers.

    Raises ``cosign.UnusableKeyError`` when a trusted key cannot be loaded.
    """
    trusted: dict[str, policy.signatures.TrustedKey] = {}
    for compiled in policies:
        if compiled.image_signatures is not None:
            trusted.update((key.id, key) for key in compiled.image_signatures.keys)
    keys = cosign.load_keys(tuple(trusted.values()))
    todo = sorted({image for image in wanted if _covered(image, policies)})
    if not todo:
        return {}
    clients = {host: registry.Client(host, settings) for host in {_host(i) for i in todo}}
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(PARALLEL, len(todo))) as pool:
        results = pool.map(
            lambda image: cosign.verify(clients[_host(image)], image, keys=keys), todo
        )
        return {evidence.image: evidence for evidence in results}
