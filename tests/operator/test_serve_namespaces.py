"""Cluster mode: a namespace created a moment ago is judged with its real labels, never without.

``bulkhead serve`` watches the policy CRs and Namespaces with the webhook's
ServiceAccount (``manifests/rbac/webhook.yaml`` only, so the ``get`` on
namespaces it needs for a namespace the watch has not delivered is tested
too) and is registered by loopback URL for this test's namespaces. A Deny
policy selects namespaces by ``env: prod``; a privileged pod submitted
right after its ``env: prod`` namespace is created must be refused every
time, and one in an ``env: dev`` namespace admitted.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator

import pytest

from devcluster import controlplane, installation, registration, webhookserver
from tests.operator import conftest

pytestmark = pytest.mark.cluster

WEBHOOK = "namespaces.bulkhead.dev"


@pytest.fixture
def cluster_webhook(
    install: installation.Install, tmp_path: pathlib.Path
) -> Iterator[tuple[webhookserver.WebhookServer, str]]:
    marker = f"bulkhead-test-{install.suffix}"
    policy = {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": f"prod-{install.suffix}"},
        "spec": {
            "action": "Deny",
            "rules": {"privileged": False},
            "match": {"namespaceSelector": {"matchLabels": {"env": "prod"}}},
        },
    }
    with conftest.cluster_webhook(
        install, tmp_path, policy=policy, webhook_name=WEBHOOK, marker=marker
    ) as server:
        with install.cp.namespace(labels={marker: "yes", "env": "prod"}) as probe:
            registration.wait_until_judged(install.cp, namespace=probe, webhook_name=WEBHOOK)
        yield server, marker


def _dry_run_privileged(cp: controlplane.ControlPlane, namespace: str) -> tuple[int, str]:
    result = cp.kubectl(
        "create", "--dry-run=server", "-n", namespace, "-f", "-",
        input_text=json.dumps(registration.violating_pod("fresh")), check=False,
    )  # fmt: skip
    return result.returncode, result.stderr


def test_a_fresh_namespace_is_never_judged_without_its_labels(
    install: installation.Install, cluster_webhook: tuple[webhookserver.WebhookServer, str]
) -> None:
    _, marker = cluster_webhook
    for _ in range(5):
        with install.cp.namespace(labels={marker: "yes", "env": "prod"}) as fresh:
            code, stderr = _dry_run_privileged(install.cp, fresh)
            assert code != 0, "a privileged pod was admitted in a fresh env=prod namespace"
            assert f'admission webhook "{WEBHOOK}" denied the request' in stderr, stderr
    with install.cp.namespace(labels={marker: "yes", "env": "dev"}) as dev:
        code, stderr = _dry_run_privileged(install.cp, dev)
        assert code == 0, stderr
