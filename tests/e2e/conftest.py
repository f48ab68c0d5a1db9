"""Fixtures for the end-to-end tests: Bulkhead registered with a real apiserver.

Owns: a control plane of e2e's own (its webhook registration judges every
namespace, so it must not share an apiserver with tests that submit
privileged pods unjudged), one ``bulkhead serve`` process for the session
with the example policies, its registration by loopback URL, and namespaces
for tests that bring a registration of their own.

The shared registration is the production one (every namespace but
kube-system and ``bulkhead-system``) narrowed by one label:
namespaces labelled ``OWN_REGISTRATION`` are left to a test's own webhook
configuration, so two registrations never judge the same request.

I/O: starts and stops processes on 127.0.0.1 and runs the real kubectl.
If anything cannot start, the fixtures raise: tests fail, they never skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import pytest

from devcluster import controlplane, registration, webhookserver
from tests.e2e import workloads

OWN_REGISTRATION: Final = ("e2e.bulkhead.dev/registration", "own")


def _shared_registration(server: webhookserver.WebhookServer) -> dict[str, object]:
    """The session's webhook configuration: by URL, for every namespace but the exempt ones."""
    key, value = OWN_REGISTRATION
    return registration.webhook_configuration(
        name=registration.CONFIGURATION_NAME,
        webhook_name=registration.WEBHOOK_NAME,
        client_config=registration.url_client_config(
            server.validate_url, ca_pem=server.serving.ca_pem
        ),
        selector=registration.namespace_selector(
            extra_expressions=[{"key": key, "operator": "NotIn", "values": [value]}]
        ),
    )


@pytest.fixture(scope="session")
def control_plane(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[controlplane.ControlPlane]:
    """e2e's own control plane (overrides the suite-wide one for tests/e2e only)."""
    log_dir = tmp_path_factory.mktemp("e2e-control-plane-logs")
    with controlplane.ControlPlane(log_dir=log_dir) as cp:
        cp.create_namespace(registration.WEBHOOK_NAMESPACE)
        cp.create_namespace("kube-system")  # adds the default ServiceAccount pods need
        yield cp


@pytest.fixture(scope="session")
def serving_pki(tmp_path_factory: pytest.TempPathFactory) -> webhookserver.ServingPKI:
    """Serving CA and cert for 127.0.0.1, localhost and ``bulkhead.bulkhead-system.svc``."""
    return webhookserver.ServingPKI.write(
        tmp_path_factory.mktemp("webhook-pki"),
        service=registration.SERVICE_NAME,
        namespace=registration.WEBHOOK_NAMESPACE,
    )


@pytest.fixture(scope="session")
def bulkhead_session(
    control_plane: controlplane.ControlPlane,
    serving_pki: webhookserver.ServingPKI,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[webhookserver.WebhookServer]:
    """``bulkhead serve`` with the example policies, registered for the session."""
    server = webhookserver.WebhookServer(
        serving=serving_pki,
        policy_files=[workloads.POLICIES_DIR],
        log_path=tmp_path_factory.mktemp("bulkhead-logs") / "bulkhead-serve.log",
    )
    with server:
        control_plane.apply(_shared_registration(server))
        try:
            with control_plane.namespace() as probe_namespace:
                registration.wait_until_judged(
                    control_plane, namespace=probe_namespace, webhook_name=registration.WEBHOOK_NAME
                )
            yield server
        finally:
            control_plane.kubectl(
                "delete",
                "validatingwebhookconfiguration",
                registration.CONFIGURATION_NAME,
                "--ignore-not-found",
            )


@pytest.fixture
def bulkhead(
    bulkhead_session: webhookserver.WebhookServer,
) -> webhookserver.WebhookServer:
    """The session's webhook, running (restarted if an earlier test left it stopped)."""
    if not bulkhead_session.running:
        bulkhead_session.start()
    return bulkhead_session


@pytest.fixture
def own_namespace(control_plane: controlplane.ControlPlane) -> Iterator[str]:
    """A fresh namespace the shared registration leaves alone (for a test's own one)."""
    key, value = OWN_REGISTRATION
    with control_plane.namespace(labels={key: value}) as name:
        yield name
