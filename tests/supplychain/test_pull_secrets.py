"""Registry credentials from the Pod's ``imagePullSecrets``, through the real apiserver.

A real distribution registry that requires htpasswd Basic authentication
holds images pushed and signed (real cosign) by one user; a real ``bulkhead
serve --registry-pull-secrets`` watches the cluster's pull Secrets and
ServiceAccounts and verifies each Pod's images with the credentials the Pod
itself may use. Each test works in namespaces of its own.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import pathlib
import secrets
import time
from collections.abc import Iterator

import pytest

from devcluster import controlplane, registration, webhookserver
from tests.supplychain import conftest, harness

pytestmark = pytest.mark.cluster

WEBHOOK: str = "pull-secrets.bulkhead.dev"
PUSHER_PASSWORD: str = "pusher-" + secrets.token_hex(8)
PULLER_PASSWORD: str = "puller-" + secrets.token_hex(8)
WRONG_PASSWORD: str = "wrong-" + secrets.token_hex(8)
#: Long enough for the webhook's watch to deliver a Secret created a moment ago, under load.
_WAIT: float = 60.0


def _pod(image: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"app-{secrets.token_hex(3)}"},
        "spec": {"containers": [{"name": "app", "image": image}], **spec},
    }


def _pull_secret(name: str, host: str, password: str, *, legacy: bool = False) -> dict[str, object]:
    auths = {host: {"auth": base64.b64encode(f"puller:{password}".encode()).decode()}}
    kind, key, config = (
        ("kubernetes.io/dockercfg", ".dockercfg", auths)
        if legacy
        else ("kubernetes.io/dockerconfigjson", ".dockerconfigjson", {"auths": auths})
    )
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": kind,
        "data": {key: base64.b64encode(json.dumps(config).encode()).decode()},
    }


@dataclasses.dataclass(frozen=True)
class Setup:
    """Two namespaces judged by the webhook: ``owner`` holds the pull Secrets, ``other`` none."""

    cp: controlplane.ControlPlane
    registry: harness.Registry
    server: webhookserver.WebhookServer
    owner: str
    other: str
    image: str

    def fresh_image(self) -> str:
        """A new image no namespace has verified yet (the 401 comes before any signature)."""
        digest = self.registry.push_image("acme/fresh", "v1", content=secrets.token_hex(8))
        return f"{self.registry.host}/acme/fresh@{digest}"

    def create(self, namespace: str, pod: dict[str, object]) -> tuple[bool, str]:
        """Dry-run create ``pod`` in ``namespace``: (admitted, kubectl's stderr)."""
        code, stderr = registration.dry_run_create(self.cp, namespace, pod)
        return code == 0, stderr

    def admitted_soon(self, namespace: str, pod: dict[str, object]) -> None:
        """Wait until ``pod`` is admitted (the watch delivers new Secrets a moment later)."""
        deadline = time.monotonic() + _WAIT
        while True:
            admitted, stderr = self.create(namespace, pod)
            if admitted:
                return
            assert time.monotonic() < deadline, f"not admitted within {_WAIT}s: {stderr}"
            time.sleep(0.5)

    def denied(self, namespace: str, pod: dict[str, object]) -> str:
        admitted, stderr = self.create(namespace, pod)
        assert not admitted, f"{pod} was admitted"
        assert f'admission webhook "{WEBHOOK}" denied the request' in stderr, stderr
        assert "imageSignatures" in stderr, stderr
        assert_no_credentials(stderr)
        return stderr


def assert_no_credentials(text: str) -> None:
    for password in (PUSHER_PASSWORD, PULLER_PASSWORD, WRONG_PASSWORD):
        assert password not in text
        assert base64.b64encode(f"puller:{password}".encode()).decode() not in text


@pytest.fixture(scope="module")
def setup(
    control_plane: controlplane.ControlPlane,
    bin_dir: pathlib.Path,
    cosign: harness.Cosign,
    keys: conftest.Keys,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("pull-secrets")
    (workdir / "registry").mkdir()
    private = harness.Registry(
        bin_dir=bin_dir,
        workdir=workdir / "registry",
        users={"pusher": PUSHER_PASSWORD, "puller": PULLER_PASSWORD},
    )
    server = harness.signing_webhook(
        workdir,
        public_pem=keys.trusted.public_pem,
        repositories=[f"{private.host}/*"],
        extra_args=(
            "--registry-ca-file",
            str(private.ca_file),
            "--kubeconfig",
            str(control_plane.kubeconfig),
            "--registry-pull-secrets",
            # Generous (the apiserver waits 10 s): a busy machine must not turn a 401 into a
            # timeout.
            "--decision-timeout",
            "8",
            "--registry-timeout",
            "6",
        ),
    )
    with (
        private,
        server,
        control_plane.namespace() as owner,
        control_plane.namespace() as other,
    ):
        digest = private.push_image("acme/private", "v1", content=secrets.token_hex(8))
        image = f"{private.host}/acme/private@{digest}"
        cosign.log_in(private.host, user="pusher", password=PUSHER_PASSWORD)
        cosign.sign(image, key=keys.trusted.private, ca_file=private.ca_file)
        control_plane.apply(
            _pull_secret("regcred", private.host, PULLER_PASSWORD),
            _pull_secret("legacy", private.host, PULLER_PASSWORD, legacy=True),
            _pull_secret("wrong", private.host, WRONG_PASSWORD),
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "builder"},
                "imagePullSecrets": [{"name": "legacy"}],
            },
            namespace=owner,
        )
        registrations = [
            registration.registered_for(
                control_plane,
                namespace=namespace,
                webhook_name=WEBHOOK,
                validate_url=server.validate_url,
                ca_pem=server.serving.ca_pem,
                probe=_pod(image),
            )
            for namespace in (owner, other)
        ]
        with registrations[0], registrations[1]:
            yield Setup(control_plane, private, server, owner, other, image)


def test_pod_with_a_pull_secret_is_verified_and_admitted(setup: Setup) -> None:
    setup.admitted_soon(setup.owner, _pod(setup.image, imagePullSecrets=[{"name": "regcred"}]))


def test_service_account_pull_secrets_count_when_the_pod_names_none(setup: Setup) -> None:
    setup.admitted_soon(setup.owner, _pod(setup.image, serviceAccountName="builder"))


def test_pod_without_credentials_is_denied_naming_the_registry_and_the_401(
    setup: Setup,
) -> None:
    stderr = setup.denied(setup.owner, _pod(setup.image))
    assert f"manifest {setup.registry.host}/acme/private" in stderr
    assert "access denied (401)" in stderr
    assert "none are set for it" in stderr
    assert "imagePullSecret" in stderr


def test_wrong_password_is_denied_without_showing_it(setup: Setup) -> None:
    # Within its namespace, a verified digest serves every Pod (any of them may name any of
    # the namespace's pull Secrets), so this one is new.
    image = setup.fresh_image()
    stderr = setup.denied(setup.owner, _pod(image, imagePullSecrets=[{"name": "wrong"}]))
    assert "access denied (401) even after authenticating" in stderr


def test_no_pod_of_another_namespace_rides_on_a_verification(setup: Setup) -> None:
    with_secret = _pod(setup.image, imagePullSecrets=[{"name": "regcred"}])
    setup.admitted_soon(setup.owner, with_secret)
    # Verified (and cached) for the owner's namespace; not for a Pod elsewhere, not even one
    # naming a Secret of the same name that its own namespace does not have.
    assert "access denied (401)" in setup.denied(setup.other, _pod(setup.image))
    assert "access denied (401)" in setup.denied(setup.other, with_secret)


def test_credentials_never_reach_the_log(setup: Setup) -> None:
    setup.admitted_soon(setup.owner, _pod(setup.image, imagePullSecrets=[{"name": "regcred"}]))
    setup.denied(setup.owner, _pod(setup.fresh_image(), imagePullSecrets=[{"name": "wrong"}]))
    assert_no_credentials(setup.server.log_text())
