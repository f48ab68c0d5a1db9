"""Bulkhead registered through a Service, as in a real cluster.

Owns: reaching the webhook by ``clientConfig.service`` rather than a URL.
There is no kube-proxy here; the apiserver resolves an ``ExternalName``
Service to ``<externalName>:<port>`` itself, so ``externalName: localhost``
reaches the session's ``bulkhead serve`` while TLS is verified against
``<service>.bulkhead-system.svc``. A denial arrives through that route, and a
Service whose name the serving certificate does not carry fails the TLS check.

Each test registers its route for its own namespace only (labelled so the
shared URL registration leaves it alone), so the verdict can only come
through the Service.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devcluster import controlplane, registration, webhookserver
from tests.e2e import kubectl

pytestmark = pytest.mark.cluster

ROUTE_WEBHOOK = "service.validate.bulkhead.dev"


class Routes:
    """Service-routed registrations made by one test, removed by :meth:`remove`."""

    def __init__(self, cp: controlplane.ControlPlane, server: webhookserver.WebhookServer) -> None:
        self._cp = cp
        self._server = server
        self._made: list[tuple[str, str]] = []

    def install(self, *, service: str, namespace: str) -> None:
        """An ExternalName Service ``service`` -> localhost, registered for ``namespace``."""
        self._cp.apply(
            registration.external_name_service(
                namespace=registration.WEBHOOK_NAMESPACE, name=service, port=self._server.port
            )
        )
        config_name = f"bulkhead-route-{namespace}"
        self._made.append((service, config_name))
        only_this_namespace = {
            "key": "kubernetes.io/metadata.name",
            "operator": "In",
            "values": [namespace],
        }
        self._cp.apply(
            registration.webhook_configuration(
                name=config_name,
                webhook_name=ROUTE_WEBHOOK,
                client_config=registration.service_client_config(
                    namespace=registration.WEBHOOK_NAMESPACE,
                    name=service,
                    port=self._server.port,
                    ca_pem=self._server.serving.ca_pem,
                ),
                selector=registration.namespace_selector(extra_expressions=[only_this_namespace]),
            )
        )

    def remove(self) -> None:
        for service, config_name in self._made:
            self._cp.kubectl(
                "delete", "validatingwebhookconfiguration", config_name, "--ignore-not-found"
            )
            self._cp.kubectl(
                "delete", "service", service, "-n", registration.WEBHOOK_NAMESPACE,
                "--ignore-not-found",
            )  # fmt: skip
        self._made.clear()


@pytest.fixture
def routes(
    control_plane: controlplane.ControlPlane, bulkhead: webhookserver.WebhookServer
) -> Iterator[Routes]:
    made = Routes(control_plane, bulkhead)
    try:
        yield made
    finally:
        made.remove()


def test_denial_arrives_through_external_name_service(
    control_plane: controlplane.ControlPlane,
    bulkhead: webhookserver.WebhookServer,
    own_namespace: str,
    routes: Routes,
) -> None:
    svc_name = f"{registration.SERVICE_NAME}.{registration.WEBHOOK_NAMESPACE}.svc"
    assert svc_name in bulkhead.serving.dns_names
    routes.install(service=registration.SERVICE_NAME, namespace=own_namespace)
    registration.wait_until_judged(
        control_plane, namespace=own_namespace, webhook_name=ROUTE_WEBHOOK
    )

    result = kubectl.apply(control_plane, own_namespace, registration.violating_pod("via-svc"))
    assert result.returncode != 0, kubectl.show(result)
    denied = f'admission webhook "{ROUTE_WEBHOOK}" denied the request: Bulkhead denied'
    assert denied in result.stderr, kubectl.show(result)
    assert "[privileged] spec.containers[0].securityContext.privileged:" in result.stderr
    assert not kubectl.stored(control_plane, own_namespace, "pod", "via-svc")


def test_service_name_missing_from_certificate_fails_tls(
    control_plane: controlplane.ControlPlane, own_namespace: str, routes: Routes
) -> None:
    """The apiserver checks the cert against ``<service>.<ns>.svc``, not the address it dials."""
    routes.install(service="bulkhead-misnamed", namespace=own_namespace)
    expected = "bulkhead-misnamed.bulkhead-system.svc"

    failing = f'failed calling webhook "{ROUTE_WEBHOOK}"'
    registration.wait_for_refusal(control_plane, namespace=own_namespace, expected=failing)

    result = kubectl.apply(control_plane, own_namespace, registration.violating_pod("misnamed"))
    assert result.returncode != 0, kubectl.show(result)
    assert failing in result.stderr, kubectl.show(result)
    assert "x509: certificate is valid for" in result.stderr
    assert f"not {expected}" in result.stderr
    assert not kubectl.stored(control_plane, own_namespace, "pod", "misnamed")
