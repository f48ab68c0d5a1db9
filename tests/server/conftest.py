"""Fixtures for the real-HTTPS server tests: a test CA, certificates, policies, servers.

``shared_server`` is one ``bulkhead serve`` for the whole session with three
policies that forbid privileged containers, each in its own namespaces:
``deny-*`` (Deny), ``warn-*`` (Warn) and ``audit-*`` (Audit). Tests that
change files or stop the server start their own with ``start_server``.
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Callable, Iterator, Sequence

import pytest

from tests.server import harness, pki

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
    authority: pki.Authority
    ca_file: pathlib.Path
    cert_file: pathlib.Path
    key_file: pathlib.Path
    client_cert: pathlib.Path
    client_key: pathlib.Path
    serving_serial: int

    def tls_args(self) -> list[str]:
        return [
            "--tls-cert-file",
            str(self.cert_file),
            "--tls-private-key-file",
            str(self.key_file),
        ]


def make_material(directory: pathlib.Path) -> Material:
    directory.mkdir(parents=True, exist_ok=True)
    authority = pki.Authority.generate()
    serving = authority.issue("bulkhead.test.svc")
    client = authority.issue("kube-apiserver", client=True)
    files = {
        "ca.crt": authority.cert_pem,
        "tls.crt": serving.cert_pem,
        "tls.key": serving.key_pem,
        "client.crt": client.cert_pem,
        "client.key": client.key_pem,
    }
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return Material(
        directory=directory,
        authority=authority,
        ca_file=directory / "ca.crt",
        cert_file=directory / "tls.crt",
        key_file=directory / "tls.key",
        client_cert=directory / "client.crt",
        client_key=directory / "client.key",
        serving_serial=serving.serial,
    )


@pytest.fixture(scope="session")
def session_material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    return make_material(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def policy_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    directory = tmp_path_factory.mktemp("policies")
    (directory / "privileged.yaml").write_text(POLICIES)
    return directory


@pytest.fixture(scope="session")
def shared_server(
    tmp_path_factory: pytest.TempPathFactory,
    session_material: Material,
    policy_dir: pathlib.Path,
) -> Iterator[harness.Server]:
    with harness.running(
        tmp_path_factory.mktemp("shared-server"),
        ca_file=session_material.ca_file,
        args=[*session_material.tls_args(), "--policy-file", str(policy_dir)],
    ) as server:
        yield server


@pytest.fixture
def material(tmp_path: pathlib.Path) -> Material:
    return make_material(tmp_path / "tls")


StartServer = Callable[..., harness.Server]


@pytest.fixture
def start_server(tmp_path: pathlib.Path) -> Iterator[StartServer]:
    """Start servers for one test; each is stopped (SIGTERM, bounded) at the end."""
    started: list[harness.Server] = []

    def start(material: Material, args: Sequence[str]) -> harness.Server:
        server = harness.start(tmp_path, ca_file=material.ca_file, args=list(args))
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()
