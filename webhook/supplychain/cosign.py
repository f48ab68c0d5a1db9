"""Verifying cosign key-based signatures of images. Does network I/O (through ``registry``).

Owns the cosign signature format and the verdict on each signature:

* Where signatures are: the manifest tagged ``sha256-<hex>.sig`` in the
  image's repository (cosign's tag scheme), and the OCI 1.1 referrers of the
  digest whose ``artifactType`` is cosign's signature type, where the
  registry serves the referrers API.
* What a signature is: a layer of media type
  ``application/vnd.dev.cosign.simplesigning.v1+json`` whose blob is the
  signed payload and whose ``dev.cosignproject.cosign/signature`` annotation
  is the base64 signature over that payload (ECDSA with SHA-256, RSA
  PKCS#1 v1.5 with SHA-256, or Ed25519).
* When it counts: it verifies with a trusted key, and the payload (JSON) is
  a ``cosign container image signature`` whose
  ``critical.image.docker-manifest-digest`` is the image's digest and whose
  ``critical.identity.docker-reference`` is the image's repository.

Only key-based signing is verified; keyless (Fulcio certificates, Rekor
transparency log) is not, and no transparency log is consulted.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cryptography import exceptions
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from webhook.policy import signatures
from webhook.rules import image_references
from webhook.supplychain import registry

SIMPLE_SIGNING: Final = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ARTIFACT: Final = "application/vnd.dev.cosign.artifact.sig.v1+json"
SIGNATURE_ANNOTATION: Final = "dev.cosignproject.cosign/signature"
PAYLOAD_TYPE: Final = "cosign container image signature"
#: A signed payload is a few hundred bytes; anything much larger is refused unread.
MAX_PAYLOAD: Final = 64 * 1024
#: At most this many signatures are checked per image.
MAX_SIGNATURES: Final = 16

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey

_NOT_VERIFIED: Final = (
    "a signature does not verify with any trusted key (signed by another key, "
    "or its payload was altered after signing)"
)


class UnusableKeyError(ValueError):
    """A trusted key that cryptography cannot use for cosign signatures."""


def load_keys(keys: Sequence[signatures.TrustedKey]) -> dict[str, PublicKey]:
    """The usable public keys by id; ``UnusableKeyError`` names the first unusable one."""
    loaded: dict[str, PublicKey] = {}
    for key in keys:
        try:
            public = serialization.load_der_public_key(key.der)
        except ValueError as err:
            raise UnusableKeyError(f"trusted key {key.id} is not a valid public key") from err
        if not isinstance(
            public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey
        ):
            raise UnusableKeyError(f"trusted key {key.id} is of a type cosign does not sign with")
        loaded[key.id] = public
    return loaded


def signature_tag(digest: str) -> str:
    """cosign's tag for the signatures of ``digest``: ``sha256-<hex>.sig``."""
    return digest.replace(":", "-", 1) + ".sig"


def verifies(public: PublicKey, signature: bytes, payload: bytes) -> bool:
    """Whether ``signature`` over ``payload`` verifies with ``public`` (SHA-256 digests)."""
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            public.verify(signature, payload)
    except exceptions.InvalidSignature:
        return False
    return True


def _claims(payload: bytes) -> Mapping[str, Any] | None:
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _dig(value: Mapping[str, Any], *keys: str) -> object:
    current: object = value
    for key in keys:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def _same_repository(claimed: str, reference: image_references.Reference) -> bool:
    try:
        parsed = image_references.parse(claimed)
    except image_references.ImageError:
        return False
    return (
        parsed.tag in (None, image_references.LATEST)
        and parsed.digest is None
        and (signatures.repository(parsed) == signatures.repository(reference))
    )


def judge_payload(payload: bytes, *, digest: str, reference: image_references.Reference) -> str:
    """Why a verified payload does not vouch for this image ('' when it does)."""
    claims = _claims(payload)
    if claims is None:
        return "a signed payload is not a JSON object"
    kind = _dig(claims, "critical", "type")
    if kind != PAYLOAD_TYPE:
        return f"a signed payload is of type {kind!r}, not a {PAYLOAD_TYPE!r}"
    named = _dig(claims, "critical", "image", "docker-manifest-digest")
    if named != digest:
        return (
            f"a signature by a trusted key is for digest {named}, not this image's {digest} "
            "(a signature copied from another image, or the tag now points elsewhere)"
        )
    identity = _dig(claims, "critical", "identity", "docker-reference")
    if not isinstance(identity, str) or not _same_repository(identity, reference):
        return (
            f"a signature by a trusted key names repository {identity!r}, "
            f"not {signatures.repository(reference)}"
        )
    return ""


def _layer_signature(
    client: registry.Client,
    layer: Mapping[str, Any],
    *,
    repository: str,
    digest: str,
    reference: image_references.Reference,
    keys: Mapping[str, PublicKey],
) -> signatures.Signature | None:
    if layer.get("mediaType") != SIMPLE_SIGNING:
        return None
    annotations = layer.get("annotations")
    encoded = annotations.get(SIGNATURE_ANNOTATION) if isinstance(annotations, Mapping) else None
    if not isinstance(encoded, str):
        return signatures.Signature(None, "a signature layer has no signature annotation")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return signatures.Signature(None, "a signature annotation is not valid base64")
    size = layer.get("size")
    blob_digest = layer.get("digest")
    if not isinstance(size, int) or size > MAX_PAYLOAD or not isinstance(blob_digest, str):
        return signatures.Signature(None, f"a signed payload is over {MAX_PAYLOAD} bytes")
    payload = client.blob(repository, blob_digest, limit=MAX_PAYLOAD)
    for key_id, public in keys.items():
        if verifies(public, signature, payload):
            problem = judge_payload(payload, digest=digest, reference=reference)
            return signatures.Signature(None if problem else key_id, problem)
    return signatures.Signature(None, _NOT_VERIFIED)


def _signature_manifests(
    client: registry.Client, repository: str, digest: str
) -> list[registry.Manifest]:
    found: list[registry.Manifest] = []
    tagged = client.find_manifest(repository, signature_tag(digest))
    if tagged is not None:
        found.append(tagged)
    referrers = client.referrers(repository, digest) or []
    for entry in referrers:
        target = entry.get("digest")
        if entry.get("artifactType") != SIGNATURE_ARTIFACT or not isinstance(target, str):
            continue
        if tagged is not None and target == tagged.digest:
            continue
        found.append(client.manifest(repository, target))
    return found


def verify(
    client: registry.Client,
    image: str,
    *,
    keys: Mapping[str, PublicKey],
    digest: str | None = None,
) -> signatures.Evidence:
    """Judge every cosign signature of ``image``'s digest.

    ``digest`` is the digest already resolved for ``image``; left out, the
    image's own digest or its tag's current one.
    """
    try:
        reference = image_references.parse(image)
    except image_references.ImageError as err:
        return signatures.Evidence(image=image, digest=None, failure=err.reason)
    try:
        digest = digest or client.resolve(reference)
        manifests = _signature_manifests(client, reference.repository, digest)
        found: list[signatures.Signature] = []
        for manifest in manifests:
            layers = manifest.json().get("layers")
            for layer in layers if isinstance(layers, list) else ():
                if len(found) >= MAX_SIGNATURES or not isinstance(layer, Mapping):
                    break
                outcome = _layer_signature(
                    client,
                    layer,
                    repository=reference.repository,
                    digest=digest,
                    reference=reference,
                    keys=keys,
                )
                if outcome is not None:
                    found.append(outcome)
    except registry.RegistryError as err:
        return signatures.Evidence(image=image, digest=None, failure=str(err))
    return signatures.Evidence(image=image, digest=digest, signatures=tuple(found))
