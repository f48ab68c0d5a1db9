"""A policy trusting a key kept in a Secret, end to end through the real apiserver.

``bulkhead operator`` (its ServiceAccount bound by ``manifests/rbac`` and the
chart's ``operator.keySecrets`` ClusterRole) reads
the Secret a ``ClusterContainerPolicy``'s ``keySecrets`` names into the
policy's status; ``bulkhead serve`` in cluster mode (its own ServiceAccount,
which may not read that Secret) compiles the policy with the resolved key.
Images live in a real registry and are signed with the real cosign CLI by
the key pair whose public half is in the Secret. Until the Secret exists,
every covered image is denied with a message naming the Secret; once the
operator has resolved it (a status-only change of the policy), a signed
image is admitted and an unsigned one denied.
"""

from __future__ import annotations

import base64
import dataclasses
import pathlib
import secrets
from collections.abc import Iterator

import pytest

from devcluster import controlplane, installation, registration, webhookserver
from tests.operator import conftest as operator_conftest
from tests.supplychain import conftest, harness

pytestmark = pytest.mark.cluster

WEBHOOK = "keysecrets.bulkhead.dev"
SECRET = "cosign-keys"


def _pod(image: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"app-{secrets.token_hex(3)}"},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }


def _create(cp: controlplane.ControlPlane, namespace: str, image: str) -> tuple[bool, str]:
    """Dry-run create a Pod running ``image``: (admitted, kubectl's stderr)."""
    status, stderr = registration.dry_run_create(cp, namespace, _pod(image))
    return status == 0, stderr


@dataclasses.dataclass(frozen=True)
class Cluster:
    """The control plane with the CRDs, and the namespace holding the key Secret."""

    cp: controlplane.ControlPlane
    keys_namespace: str


@pytest.fixture(scope="module")
def cluster(control_plane: controlplane.ControlPlane) -> Iterator[Cluster]:
    installation.install_crds(control_plane)
    with control_plane.namespace() as name:
        yield Cluster(control_plane, name)


def test_key_from_a_secret_admits_signed_and_denies_unsigned(
    cluster: Cluster,
    registry: harness.Registry,
    cosign: harness.Cosign,
    keys: conftest.Keys,
    tmp_path: pathlib.Path,
) -> None:
    cp, keys_namespace = cluster.cp, cluster.keys_namespace
    install = installation.Install(cp, namespace=keys_namespace, directory=tmp_path)
    name = f"secret-keys-{install.suffix}"
    repository = f"acme/keysecret-{install.suffix}"
    signed_digest = registry.push_image(repository, "signed", content=secrets.token_hex(8))
    signed = f"{registry.host}/{repository}@{signed_digest}"
    cosign.sign(signed, key=keys.trusted.private, ca_file=registry.ca_file)
    unsigned_digest = registry.push_image(repository, "unsigned", content=secrets.token_hex(8))
    unsigned = f"{registry.host}/{repository}@{unsigned_digest}"
    operator = installation.OperatorProcess(
        kubeconfig=install.operator_kubeconfig,
        namespace=keys_namespace,
        webhook_configuration=install.webhook_configuration,
        log_path=tmp_path / "operator.log",
        extra_args=("--certificates=external", "--check-interval=1s"),
    )
    server = webhookserver.WebhookServer(
        serving=webhookserver.ServingPKI.write(
            tmp_path / "pki",
            service=registration.SERVICE_NAME,
            namespace=registration.WEBHOOK_NAMESPACE,
        ),
        log_path=tmp_path / "serve.log",
        extra_args=(
            f"--kubeconfig={install.webhook_kubeconfig}",
            "--workers=1",
            f"--registry-ca-file={registry.ca_file}",
        ),
    )
    try:
        with (
            operator_conftest.chart_rbac(
                install,
                values={"operator": {"keySecrets": True}},
                name="bulkhead-operator-key-secrets",
            ),
            cp.namespace() as pods,
            operator.running_context(),
            server,
        ):
            cp.apply(
                {
                    "apiVersion": "bulkhead.dev/v1alpha1",
                    "kind": "ClusterContainerPolicy",
                    "metadata": {"name": name},
                    "spec": {
                        "match": {"namespaces": [pods]},
                        "rules": {
                            "imageSignatures": {
                                "keySecrets": [{"namespace": keys_namespace, "name": SECRET}],
                                "repositories": [f"{registry.host}/{repository}"],
                            }
                        },
                    },
                }
            )
            with registration.registered_for(
                cp,
                namespace=pods,
                webhook_name=WEBHOOK,
                validate_url=server.validate_url,
                ca_pem=server.serving.ca_pem,
                probe=_pod(unsigned),
            ):
                # No Secret: fails closed, even for the signed image; once the operator has
                # written why into the status, the denial names the Secret and the reason.
                reason = (
                    f"the key Secret {keys_namespace}/{SECRET} key cosign.pub is not resolved: "
                    f"Secret {keys_namespace}/{SECRET} not found"
                )

                def denied_naming_the_secret() -> str | None:
                    admitted, stderr = _create(cp, pods, signed)
                    assert not admitted, "admitted while the key Secret is not resolved"
                    assert f"ClusterContainerPolicy/{name}" in stderr, stderr
                    assert "imageSignatures" in stderr, stderr
                    assert "is not resolved" in stderr, stderr
                    return stderr if reason in stderr else None

                installation.wait_for(
                    denied_naming_the_secret, timeout=60, interval=0.5, what=reason
                )

                cp.apply(
                    {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "metadata": {"name": SECRET},
                        "data": {
                            "cosign.pub": base64.b64encode(
                                keys.trusted.public_pem.encode()
                            ).decode()
                        },
                    },
                    namespace=keys_namespace,
                )
                installation.wait_for(
                    lambda: _create(cp, pods, signed)[0],
                    timeout=60,
                    interval=0.5,
                    what="the signed image admitted once the key Secret is resolved",
                )
                admitted, stderr = _create(cp, pods, unsigned)
                assert not admitted
                assert f"(digest {unsigned_digest})" in stderr or unsigned in stderr, stderr
                assert "has no cosign signature" in stderr, stderr
                # The webhook itself may not read Secrets: the key came through the status.
                forbidden = cp.kubectl(
                    "get",
                    "secret",
                    SECRET,
                    "-n",
                    keys_namespace,
                    kubeconfig=install.webhook_kubeconfig,
                    check=False,
                )
                assert forbidden.returncode != 0
                assert "forbidden" in forbidden.stderr.lower(), forbidden.stderr
    finally:
        cp.kubectl("delete", "ccp", name, "--ignore-not-found")
        install.remove()
