"""Finding and verifying cosign vulnerability attestations. Does network I/O (through ``registry``).

Owns cosign's attestation format and which attestations count:

* Where they are: the manifest tagged ``sha256-<hex>.att`` in the image's
  repository (cosign's tag scheme; each ``cosign attest`` adds a layer).
  The OCI 1.1 referrers API is not read for attestations.
* What one is: a layer of media type ``application/vnd.dsse.envelope.v1+json``
  whose blob is a DSSE envelope: ``payloadType``, ``payload`` (base64 of an
  in-toto statement) and ``signatures[].sig`` (base64).
* When it counts: the payload type is ``application/vnd.in-toto+json``; a
  signature verifies over the DSSE pre-authentication encoding
  (``pae``) of type and payload with a trusted key (the keys of
  ``imageSignatures``); the statement's ``predicateType`` is cosign's
  vulnerability type; and one of its ``subject[].digest`` is the image's
  digest. Its predicate is then read by ``vulnpredicate``.

Layers of other predicate types (SBOMs, provenance) are skipped, by their
``predicateType`` annotation before download or by the statement after.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, Final

from webhook.policy import vulnerabilities
from webhook.supplychain import cosign, registry, vulnpredicate

ENVELOPE: Final = "application/vnd.dsse.envelope.v1+json"
IN_TOTO: Final = "application/vnd.in-toto+json"
PREDICATE_ANNOTATION: Final = "predicateType"
#: A scan result with many findings runs to a few megabytes; larger envelopes are refused.
MAX_ENVELOPE: Final = 8 * 1024 * 1024
#: At most this many attestation layers are read per image.
MAX_ATTESTATIONS: Final = 16

_NOT_VERIFIED: Final = (
    "an attestation does not verify with any trusted key (made with another key, "
    "or altered after signing)"
)


def attestation_tag(digest: str) -> str:
    """cosign's tag for the attestations of ``digest``: ``sha256-<hex>.att``."""
    return digest.replace(":", "-", 1) + ".att"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: the bytes a DSSE signature signs."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def _decoded(text: object) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return None


def _names_digest(statement: Mapping[str, Any], digest: str) -> bool:
    algorithm, _, hexdigest = digest.partition(":")
    subjects = statement.get("subject")
    return any(
        isinstance(subject, Mapping)
        and isinstance(subject.get("digest"), Mapping)
        and subject["digest"].get(algorithm) == hexdigest
        for subject in (subjects if isinstance(subjects, list) else ())
    )


def judge_envelope(
    envelope: bytes, *, digest: str, keys: Mapping[str, cosign.PublicKey]
) -> vulnerabilities.Attestation | None:
    """What one DSSE envelope proves about ``digest``; ``None`` when it is no vuln attestation."""
    try:
        document = json.loads(envelope)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return vulnerabilities.Attestation(key=None, problem="an attestation is not a JSON object")
    payload_type = document.get("payloadType")
    payload = _decoded(document.get("payload"))
    if payload_type != IN_TOTO or payload is None:
        return vulnerabilities.Attestation(
            key=None, problem="an attestation is not a DSSE envelope of an in-toto statement"
        )
    try:
        statement = json.loads(payload)
    except ValueError:
        statement = None
    if not isinstance(statement, dict):
        return vulnerabilities.Attestation(
            key=None, problem="an attestation's statement is not a JSON object"
        )
    if statement.get("predicateType") != vulnpredicate.PREDICATE_TYPE:
        return None
    signed = pae(payload_type, payload)
    listed = document.get("signatures")
    sigs = [
        sig
        for entry in (listed if isinstance(listed, list) else ())[: cosign.MAX_SIGNATURES]
        if isinstance(entry, Mapping) and (sig := _decoded(entry.get("sig"))) is not None
    ]
    key_id = next(
        (
            kid
            for sig in sigs
            for kid, public in keys.items()
            if cosign.verifies(public, sig, signed)
        ),
        None,
    )
    if key_id is None:
        return vulnerabilities.Attestation(key=None, problem=_NOT_VERIFIED)
    if not _names_digest(statement, digest):
        return vulnerabilities.Attestation(
            key=None,
            problem="an attestation by a trusted key names other subjects, not this "
            f"image's digest {digest} (copied from another image)",
        )
    return vulnpredicate.read(statement.get("predicate"), key=key_id)


def _refused(problem: str) -> vulnerabilities.Attestation:
    return vulnerabilities.Attestation(key=None, problem=problem)


def find(
    client: registry.Client,
    repository: str,
    digest: str,
    *,
    keys: Mapping[str, cosign.PublicKey],
) -> tuple[vulnerabilities.Attestation, ...]:
    """Every vulnerability attestation of ``digest`` in ``repository``, judged."""
    manifest = client.find_manifest(repository, attestation_tag(digest))
    if manifest is None:
        return ()
    layers = manifest.json().get("layers")
    found: list[vulnerabilities.Attestation] = []
    for layer in (layers if isinstance(layers, list) else ())[:MAX_ATTESTATIONS]:
        if not isinstance(layer, Mapping) or layer.get("mediaType") != ENVELOPE:
            continue
        annotations = layer.get("annotations")
        declared = (
            annotations.get(PREDICATE_ANNOTATION) if isinstance(annotations, Mapping) else None
        )
        if declared is not None and declared != vulnpredicate.PREDICATE_TYPE:
            continue
        size = layer.get("size")
        blob_digest = layer.get("digest")
        if not isinstance(size, int) or not isinstance(blob_digest, str):
            found.append(_refused("an attestation's layer names no size or digest"))
            continue
        if size > MAX_ENVELOPE:
            found.append(_refused(f"an attestation is over {MAX_ENVELOPE} bytes"))
            continue
        envelope = client.blob(repository, blob_digest, limit=MAX_ENVELOPE)
        judged = judge_envelope(envelope, digest=digest, keys=keys)
        if judged is not None:
            found.append(judged)
    return tuple(found)
