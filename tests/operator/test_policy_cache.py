"""The webhook's policy cache against the real apiserver, as the webhook's ServiceAccount.

Policies applied with kubectl are compiled into the cache within 2 seconds,
deleted ones leave it, invalid ones (valid for the schema, refused by the
compiler) are left out and reported, namespace labels follow. The cache
runs with a TokenRequest token of the ``bulkhead-webhook`` ServiceAccount
bound by ``manifests/rbac/webhook.yaml`` only, so a missing verb fails here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from devcluster import installation
from webhook import kube
from webhook.policy import cache

pytestmark = pytest.mark.cluster

ENFORCED_WITHIN = 2.0


@pytest.fixture
def policy_cache(install: installation.Install) -> Iterator[cache.PolicyCache]:
    api = kube.Api(kube.client_configuration(kubeconfig=str(install.webhook_kubeconfig)))
    held = cache.PolicyCache(api=api, backoff=kube.Backoff(first=0.1, limit=1.0))
    held.start()
    try:
        assert held.wait_ready(10), "the cache never loaded its first lists"
        yield held
    finally:
        held.stop()
        api.close()


def _keys(held: cache.PolicyCache) -> set[str]:
    return {p.key for p in held.snapshot().policies}


def _apply(install: installation.Install, document: dict[str, object]) -> float:
    install.cp.kubectl("apply", "-f", "-", input_text=json.dumps(document))
    return time.monotonic()


def test_applied_policy_is_compiled_within_two_seconds_and_deleted_leaves(
    install: installation.Install, policy_cache: cache.PolicyCache
) -> None:
    name = f"cache-{install.suffix}"
    started = _apply(
        install,
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": name},
            "spec": {"action": "Warn", "rules": {"privileged": False}},
        },
    )
    key = f"ClusterContainerPolicy/{name}"
    installation.wait_for(lambda: key in _keys(policy_cache), timeout=ENFORCED_WITHIN, what=key)
    seen_after = time.monotonic() - started
    compiled = next(p for p in policy_cache.snapshot().policies if p.key == key)
    assert compiled.action == "Warn"
    assert compiled.rule_ids == ("privileged",)
    assert seen_after < ENFORCED_WITHIN

    install.cp.kubectl("delete", "ccp", name, "--wait=false")
    installation.wait_for(
        lambda: key not in _keys(policy_cache), timeout=ENFORCED_WITHIN, what="gone"
    )


def test_namespaced_policy_and_an_edit(
    install: installation.Install, policy_cache: cache.PolicyCache
) -> None:
    document: dict[str, object] = {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ContainerPolicy",
        "metadata": {"name": "local", "namespace": install.namespace},
        "spec": {"profile": {"level": "baseline"}},
    }
    _apply(install, document)
    key = f"ContainerPolicy/{install.namespace}/local"
    installation.wait_for(lambda: key in _keys(policy_cache), timeout=ENFORCED_WITHIN, what=key)

    document["spec"] = {"profile": {"level": "restricted", "version": "v1.30"}}
    _apply(install, document)

    def restricted() -> bool:
        found = [p for p in policy_cache.snapshot().policies if p.key == key]
        return (
            bool(found) and found[0].profile is not None and found[0].profile.level == "restricted"
        )

    installation.wait_for(restricted, timeout=ENFORCED_WITHIN, what="the edit")


def test_invalid_policy_is_left_out_and_reported(
    install: installation.Install, policy_cache: cache.PolicyCache
) -> None:
    name = f"broken-{install.suffix}"
    _apply(
        install,
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": name},
            # The schema cannot check hostPath (boolean or object); the compiler can.
            "spec": {"rules": {"hostPath": {"allowedPrefixes": ["relative/path"]}}},
        },
    )
    key = f"ClusterContainerPolicy/{name}"
    try:
        installation.wait_for(
            lambda: key in policy_cache.snapshot().invalid, timeout=ENFORCED_WITHIN, what=key
        )
        assert key not in _keys(policy_cache)
        assert "spec.rules.hostPath.allowedPrefixes[0]" in policy_cache.snapshot().invalid[key]
    finally:
        install.cp.kubectl("delete", "ccp", name, "--wait=false")


def test_namespace_labels_follow(
    install: installation.Install, policy_cache: cache.PolicyCache
) -> None:
    install.cp.kubectl("label", "namespace", install.namespace, "tier=gold", "--overwrite")

    def labelled() -> bool:
        labels = policy_cache.snapshot().namespaces.get(install.namespace, {})
        return labels.get("tier") == "gold"

    installation.wait_for(labelled, timeout=ENFORCED_WITHIN, what="the namespace label")


def test_the_webhook_account_can_read_and_write_only_events(
    install: installation.Install,
) -> None:
    def can(*args: str) -> str:
        result = install.cp.kubectl(
            "auth", "can-i", *args, kubeconfig=install.webhook_kubeconfig, check=False
        )
        return result.stdout.strip()

    assert can("watch", "clustercontainerpolicies.bulkhead.dev") == "yes"
    assert can("list", "containerpolicies.bulkhead.dev", "--all-namespaces") == "yes"
    assert can("list", "namespaces") == "yes"
    assert can("get", "clustercontainerpolicies.bulkhead.dev") == "no"
    assert can("create", "clustercontainerpolicies.bulkhead.dev") == "no"
    assert can("patch", "containerpolicies.bulkhead.dev/status", "-n", install.namespace) == "no"
    assert can("get", "secrets", "-n", install.namespace) == "no"
    # its only writes: PolicyViolation Events, posted and counted
    assert can("create", "events", "-n", install.namespace) == "yes"
    assert can("patch", "events", "-n", "default") == "yes"
    assert can("delete", "events", "-n", install.namespace) == "no"
    assert can("update", "pods", "-n", install.namespace) == "no"


def test_a_namespace_the_watch_has_not_delivered_is_looked_up(
    install: installation.Install,
) -> None:
    """Before any list (as in the moment after a namespace is created), ``get`` answers."""
    api = kube.Api(kube.client_configuration(kubeconfig=str(install.webhook_kubeconfig)))
    held = cache.PolicyCache(api=api)  # never started: no list, no watch
    try:
        name = f"fresh-{install.suffix}"
        install.cp.kubectl("create", "namespace", name)
        install.cp.kubectl("label", "namespace", name, "env=prod")
        try:
            labels = held.look_up_namespace(name)
            assert labels is not None
            assert labels["env"] == "prod"
            assert labels["kubernetes.io/metadata.name"] == name
        finally:
            install.cp.kubectl("delete", "namespace", name, "--wait=false")
        assert held.look_up_namespace(f"missing-{install.suffix}") is None
        assert held.look_up_namespace("../../apis") is None
    finally:
        api.close()
