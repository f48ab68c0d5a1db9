"""Supply-chain verification of container images against their registries. Does network I/O.

``verify(images, policies, settings)`` resolves every image an
``imageSignatures`` check covers to its digest, finds and checks its cosign
signatures (and, where a policy asks, its vulnerability attestations) with
the keys the policies trust, and returns the evidence the
pure decision (``policy.judge``) counts (``bulkhead check``). The webhook
keeps one ``verifier.Verifier`` instead, which adds connection reuse, a
cache of positive results and a deadline per review.

``registry`` is the OCI distribution client, ``cosign`` the signature format,
``attestations`` the vulnerability attestation format (DSSE, in-toto) and
``vulnpredicate`` its predicate, ``dockerconfig`` the credentials file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from webhook import policy
from webhook.supplychain import (
    attestations,
    cosign,
    dockerconfig,
    registry,
    verifier,
    vulnpredicate,
)

__all__ = [
    "attestations",
    "cosign",
    "dockerconfig",
    "registry",
    "verifier",
    "verify",
    "vulnpredicate",
]


def verify(
    wanted: Iterable[str],
    policies: Sequence[policy.CompiledPolicy],
    settings: registry.Settings,
) -> policy.EvidenceMap:
    """Evidence for each image of ``wanted`` that some policy's ``imageSignatures`` covers.

    Images are verified in parallel, each once. Raises
    ``cosign.UnusableKeyError`` when a trusted key cannot be loaded.
    """
    once = verifier.Verifier(settings, cache_size=0)
    try:
        return once.verify(wanted, policies).evidence
    finally:
        once.close()
