"""``imageSignatures.keySecrets``: the references a policy may write, and the keys the
operator resolved into ``status.trustedKeys`` as the webhook enforces them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.policy import test_signatures
from tests.unit.policy.test_signatures import IMAGE, KEY_2_ID, KEY_ID, PEM, PEM_2
from webhook import policy
from webhook.policy import signatures

PATH = "spec.rules.imageSignatures.keySecrets"


def _document(
    rule: dict[str, Any], *, namespace: str | None = None, status: Any = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "signed"}
    kind = "ClusterContainerPolicy"
    if namespace is not None:
        metadata["namespace"] = namespace
        kind = "ContainerPolicy"
    document: dict[str, Any] = {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": kind,
        "metadata": metadata,
        "spec": {"rules": {"imageSignatures": rule}},
    }
    if status is not None:
        document["status"] = status
    return document


def _problems(document: dict[str, Any]) -> list[str]:
    compiled, problems = policy.compile_object(document, latest_minor=35)
    assert compiled is None
    return problems.splitlines()


SECRET = {"namespace": "sigstore", "name": "release", "key": "cosign.pub"}


@pytest.mark.parametrize(
    ("rule", "namespace", "expected"),
    [
        pytest.param(
            {},
            None,
            "spec.rules.imageSignatures.keys: required: at least one PEM public key, here "
            "or in keySecrets",
            id="neither-keys-nor-secrets",
        ),
        pytest.param(
            {"keySecrets": []},
            None,
            f"{PATH}: must not be empty: leave it out, or name a Secret",
            id="empty-list",
        ),
        pytest.param(
            {"keySecrets": "sigstore/release"},
            None,
            f"{PATH}: must be a list of {{namespace, name, key}}, not the string",
            id="not-a-list",
        ),
        pytest.param(
            {"keySecrets": [{"name": "release"}]},
            None,
            f"{PATH}[0].namespace: required: a ClusterContainerPolicy must say which namespace",
            id="cluster-policy-without-namespace",
        ),
        pytest.param(
            {"keySecrets": [{"namespace": "other", "name": "release"}]},
            "team",
            f"{PATH}[0].namespace: a ContainerPolicy may only name Secrets in its own "
            "namespace 'team', not 'other' (leave it out, or use a ClusterContainerPolicy)",
            id="container-policy-other-namespace",
        ),
        pytest.param(
            {"keySecrets": [{"namespace": "sigstore", "name": "Release_Key"}]},
            None,
            f"{PATH}[0].name: 'Release_Key' is not a valid Secret name",
            id="bad-name",
        ),
        pytest.param(
            {"keySecrets": [{"namespace": "sigstore", "name": "release", "key": "a/b"}]},
            None,
            f"{PATH}[0].key: 'a/b' is not a valid Secret data key ([-._a-zA-Z0-9]+)",
            id="bad-data-key",
        ),
        pytest.param(
            {"keySecrets": [{"namespace": "Sig", "name": "release"}]},
            None,
            f"{PATH}[0].namespace: 'Sig' is not a valid namespace name",
            id="bad-namespace",
        ),
        pytest.param(
            {"keySecrets": [{**SECRET, "secret": "x"}]},
            None,
            f"{PATH}[0].secret: unknown field",
            id="unknown-field",
        ),
        pytest.param(
            {"keySecrets": [SECRET, SECRET], "required": 2},
            None,
            "spec.rules.imageSignatures.required: asks for 2 signatures by distinct keys but "
            "only 1 key(s) are trusted: no image could pass",
            id="duplicates-count-once",
        ),
    ],
)
def test_bad_references_name_the_field(
    rule: dict[str, Any], namespace: str | None, expected: str
) -> None:
    problems = _problems(_document(rule, namespace=namespace))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_container_policy_namespace_defaults_to_its_own() -> None:
    compiled = policy.compile(
        _document(
            {"keySecrets": [{"name": "release"}, {"namespace": "team", "name": "b"}]},
            namespace="team",
        )
    )
    assert compiled.image_signatures is not None
    assert [str(ref) for ref in compiled.image_signatures.key_secrets] == [
        "team/release key cosign.pub",
        "team/b key cosign.pub",
    ]


def _resolved(**fields: str) -> dict[str, str]:
    return {**SECRET, **fields}


@pytest.mark.parametrize(
    ("status", "keys", "unresolved"),
    [
        pytest.param(
            None,
            [KEY_ID],
            [
                "the key Secret sigstore/release key cosign.pub is not resolved: the operator "
                "has not (yet) read it into status.trustedKeys"
            ],
            id="not-yet-resolved",
        ),
        pytest.param(
            {"trustedKeys": [_resolved(keyId=KEY_2_ID, pem=PEM_2)]},
            [KEY_ID, KEY_2_ID],
            [],
            id="resolved",
        ),
        pytest.param(
            {"trustedKeys": [_resolved(keyId=KEY_ID, pem=PEM)]},
            [KEY_ID],
            [],
            id="same-key-as-inline-counted-once",
        ),
        pytest.param(
            {"trustedKeys": [_resolved(error="Secret sigstore/release not found")]},
            [KEY_ID],
            [
                "the key Secret sigstore/release key cosign.pub is not resolved: Secret "
                "sigstore/release not found"
            ],
            id="operator-error",
        ),
        pytest.param(
            {"trustedKeys": [_resolved(pem="garbage")]},
            [KEY_ID],
            [
                "the key Secret sigstore/release key cosign.pub is not resolved: "
                "status.trustedKeys holds no usable key: must be one PEM public key "
                "(-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----, as in cosign.pub)"
            ],
            id="bad-pem-in-status",
        ),
        pytest.param(
            {"trustedKeys": [{**SECRET, "key": "other.pub", "pem": PEM_2}]},
            [KEY_ID],
            [
                "the key Secret sigstore/release key cosign.pub is not resolved: the operator "
                "has not (yet) read it into status.trustedKeys"
            ],
            id="entry-for-another-key-ignored",
        ),
        pytest.param(
            {"trustedKeys": "nonsense"},
            [KEY_ID],
            [
                "the key Secret sigstore/release key cosign.pub is not resolved: the operator "
                "has not (yet) read it into status.trustedKeys"
            ],
            id="unreadable-status",
        ),
    ],
)
def test_status_resolutions(status: Any, keys: list[str], unresolved: list[str]) -> None:
    compiled = policy.compile(_document({"keys": [PEM], "keySecrets": [SECRET]}, status=status))
    settings = compiled.image_signatures
    assert settings is not None
    assert [key.id for key in settings.keys] == keys
    assert list(settings.unresolved) == unresolved


def _signed_by(key: str) -> policy.EvidenceMap:
    return {
        IMAGE: signatures.Evidence(
            image=IMAGE, digest=IMAGE.split("@")[1], signatures=(signatures.Signature(key),)
        )
    }


def test_resolved_secret_key_verifies_an_image() -> None:
    status = {"trustedKeys": [_resolved(keyId=KEY_2_ID, pem=PEM_2)]}
    decision = test_signatures.decide(
        policy.compile(_document({"keySecrets": [SECRET]}, status=status)), _signed_by(KEY_2_ID)
    )
    assert decision.allowed, decision.message


def test_unresolved_secret_fails_closed_even_for_an_image_signed_by_an_inline_key() -> None:
    status = {"trustedKeys": [_resolved(error="Secret sigstore/release not found")]}
    compiled = policy.compile(_document({"keys": [PEM], "keySecrets": [SECRET]}, status=status))
    decision = test_signatures.decide(compiled, _signed_by(KEY_ID))
    assert not decision.allowed
    assert "ClusterContainerPolicy/signed" in decision.message
    assert "imageSignatures" in decision.message
    assert "spec.containers[0].image" in decision.message
    assert (
        f"image {IMAGE} cannot be judged: the key Secret sigstore/release key cosign.pub "
        "is not resolved: Secret sigstore/release not found"
    ) in decision.message
    assert "cosign generate-key-pair" in decision.message  # the fix
