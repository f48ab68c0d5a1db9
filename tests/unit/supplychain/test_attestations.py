"""DSSE envelopes of cosign vulnerability attestations: PAE, signature, subject, predicate."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from webhook.policy import vulnerabilities
from webhook.supplychain import attestations, registry, vulnpredicate

DIGEST = "sha256:" + "ab" * 32
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER = ec.generate_private_key(ec.SECP256R1())
KEYS = {"trusted1": KEY.public_key()}
FINISHED = "2026-06-01T10:00:00.123456789Z"


def test_pae_is_the_dsse_encoding() -> None:
    # The example of the DSSE protocol description.
    assert (
        attestations.pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert attestations.pae("", b"") == b"DSSEv1 0  0 "


def test_attestation_tag_is_cosigns() -> None:
    assert attestations.attestation_tag(DIGEST) == "sha256-" + "ab" * 32 + ".att"


def _statement(**changes: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": vulnpredicate.PREDICATE_TYPE,
        "subject": [{"name": "registry.example/app", "digest": {"sha256": "ab" * 32}}],
        "predicate": {
            "scanner": {"result": {"Results": []}},
            "metadata": {"scanFinishedOn": FINISHED},
        },
    }
    statement.update(changes)
    return statement


def _envelope(
    statement: dict[str, Any],
    *,
    key: ec.EllipticCurvePrivateKey = KEY,
    payload_type: str = attestations.IN_TOTO,
    signed_payload: bytes | None = None,
) -> bytes:
    payload = json.dumps(statement).encode()
    signature = key.sign(
        attestations.pae(payload_type, signed_payload or payload), ec.ECDSA(hashes.SHA256())
    )
    return json.dumps(
        {
            "payloadType": payload_type,
            "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
        }
    ).encode()


def _judge(envelope: bytes) -> vulnerabilities.Attestation | None:
    return attestations.judge_envelope(envelope, digest=DIGEST, keys=KEYS)


def test_a_signed_statement_for_the_digest_counts() -> None:
    found = _judge(_envelope(_statement()))
    assert found == vulnerabilities.Attestation(
        key="trusted1",
        scanned=datetime.datetime(2026, 6, 1, 10, 0, 0, 123456, tzinfo=datetime.UTC),
    )


@pytest.mark.parametrize(
    ("envelope", "problem"),
    [
        pytest.param(_envelope(_statement(), key=OTHER), "does not verify", id="other-key"),
        pytest.param(
            _envelope(_statement(), signed_payload=json.dumps(_statement(subject=[])).encode()),
            "does not verify",
            id="payload-altered-after-signing",
        ),
        pytest.param(
            _envelope(_statement(subject=[{"digest": {"sha256": "cd" * 32}}])),
            "names other subjects, not this image's digest",
            id="another-digest",
        ),
        pytest.param(
            _envelope(_statement(), payload_type="application/json"),
            "not a DSSE envelope of an in-toto statement",
            id="payload-type",
        ),
        pytest.param(b"[1]", "not a JSON object", id="not-an-object"),
        pytest.param(
            _envelope(_statement(predicate={"scanner": {"result": {"Results": []}}})),
            "scanFinishedOn is missing",
            id="no-scan-time",
        ),
    ],
)
def test_attestations_that_do_not_count_say_why(envelope: bytes, problem: str) -> None:
    found = _judge(envelope)
    assert found is not None
    assert found.key is None
    assert problem in found.problem


def test_other_predicate_types_are_skipped() -> None:
    assert _judge(_envelope(_statement(predicateType="https://spdx.dev/Document"))) is None


class _Registry:
    """A registry answer as a hostile registry could shape it: one .att manifest, blobs counted."""

    def __init__(self, layers: list[Any], blob: bytes) -> None:
        self._manifest = registry.Manifest(
            media_type="application/vnd.oci.image.manifest.v1+json",
            body=json.dumps({"layers": layers}).encode(),
            digest="sha256:" + "cd" * 32,
        )
        self._blob = blob
        self.fetched = 0

    def find_manifest(self, repository: str, tag: str) -> registry.Manifest:
        assert tag == attestations.attestation_tag(DIGEST)
        return self._manifest

    def blob(self, repository: str, digest: str, *, limit: int) -> bytes:
        assert limit == attestations.MAX_ENVELOPE
        self.fetched += 1
        return self._blob


def _layer(size: object = 100) -> dict[str, Any]:
    return {"mediaType": attestations.ENVELOPE, "size": size, "digest": "sha256:" + "ef" * 32}


def _find(answer: _Registry) -> tuple[vulnerabilities.Attestation, ...]:
    return attestations.find(answer, "app", DIGEST, keys=KEYS)  # type: ignore[arg-type]


def test_a_manifest_with_thousands_of_attestations_is_read_only_up_to_the_cap() -> None:
    answer = _Registry([_layer()] * 5000, _envelope(_statement()))
    found = _find(answer)
    assert answer.fetched == attestations.MAX_ATTESTATIONS
    assert len(found) == attestations.MAX_ATTESTATIONS


@pytest.mark.parametrize(
    ("size", "problem"),
    [
        (attestations.MAX_ENVELOPE + 1, "over 8388608 bytes"),
        (2**70, "over 8388608 bytes"),
        (None, "names no size or digest"),
        ("100", "names no size or digest"),
        (-1.5, "names no size or digest"),
    ],
)
def test_an_oversized_or_unsized_attestation_is_refused_without_a_download(
    size: object, problem: str
) -> None:
    answer = _Registry([_layer(size)], _envelope(_statement()))
    [found] = _find(answer)
    assert answer.fetched == 0
    assert found.key is None
    assert found.problem is not None
    assert problem in found.problem
