"""``failurePolicy: Fail`` with the webhook down: fail closed, but never lock the cluster out.

Owns: stopping the session's ``bulkhead serve``, proving that a pod in an
ordinary namespace is then refused and not stored, that kube-system and the
webhook's own namespace (exempt by the registration's namespaceSelector)
still accept pods, and restarting the webhook on the same port afterwards so
later tests find it as before.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devcluster import controlplane, registration, webhookserver
from tests.e2e import kubectl, workloads

pytestmark = pytest.mark.cluster


@pytest.fixture
def stopped_webhook(
    control_plane: controlplane.ControlPlane, bulkhead: webhookserver.WebhookServer
) -> Iterator[webhookserver.WebhookServer]:
    """The session webhook, stopped for one test and then restarted and re-verified."""
    bulkhead.stop()
    try:
        yield bulkhead
    finally:
        bulkhead.start()
        with control_plane.namespace() as probe_namespace:
            registration.wait_until_judged(
                control_plane, namespace=probe_namespace, webhook_name=registration.WEBHOOK_NAME
            )


def test_webhook_down_fails_closed_but_exempt_namespaces_work(
    control_plane: controlplane.ControlPlane,
    namespace: str,
    stopped_webhook: webhookserver.WebhookServer,
) -> None:
    assert not stopped_webhook.running
    failing = f'failed calling webhook "{registration.WEBHOOK_NAME}"'

    for name, spec in (
        ("violating", workloads.privileged_spec()),
        ("compliant", workloads.compliant_spec()),
    ):
        result = kubectl.apply(control_plane, namespace, workloads.pod(name, spec))
        assert result.returncode != 0, kubectl.show(result)
        assert failing in result.stderr, kubectl.show(result)
        assert "connection refused" in result.stderr
        assert not kubectl.stored(control_plane, namespace, "pod", name)

    suffix = namespace.rsplit("-", 1)[-1]
    for exempt in registration.EXEMPT_NAMESPACES:
        name = f"rescue-{suffix}"
        pod = workloads.pod(name, workloads.privileged_spec())
        try:
            result = kubectl.apply(control_plane, exempt, pod)
            assert result.returncode == 0, kubectl.show(result)
            assert kubectl.stored(control_plane, exempt, "pod", name)
        finally:
            control_plane.kubectl(
                "delete", "pod", name, "-n", exempt, "--ignore-not-found", "--wait=false"
            )
