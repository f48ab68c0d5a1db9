"""Cluster mode: ``networkPolicy`` judged with the NetworkPolicies the webhook watches.

``bulkhead serve`` watches the policy CRs, Namespaces and NetworkPolicies
with the webhook's ServiceAccount (``manifests/rbac/webhook.yaml`` only, so
the RBAC for NetworkPolicies is proven too) and is registered by loopback
URL, as ``webhook.objectRules.networkPolicy`` registers it, for Pods and for
updates and deletions of NetworkPolicies in this test's namespaces. A Deny
policy with ``networkPolicy: true`` selects those namespaces.

* a Pod in a namespace without a default-deny NetworkPolicy is refused with
  the message ``bulkhead check`` prints for the same Pod offline, and
  admitted once one is applied;
* deleting that last default-deny NetworkPolicy is refused; with a second
  one beside it, the first may go, and then the second may not.
"""

from __future__ import annotations

import json
import pathlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from devcluster import controlplane, installation, registration
from tests.e2e import kubectl
from tests.operator import conftest
from tests.unit.cli import console

pytestmark = pytest.mark.cluster

WEBHOOK = "isolation.bulkhead.dev"
DENIED = f'admission webhook "{WEBHOOK}" denied the request'
#: How long the watch may take to deliver a NetworkPolicy under load.
SETTLE_SECONDS = 60.0


def _policy(name: str, marker: str) -> dict[str, Any]:
    return {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": name},
        "spec": {
            "action": "Deny",
            "rules": {"networkPolicy": True},
            "match": {"namespaceSelector": {"matchLabels": {marker: "yes"}}},
        },
    }


def _deny_ingress(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }


def _pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1.0"}]},
    }


@pytest.fixture
def isolating_webhook(install: installation.Install, tmp_path: pathlib.Path) -> Iterator[str]:
    """The webhook in cluster mode with the isolation policy; yields the namespace marker."""
    marker = f"bulkhead-isolation-{install.suffix}"
    with conftest.cluster_webhook(
        install,
        tmp_path,
        policy=_policy(f"isolate-{install.suffix}", marker),
        webhook_name=WEBHOOK,
        marker=marker,
        rules=[registration.RULES[0], registration.OBJECT_RULES["networkPolicy"]],
    ):
        yield marker


def _dry_run(cp: controlplane.ControlPlane, namespace: str, pod: dict[str, Any]) -> tuple[int, str]:
    result = cp.kubectl(
        "create", "--dry-run=server", "-n", namespace, "-f", "-",
        input_text=json.dumps(pod), check=False,
    )  # fmt: skip
    return result.returncode, result.stderr


def _delete(
    cp: controlplane.ControlPlane, namespace: str, name: str, *dry_run: str
) -> tuple[int, str]:
    result = cp.kubectl("delete", "networkpolicy", name, "-n", namespace, *dry_run, check=False)
    return result.returncode, result.stderr


def _until(attempt: Callable[[], tuple[int, str]], *, refused: bool, what: str) -> str:
    """Repeat ``attempt`` until it is refused (or, with ``refused=False``, admitted); its stderr.

    The webhook learns NetworkPolicies from its watch a moment after they change.
    """
    deadline = time.monotonic() + SETTLE_SECONDS
    last = ""
    while time.monotonic() < deadline:
        code, last = attempt()
        if (code != 0) is refused:
            return last
        time.sleep(0.3)
    raise AssertionError(f"{what}: not {'refused' if refused else 'admitted'} in time:\n{last}")


def _offline_message(tmp_path: pathlib.Path, pod: dict[str, Any], namespace: str) -> str:
    """``bulkhead check``'s networkPolicy finding on ``pod`` in ``namespace``, as a denial line."""
    policy = _policy("isolate", "unused")
    del policy["spec"]["match"]
    (tmp_path / "isolate.yaml").write_text(yaml.safe_dump(policy))
    placed = {**pod, "metadata": {**pod["metadata"], "namespace": namespace}}
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump(placed))
    result = console.run(
        "check", "-f", str(tmp_path / "pod.yaml"),
        "--policy-file", str(tmp_path / "isolate.yaml"), "-o", "json",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    [judged] = json.loads(result.stdout)["results"]
    [violation] = judged["violations"]
    return f"[networkPolicy] metadata.namespace: {violation['message']}"


def test_pods_need_a_default_deny_and_its_last_one_stays(
    install: installation.Install, isolating_webhook: str, tmp_path: pathlib.Path
) -> None:
    cp = install.cp
    with cp.namespace(labels={isolating_webhook: "yes"}) as namespace:
        pod = _pod("web")
        refusal = registration.wait_for_refusal(
            cp, namespace=namespace, expected="[networkPolicy] metadata.namespace", probe=pod
        )
        assert DENIED in refusal
        offline = _offline_message(tmp_path, pod, namespace)
        assert offline in refusal, f"{offline!r} not in {refusal}"

        applied = kubectl.apply(cp, namespace, _deny_ingress("deny-a"))
        assert applied.returncode == 0, kubectl.show(applied)
        _until(lambda: _dry_run(cp, namespace, pod), refused=False, what="a Pod beside deny-a")

        # the Pod's admission shows the webhook knows deny-a: its deletion is judged at once
        code, stderr = _delete(cp, namespace, "deny-a")
        assert code != 0, "the last default-deny NetworkPolicy was deleted"
        assert DENIED in stderr
        assert "[networkPolicy] metadata.name: " in stderr
        last = f'is the last default-deny NetworkPolicy for Ingress in namespace "{namespace}"'
        assert last in stderr

        applied = kubectl.apply(cp, namespace, _deny_ingress("deny-b"))
        assert applied.returncode == 0, kubectl.show(applied)
        _until(lambda: _delete(cp, namespace, "deny-a"), refused=False, what="deny-a beside deny-b")
        # once the watch has seen deny-a go, deny-b is the last one
        _until(
            lambda: _delete(cp, namespace, "deny-b", "--dry-run=server"),
            refused=True,
            what="deny-b alone",
        )
        code, stderr = _delete(cp, namespace, "deny-b")
        assert code != 0, "the last default-deny NetworkPolicy was deleted"
        assert last in stderr
        assert 'NetworkPolicy "deny-b" is the last' in stderr
