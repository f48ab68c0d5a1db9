"""``bulkhead check --verify-images``: the image evidence for the images of some manifests. I/O.

Collects every image the judged objects run and has ``webhook.supplychain``
verify, against the images' registries (HTTPS), the cosign signatures (and
vulnerability attestations) that the policies' ``imageSignatures`` rules
require. The evidence then goes into
the judging, exactly as the webhook would use it. Settings that cannot be
used raise ``EvidenceError`` naming the flag.
"""

from __future__ import annotations

from collections.abc import Sequence

from webhook import admission, documents, policy, supplychain
from webhook.rules import podview


class EvidenceError(Exception):
    """The verification cannot run as asked; exit 2 with this message."""


def _images(docs: Sequence[documents.Document]) -> set[str]:
    """Every image of ``docs``; objects without a readable pod spec add none."""
    wanted: set[str] = set()
    for doc in docs:
        kind = doc.body.get("kind")
        if not isinstance(kind, str) or kind not in admission.POD_KINDS:
            continue
        try:
            view = admission.pod_view(kind, doc.body)
        except podview.PodSpecError:
            continue
        if view is not None:
            wanted.update(container.image for container in view.containers)
    return wanted


def verify(
    docs: Sequence[documents.Document],
    policies: Sequence[policy.CompiledPolicy],
    *,
    ca_file: str | None,
    timeout: float,
    credentials_file: str | None,
) -> policy.EvidenceMap:
    """Evidence for every image of ``docs``, verified against its registry."""
    if not timeout > 0:
        raise EvidenceError("--registry-timeout: must be a number of seconds above 0")
    credentials = {}
    if credentials_file:
        try:
            credentials = supplychain.dockerconfig.load(credentials_file)
        except supplychain.dockerconfig.DockerConfigError as err:
            raise EvidenceError(f"--registry-credentials-file: {err}") from err
    settings = supplychain.registry.Settings(
        ca_file=ca_file, timeout=timeout, credentials=credentials
    )
    try:
        return supplychain.verify(_images(docs), policies, settings)
    except supplychain.cosign.UnusableKeyError as err:
        raise EvidenceError(f"--verify-images: {err}") from err
    except OSError as err:
        raise EvidenceError(f"--registry-ca-file: cannot use it as a CA bundle ({err})") from err
