"""``imageSignatures``: reading the policy field, and the verdict on verified evidence."""

from __future__ import annotations

import base64
import datetime
import hashlib
from typing import Any

import pytest

from webhook import admission, policy
from webhook.policy import signatures
from webhook.rules import registry

# A P-256 SubjectPublicKeyInfo prefix followed by a made-up point: the pure core
# only checks the PEM armour and DER shape; the verifier loads the key.
DER = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + bytes(65)
DER_2 = DER[:-1] + b"\x01"
PEM = (
    "-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(DER).decode() + "-----END PUBLIC KEY-----\n"
)
PEM_2 = (
    "-----BEGIN PUBLIC KEY-----\n"
    + base64.encodebytes(DER_2).decode()
    + "-----END PUBLIC KEY-----\n"
)
KEY_ID = hashlib.sha256(DER).hexdigest()[:16]
KEY_2_ID = hashlib.sha256(DER_2).hexdigest()[:16]
PATH = "spec.rules.imageSignatures"
IMAGE = "registry.example.com/team/app@sha256:" + "a" * 64
DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("value", "problems"),
    [
        pytest.param({}, [f"{PATH}.keys: required: at least one PEM public key"], id="no-keys"),
        pytest.param(
            {"keys": []},
            [f"{PATH}.keys: must not be empty: no signature could ever verify"],
            id="empty-keys",
        ),
        pytest.param(
            {"keys": ["ssh-ed25519 AAAA"]},
            [f"{PATH}.keys[0]: must be one PEM public key"],
            id="not-pem",
        ),
        pytest.param(
            {"keys": ["-----BEGIN PUBLIC KEY-----\nQUJD\n-----END PUBLIC KEY-----"]},
            [f"{PATH}.keys[0]: the PEM body is not a public key"],
            id="not-a-key",
        ),
        pytest.param(
            {"keys": [PEM], "required": 0},
            [f"{PATH}.required: must be a whole number >= 1, not 0"],
            id="required-zero",
        ),
        pytest.param(
            {"keys": [PEM, PEM], "required": 2},
            [f"{PATH}.required: asks for 2 signatures by distinct keys but only 1"],
            id="more-than-keys",
        ),
        pytest.param(
            {"keys": [PEM], "repositories": []},
            [f"{PATH}.repositories: must not be empty"],
            id="empty-repositories",
        ),
        pytest.param(
            {"keys": [PEM], "repository": ["x"]},
            [f"{PATH}.repository: unknown field"],
            id="unknown-field",
        ),
    ],
)
def test_bad_settings_name_the_field(value: Any, problems: list[str]) -> None:
    with pytest.raises(registry.ConfigError) as caught:
        signatures.parse(value, PATH)
    found = [str(p) for p in caught.value.problems]
    assert len(found) == len(problems), found
    for text, expected in zip(found, problems, strict=True):
        assert text.startswith(expected), found


def test_settings_read_keys_repositories_and_count() -> None:
    settings = signatures.parse(
        {"keys": [PEM, PEM_2], "repositories": ["registry.example.com/team/*"], "required": 2},
        PATH,
    )
    assert [k.id for k in settings.keys] == [KEY_ID, KEY_2_ID]
    assert settings.required == 2
    assert settings.covers(IMAGE)
    assert not settings.covers("registry.example.com/other/app:1")
    assert signatures.parse({"keys": [PEM]}, PATH).covers("nginx")


def _compile(**rule: Any) -> policy.CompiledPolicy:
    return policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "signed"},
            "spec": {"rules": {"imageSignatures": {"keys": [PEM], **rule}}},
        }
    )


def decide(compiled: policy.CompiledPolicy, evidence: policy.EvidenceMap) -> admission.Decision:
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "app", "image": IMAGE}]}}
    view = admission.pod_view("Pod", pod)
    assert view is not None

    return admission.judge_view(
        'Pod "default/app"',
        view,
        policy.Subject(kind="Pod", namespace="default"),
        [compiled],
        now=datetime.datetime.now(datetime.UTC),
        evidence=evidence,
    )


def _evidence(*found: signatures.Signature, failure: str = "") -> policy.EvidenceMap:
    return {
        IMAGE: signatures.Evidence(
            image=IMAGE, digest=None if failure else DIGEST, failure=failure, signatures=found
        )
    }


@pytest.mark.parametrize(
    ("evidence", "allowed", "message"),
    [
        pytest.param(_evidence(signatures.Signature(KEY_ID)), True, "", id="trusted"),
        pytest.param({}, False, "was not verified", id="no-evidence"),
        pytest.param(
            _evidence(failure="registry down"),
            False,
            "could not be verified: registry down",
            id="failure",
        ),
        pytest.param(_evidence(), False, "has no cosign signature", id="unsigned"),
        pytest.param(
            _evidence(signatures.Signature(KEY_2_ID)),
            False,
            "1 signature(s) by keys this policy does not trust",
            id="key-of-another-policy",
        ),
        pytest.param(
            _evidence(signatures.Signature(None, "a signature does not verify")),
            False,
            "found 0: a signature does not verify",
            id="bad-signature",
        ),
    ],
)
def test_verdict_on_evidence(evidence: policy.EvidenceMap, allowed: bool, message: str) -> None:
    decision = decide(_compile(), evidence)
    assert decision.allowed is allowed
    assert message in decision.message
    if not allowed:
        assert "ClusterContainerPolicy/signed" in decision.message
        assert "imageSignatures" in decision.message
        assert "spec.containers[0].image" in decision.message


def test_image_outside_repositories_needs_no_evidence() -> None:
    decision = decide(_compile(repositories=["ghcr.io/acme/*"]), {})
    assert decision.allowed
