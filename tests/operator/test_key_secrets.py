"""``imageSignatures.keySecrets`` resolved by ``bulkhead operator`` against the real apiserver.

The operator runs as its ServiceAccount, bound by ``manifests/rbac/operator.yaml``
alone at first: a policy naming a key Secret is not Ready, with the 403 (the
default install cannot read Secrets). Then the chart's ``operator.keySecrets``
ClusterRole is bound: the Secret does not exist yet, so the policy says which
Secret and key are missing; then the Secret appears holding
something that is not a public key (it is refused without being quoted),
then without the key, then with a key (Ready, the key in
``status.trustedKeys``), then the key is rotated: the operator's sweep
(``--check-interval=1s``) brings the status along each time, with no edit of
the policy, and each flip of readiness is announced as an Event.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from devcluster import installation
from tests.operator import conftest
from tests.operator.conftest import OperatorFactory

pytestmark = pytest.mark.cluster


def _public_key() -> tuple[str, str]:
    """A fresh P-256 public key: its PEM and its key id (as messages name it)."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return pem, hashlib.sha256(der).hexdigest()[:16]


def _secret(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()},
    }


def test_key_secret_resolved_into_status_and_followed_through_rotation(
    install: installation.Install, operators: OperatorFactory
) -> None:
    operators("--probe-endpoint=none", "--check-interval=1s")
    namespace = install.namespace
    name = f"keysecret-{install.suffix}"
    reference = {"namespace": namespace, "name": "signing", "key": "cosign.pub"}
    document = {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": name},
        "spec": {"rules": {"imageSignatures": {"keySecrets": [reference]}}},
    }
    path = installation.policy_path("ClusterContainerPolicy", name)

    def status_when(check: Any, what: str) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            found = installation.get_json(install.cp, path)
            condition = installation.ready_condition(found)
            if found is None or condition is None:
                return None
            return found["status"] if check(found["status"], condition) else None

        return installation.wait_for(probe, timeout=60, what=what)

    def unresolved_because(reason: str) -> dict[str, Any]:
        message = f"the key Secret {namespace}/signing key cosign.pub is not resolved: {reason}"

        def check(status: dict[str, Any], condition: dict[str, Any]) -> bool:
            return (
                condition["status"] == "False"
                and condition["reason"] == "KeysUnresolved"
                and condition["message"] == message
            )

        status = status_when(check, f"Ready=False: {message}")
        assert status["trustedKeys"] == [{**reference, "error": reason}]
        return status

    def resolved_to(key_id: str, pem: str) -> None:
        def check(status: dict[str, Any], condition: dict[str, Any]) -> bool:
            return condition["status"] == "True" and status.get("trustedKeys") == [
                {**reference, "keyId": key_id, "pem": pem}
            ]

        status_when(check, f"Ready=True with key {key_id}")

    install.cp.apply(document)
    try:
        unresolved_because(
            f"the operator may not get Secret {namespace}/signing (403 Forbidden): its "
            "ServiceAccount needs get on secrets there (the chart's operator.keySecrets "
            "grants it)"
        )
        with conftest.chart_rbac(
            install, values={"operator": {"keySecrets": True}}, name="bulkhead-operator-key-secrets"
        ):
            _follow_the_secret(install, unresolved_because, resolved_to)

        # The flips the sweep found (no edit of the policy) were announced as Events too.
        def reasons() -> set[str] | None:
            listed = install.cp.kubectl(
                "get",
                "events",
                "-n",
                "default",
                f"--field-selector=involvedObject.name={name}",
                "-o",
                "json",
            ).stdout
            seen = {item["reason"] for item in json.loads(listed)["items"]}
            return seen if {"KeysUnresolved", "Compiled"} <= seen else None

        installation.wait_for(reasons, timeout=60, what="KeysUnresolved and Compiled events")
    finally:
        install.cp.kubectl("delete", "ccp", name, "--ignore-not-found")


def _follow_the_secret(
    install: installation.Install,
    unresolved_because: Callable[[str], dict[str, Any]],
    resolved_to: Callable[[str, str], None],
) -> None:
    namespace = install.namespace
    try:
        unresolved_because(f"Secret {namespace}/signing not found")

        # The wrong data key of a cosign k8s:// key pair: refused, never quoted.
        private = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nc2VjcmV0\n-----END"
        install.cp.apply(_secret("signing", {"cosign.pub": private}), namespace=namespace)
        status = unresolved_because(
            f"data key cosign.pub of Secret {namespace}/signing must be one PEM public key "
            "(-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----, as in cosign.pub)"
        )
        assert "c2VjcmV0" not in str(status)

        install.cp.kubectl("delete", "secret", "signing", "-n", namespace)
        install.cp.apply(_secret("signing", {"other.pub": "x"}), namespace=namespace)
        unresolved_because(
            f"Secret {namespace}/signing has no data key cosign.pub (its keys: other.pub)"
        )

        first_pem, first_id = _public_key()
        install.cp.apply(_secret("signing", {"cosign.pub": first_pem}), namespace=namespace)
        resolved_to(first_id, first_pem)

        rotated_pem, rotated_id = _public_key()
        install.cp.apply(_secret("signing", {"cosign.pub": rotated_pem}), namespace=namespace)
        resolved_to(rotated_id, rotated_pem)

        install.cp.kubectl("delete", "secret", "signing", "-n", namespace)
        unresolved_because(f"Secret {namespace}/signing not found")
    finally:
        install.cp.kubectl("delete", "secret", "signing", "-n", namespace, "--ignore-not-found")
