"""Fixtures for the real-HTTPS server tests: a test CA, certificates, policies, servers.

Servers are ``devcluster.webhookserver.WebhookServer`` (as in the cluster
tests and the demo), with ports the server chooses and no wait for
readiness, so tests can watch it become ready.

``shared_server`` is one ``bulkhead serve`` for the whole session with three
policies that forbid privileged containers, each in its own namespaces:
``deny-*`` (Deny), ``warn-*`` (Warn) and ``audit-*`` (Audit). Tests that
change files or stop the server start their own with ``start_server``.
"""

from __future__ import annotations

import dataclasses
import pathlib
import uuid
from collections.abc import Callable, Iterator, Sequence

import pytest

from devcluster import pki, webhookserver

POLICIES = """\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: deny-privileged}
spec:
  action: Deny
  match: {namespaces: ["deny-*"]}
  rules: {privileged: false}
---
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: warn-privileged}
spec:
  action: Warn
  match: {namespaces: ["warn-*"]}
  rules: {privileged: false}
---
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: audit-privileged}
spec:
  action: Audit
  match: {namespaces: ["audit-*"]}
  rules: {privileged: false}
"""


@dataclasses.dataclass(frozen=True)
class Material:
    """TLS files in one directory: the CA, the serving pair and a client pair."""

    directory: pathlib.Path
    authority: pki.CertificateAuthority
    serving: webhookserver.ServingPKI
    client_cert: pathlib.Path
    client_key: pathlib.Path
    serving_serial: int

    @property
    def ca_file(self) -> pathlib.Path:
        return self.serving.ca_path

    @property
    def cert_file(self) -> pathlib.Path:
        return self.serving.cert_path

    @property
    def key_file(self) -> pathlib.Path:
        return self.serving.key_path

    def reissue(self) -> pki.Credential:
        """A new serving certificate from the same CA (not written)."""
        return webhookserver.serving_credential(
            self.authority, service=SERVICE, namespace=NAMESPACE
        )


SERVICE = "bulkhead"
NAMESPACE = "test"


def make_material(directory: pathlib.Path) -> Material:
    serving = webhookserver.ServingPKI.write(directory, service=SERVICE, namespace=NAMESPACE)
    assert serving.ca is not None
    client_cert, client_key = serving.ca.issue(common_name="kube-apiserver", client=True).write(
        directory, "client"
    )
    return Material(
        directory=directory,
        authority=serving.ca,
        serving=serving,
        client_cert=client_cert,
        client_key=client_key,
        serving_serial=pki.Credential(cert_pem=serving.cert_path.read_bytes(), key_pem=b"").serial,
    )


@pytest.fixture(scope="session")
def session_material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    return make_material(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def policy_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    directory = tmp_path_factory.mktemp("policies")
    (directory / "privileged.yaml").write_text(POLICIES)
    return directory


def server(
    material: Material, directory: pathlib.Path, args: Sequence[str]
) -> webhookserver.WebhookServer:
    """``bulkhead serve`` with ``material``'s certificate and ``args``, not yet started."""
    return webhookserver.WebhookServer(
        serving=material.serving,
        log_path=directory / f"serve-{uuid.uuid4().hex[:8]}.log",
        port=0,
        extra_args=args,
        wait_ready=False,
    )


@pytest.fixture(scope="session")
def shared_server(
    tmp_path_factory: pytest.TempPathFactory,
    session_material: Material,
    policy_dir: pathlib.Path,
) -> Iterator[webhookserver.WebhookServer]:
    directory = tmp_path_factory.mktemp("shared-server")
    with server(session_material, directory, ["--policy-file", str(policy_dir)]) as shared:
        yield shared


@pytest.fixture
def material(tmp_path: pathlib.Path) -> Material:
    return make_material(tmp_path / "tls")


StartServer = Callable[..., webhookserver.WebhookServer]


@pytest.fixture
def start_server(tmp_path: pathlib.Path) -> Iterator[StartServer]:
    """Start servers for one test; each is stopped (SIGTERM, bounded) at the end."""
    started: list[webhookserver.WebhookServer] = []

    def start(material: Material, args: Sequence[str]) -> webhookserver.WebhookServer:
        one = server(material, tmp_path, args)
        started.append(one)
        one.start()
        return one

    yield start
    for one in started:
        one.stop()
