"""Fixtures for the operator and policy-cache tests on the real control plane.

``crds``: the generated CRDs, applied once per session. ``install``: the
RBAC manifests rendered into the test's namespace, ServiceAccount
kubeconfigs and a harmless ValidatingWebhookConfiguration for the operator
to patch (removed afterwards). ``operators``: starts ``bulkhead operator``
processes and stops every one of them after the test. ``cluster_webhook``:
a ``bulkhead serve`` watching the cluster with the webhook's ServiceAccount,
one cluster policy applied and the webhook registered by loopback URL for
the namespaces carrying a marker label.
"""

from __future__ import annotations

import contextlib
import pathlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest

from devcluster import controlplane, installation, registration, webhookserver
from tests.chart import rendering


@pytest.fixture(scope="session")
def crds(control_plane: controlplane.ControlPlane) -> controlplane.ControlPlane:
    installation.install_crds(control_plane)
    return control_plane


@pytest.fixture
def install(
    crds: controlplane.ControlPlane, namespace: str, tmp_path: pathlib.Path
) -> Iterator[installation.Install]:
    installed = installation.Install(crds, namespace=namespace, directory=tmp_path)
    crds.apply(
        installation.webhook_configuration(installed.webhook_configuration, namespace=namespace)
    )
    try:
        yield installed
    finally:
        crds.kubectl(
            "delete",
            "validatingwebhookconfiguration",
            installed.webhook_configuration,
            "--ignore-not-found",
        )
        installed.remove()


OperatorFactory = Callable[..., installation.OperatorProcess]


@pytest.fixture
def operators(install: installation.Install, tmp_path: pathlib.Path) -> Iterator[OperatorFactory]:
    started: list[installation.OperatorProcess] = []

    def start(
        *extra_args: str, log_name: str = "operator.log", run: bool = True
    ) -> installation.OperatorProcess:
        process = installation.OperatorProcess(
            kubeconfig=install.operator_kubeconfig,
            namespace=install.namespace,
            webhook_configuration=install.webhook_configuration,
            log_path=tmp_path / log_name,
            extra_args=extra_args,
        )
        started.append(process)
        if run:
            process.start()
        return process

    try:
        yield start
    finally:
        for process in started:
            process.stop(timeout=10)


@contextlib.contextmanager
def chart_rbac(
    install: installation.Install, *, values: Mapping[str, Any], name: str
) -> Iterator[None]:
    """The ClusterRole and ClusterRoleBinding ``name`` the chart renders only with ``values``,
    bound to this install's ServiceAccount (names suffixed), until the block ends."""
    rbac = [d for d in rendering.render(values) if d["metadata"]["name"] == name]
    assert [d["kind"] for d in rbac] == ["ClusterRole", "ClusterRoleBinding"], rbac
    for doc in rbac:
        doc["metadata"]["name"] = f"{name}-{install.suffix}"
        if doc["kind"] == "ClusterRoleBinding":
            doc["roleRef"]["name"] = doc["metadata"]["name"]
            for subject in doc["subjects"]:
                subject["namespace"] = install.namespace
    install.cp.apply(*rbac)
    try:
        yield
    finally:
        for doc in rbac:
            install.cp.kubectl(
                "delete", doc["kind"].lower(), doc["metadata"]["name"], "--ignore-not-found"
            )


def args(*pairs: tuple[str, str]) -> Sequence[str]:
    return [f"--{flag}={value}" for flag, value in pairs]


@contextlib.contextmanager
def cluster_webhook(
    install: installation.Install,
    directory: pathlib.Path,
    *,
    policy: Mapping[str, Any],
    webhook_name: str,
    marker: str,
    rules: Sequence[Mapping[str, Any]] = registration.RULES,
) -> Iterator[webhookserver.WebhookServer]:
    """``bulkhead serve`` in cluster mode enforcing ``policy`` where ``marker: yes`` is set.

    The ClusterContainerPolicy and the registration are removed afterwards.
    """
    serving = webhookserver.ServingPKI.write(
        directory / "pki", service="bulkhead", namespace=install.namespace
    )
    server = webhookserver.WebhookServer(
        serving=serving,
        log_path=directory / "serve.log",
        extra_args=(f"--kubeconfig={install.webhook_kubeconfig}",),
    )
    configuration = f"{webhook_name.split('.', maxsplit=1)[0]}-{install.suffix}"
    install.cp.apply(policy)
    try:
        with server:
            install.cp.apply(
                registration.webhook_configuration(
                    name=configuration,
                    webhook_name=webhook_name,
                    client_config=registration.url_client_config(
                        server.validate_url, ca_pem=serving.ca_pem
                    ),
                    selector={"matchLabels": {marker: "yes"}},
                    rules=rules,
                )
            )
            try:
                yield server
            finally:
                install.cp.kubectl(
                    "delete", "validatingwebhookconfiguration", configuration, "--ignore-not-found"
                )
    finally:
        install.cp.kubectl("delete", "ccp", policy["metadata"]["name"], "--ignore-not-found")
