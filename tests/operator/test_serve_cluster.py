"""``bulkhead serve`` enforcing the cluster's policy objects, with the operator's certificates.

The whole chain, as in a cluster: the operator (its ServiceAccount) issues
the CA and serving certificate into the Secret and injects caBundle into the
ValidatingWebhookConfiguration; a kubelet stand-in projects the Secret into
files with kubelet's atomic symlink swap; ``bulkhead serve`` with no policy
files watches the policy CRs with the webhook's ServiceAccount and serves
those files; the real apiserver calls it for every Pod in the test's
namespace.

* a ContainerPolicy applied with kubectl is enforced within 2 seconds, and
  stops applying within 2 seconds of its deletion;
* under continuous admission traffic, a whole CA rotation (new CA trusted,
  serving certificate moved to it, old CA retired once the served
  certificate no longer chains to it) causes zero failed reviews;
* a Pod admitted by a Warn ClusterContainerPolicy gets a PolicyViolation
  Event, counted (not repeated) when the same violation comes again, and
  ``kubectl describe clustercontainerpolicy`` shows the policy's own
  Events: Compiled from the operator, PolicyViolation from the webhook.
"""

from __future__ import annotations

import base64
import json
import pathlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster import controlplane, installation, webhookserver
from tests import exposition
from tests.operator.conftest import OperatorFactory
from webhook.operator import pki

pytestmark = pytest.mark.cluster


def _pod(name: str, *, privileged: bool) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "registry.invalid/app:1.0",
                    "securityContext": {"privileged": privileged},
                }
            ]
        },
    }


def _admit(cp: controlplane.ControlPlane, namespace: str, pod: dict[str, Any]) -> tuple[int, str]:
    status, body = cp.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/pods?dryRun=All",
        body=json.dumps(pod).encode(),
        timeout=15,
    )
    return status, body.decode(errors="replace")


def _registration(name: str, *, url: str, namespace: str) -> dict[str, Any]:
    """Pods in ``namespace`` only, failurePolicy Fail, no caBundle yet (the operator adds it)."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": "validate.bulkhead.dev",
                "clientConfig": {"url": url},
                "rules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["pods"],
                        "scope": "Namespaced",
                    }
                ],
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "failurePolicy": "Fail",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": 10,
            }
        ],
    }


@pytest.fixture
def chain(
    install: installation.Install, operators: OperatorFactory, tmp_path: pathlib.Path
) -> Iterator[tuple[webhookserver.WebhookServer, installation.OperatorProcess]]:
    port = controlplane.free_port()
    server_url = f"https://127.0.0.1:{port}/validate"
    install.cp.apply(
        _registration(install.webhook_configuration, url=server_url, namespace=install.namespace)
    )
    operator = operators(
        *installation.FAST_ROTATION, "--extra-san=127.0.0.1", f"--probe-endpoint=127.0.0.1:{port}"
    )
    with installation.ProjectedSecret(
        install.cp, namespace=install.namespace, directory=tmp_path / "tls"
    ) as projected:
        server = webhookserver.WebhookServer(
            serving=projected.serving(),
            port=port,
            log_path=tmp_path / "serve.log",
            extra_args=(f"--kubeconfig={install.webhook_kubeconfig}", "--reload-interval=0.2"),
        )
        with server:
            yield server, operator


def _denied_within(install: installation.Install, *, expect_denied: bool, timeout: float) -> float:
    started = time.monotonic()

    def judged() -> bool:
        status, body = _admit(install.cp, install.namespace, _pod("probe", privileged=True))
        if expect_denied:
            return status == 403 and "privileged" in body
        return status == 201

    installation.wait_for(judged, timeout=timeout, interval=0.05, what="the webhook's verdict")
    return time.monotonic() - started


def test_applied_policy_is_enforced_within_two_seconds(
    install: installation.Install,
    chain: tuple[webhookserver.WebhookServer, installation.OperatorProcess],
) -> None:
    # Before any policy: the webhook admits everything (it is reachable and trusted).
    _denied_within(install, expect_denied=False, timeout=60)
    policy = {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ContainerPolicy",
        "metadata": {"name": "no-privileged", "namespace": install.namespace},
        "spec": {"rules": {"privileged": False}},
    }
    install.cp.kubectl("apply", "-f", "-", input_text=json.dumps(policy))
    assert _denied_within(install, expect_denied=True, timeout=2.0) < 2.0
    status, body = _admit(install.cp, install.namespace, _pod("fine", privileged=False))
    assert status == 201, body
    install.cp.kubectl("delete", "cp", "no-privileged", "-n", install.namespace)
    assert _denied_within(install, expect_denied=False, timeout=2.0) < 2.0


def test_zero_failed_reviews_during_a_ca_rotation(
    install: installation.Install,
    chain: tuple[webhookserver.WebhookServer, installation.OperatorProcess],
) -> None:
    install.cp.apply(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ContainerPolicy",
            "metadata": {"name": "no-privileged", "namespace": install.namespace},
            "spec": {"rules": {"privileged": False}},
        }
    )
    _denied_within(install, expect_denied=True, timeout=60)

    def published() -> list[str]:
        configuration = installation.get_json(
            install.cp, f"{installation.WEBHOOKS_PATH}/{install.webhook_configuration}"
        )
        assert configuration is not None
        pem = base64.b64decode(configuration["webhooks"][0]["clientConfig"]["caBundle"])
        return [c.fingerprint for c in pki.split_bundle(pem)]

    first_ca = published()[0]
    failures: list[str] = []
    reviews = 0
    bundles_seen: set[int] = set()
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        for privileged in (False, True):
            status, body = _admit(
                install.cp, install.namespace, _pod(f"p{reviews}", privileged=privileged)
            )
            reviews += 1
            expected = 403 if privileged else 201
            if status != expected or (privileged and "privileged" not in body):
                failures.append(f"{status}: {body[:300]}")
        bundle = published()
        bundles_seen.add(len(bundle))
        if first_ca not in bundle and 2 in bundles_seen:
            break
    assert first_ca not in published(), "the CA rotation did not complete in 45 s"
    assert 2 in bundles_seen
    assert failures == [], f"{len(failures)} of {reviews} reviews failed: {failures[:3]}"
    assert reviews >= 50
    metrics = chain[1].metrics()
    assert exposition.value(metrics, "bulkhead_ca_retired_total") >= 1


def _events(cp: controlplane.ControlPlane, path: str, name: str) -> list[dict[str, Any]]:
    found = installation.get_json(cp, f"{path}?fieldSelector=involvedObject.name%3D{name}")
    assert found is not None
    return [e for e in found["items"] if e["reason"] == "PolicyViolation"]


def test_warn_decisions_post_counted_events_describe_shows(
    install: installation.Install,
    chain: tuple[webhookserver.WebhookServer, installation.OperatorProcess],
) -> None:
    cp, namespace = install.cp, install.namespace
    name = f"warn-privileged-{install.suffix}"
    cp.apply(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": name},
            "spec": {
                "action": "Warn",
                "rules": {"privileged": False},
                "match": {"namespaces": [namespace]},
            },
        }
    )
    try:

        def warned() -> bool:
            status, body = _admit(cp, namespace, _pod("probe", privileged=True))
            return status == 201 and "privileged" in body

        installation.wait_for(warned, timeout=60, interval=0.1, what="the Warn policy in force")
        # a dry run posts nothing; the real create does
        status, body = cp.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/pods",
            body=json.dumps(_pod("warned", privileged=True)).encode(),
        )
        assert status == 201, body
        pod_events = f"/api/v1/namespaces/{namespace}/events"
        [event] = installation.wait_for(
            lambda: _events(cp, pod_events, "warned"), timeout=60, what="an Event on the Pod"
        )
        assert event["type"] == "Warning"
        assert event["involvedObject"]["kind"] == "Pod"
        assert event["count"] == 1
        assert event["message"].startswith(f"ClusterContainerPolicy/{name} (Warn): [privileged]")
        assert "spec.containers[0].securityContext.privileged" in event["message"]
        assert _events(cp, pod_events, "probe") == []
        # the same violation again (the Pod's spec updated) counts on the same Event
        cp.kubectl("set", "image", "pod/warned", "-n", namespace, "app=registry.invalid/app:1.1")
        installation.wait_for(
            lambda: [e["count"] for e in _events(cp, pod_events, "warned")] == [2],
            timeout=60,
            what="the Event counted twice",
        )
        described = installation.wait_for(
            lambda: (
                out
                if "PolicyViolation" in (out := cp.kubectl("describe", "ccp", name).stdout)
                and "Compiled" in out
                else None
            ),
            timeout=30,
            what="kubectl describe showing the policy's Events",
        )
        assert f"Pod {namespace}/warned" in described
    finally:
        cp.kubectl("delete", "ccp", name, "--ignore-not-found")
