"""The policy cache's bookkeeping: what it enforces, reports and publishes as objects come and go.

The real apiserver runs in tests/operator/test_policy_cache.py; the
reflectors that feed the cache are tested in tests/unit/kube/.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from tests.unit.policy import test_signatures
from webhook import policy
from webhook.policy import cache


def _policy(
    name: str, spec: dict[str, Any], *, generation: int = 1, namespace: str | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}",
        "generation": generation,
        "resourceVersion": str(generation),
    }
    kind = "ClusterContainerPolicy"
    if namespace:
        metadata["namespace"] = namespace
        kind = "ContainerPolicy"
    return {"apiVersion": "bulkhead.dev/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}


GOOD = {"profile": {"level": "baseline"}}
BAD = {"rules": {"hostPorts": "yes"}}


class Sink:
    def __init__(self) -> None:
        self.loaded: list[tuple[str, ...]] = []
        self.failures: list[str] = []
        self.namespaces: dict[str, Mapping[str, str]] = {}
        self.isolation = policy.UNKNOWN_ISOLATION

    def policies_loaded(
        self, policies: tuple[policy.CompiledPolicy, ...], *, at: datetime.datetime
    ) -> None:
        self.loaded.append(tuple(p.key for p in policies))

    def policies_failed(self, error: str) -> None:
        self.failures.append(error)

    def replace_namespaces(self, labels: Mapping[str, Mapping[str, str]]) -> None:
        self.namespaces = dict(labels)

    def set_namespace(self, name: str, labels: Mapping[str, str]) -> None:
        self.namespaces[name] = labels

    def forget_namespace(self, name: str) -> None:
        self.namespaces.pop(name, None)

    def isolation_changed(self, isolation: policy.Isolation) -> None:
        self.isolation = isolation


def _cache(sink: Sink) -> cache.PolicyCache:
    return cache.PolicyCache(api=None, sink=sink)  # type: ignore[arg-type]  # never started


def test_not_ready_until_every_kind_is_listed() -> None:
    sink = Sink()
    c = _cache(sink)
    c.listed(cache.CLUSTER_POLICIES, [_policy("a", GOOD)])
    c.listed(cache.NAMESPACED_POLICIES, [])
    assert not c.ready
    assert sink.loaded == []
    c.listed(cache.NAMESPACES, [{"metadata": {"name": "team", "labels": {"env": "prod"}}}])
    assert c.ready
    assert sink.loaded == [("ClusterContainerPolicy/a",)]
    assert sink.namespaces == {"team": {"env": "prod"}}


def test_invalid_left_out_and_reported_deleted_removed() -> None:
    sink = Sink()
    c = _cache(sink)
    for resource in (cache.CLUSTER_POLICIES, cache.NAMESPACED_POLICIES, cache.NAMESPACES):
        c.listed(resource, [])
    c.changed(cache.CLUSTER_POLICIES, "ADDED", _policy("good", GOOD))
    c.changed(cache.NAMESPACED_POLICIES, "ADDED", _policy("bad", BAD, namespace="team"))
    snapshot = c.snapshot()
    assert [p.key for p in snapshot.policies] == ["ClusterContainerPolicy/good"]
    assert list(snapshot.invalid) == ["ContainerPolicy/team/bad"]
    assert "spec.rules.hostPorts" in snapshot.invalid["ContainerPolicy/team/bad"]
    assert "ContainerPolicy/team/bad: spec.rules.hostPorts" in sink.failures[-1]
    # Fixed: enforced; deleted: gone.
    c.changed(
        cache.NAMESPACED_POLICIES, "MODIFIED", _policy("bad", GOOD, generation=2, namespace="team")
    )
    assert [p.key for p in c.snapshot().policies] == [
        "ClusterContainerPolicy/good",
        "ContainerPolicy/team/bad",
    ]
    c.changed(cache.CLUSTER_POLICIES, "DELETED", _policy("good", GOOD))
    assert sink.loaded[-1] == ("ContainerPolicy/team/bad",)


def test_status_only_updates_do_not_recompile_or_republish() -> None:
    sink = Sink()
    c = _cache(sink)
    for resource in (cache.CLUSTER_POLICIES, cache.NAMESPACED_POLICIES, cache.NAMESPACES):
        c.listed(resource, [])
    c.changed(cache.CLUSTER_POLICIES, "ADDED", _policy("a", GOOD))
    published = len(sink.loaded)
    with_status = _policy("a", GOOD) | {"status": {"observedGeneration": 1}}
    c.changed(cache.CLUSTER_POLICIES, "MODIFIED", with_status)
    assert len(sink.loaded) == published


def test_a_relist_drops_what_disappeared() -> None:
    sink = Sink()
    c = _cache(sink)
    c.listed(cache.CLUSTER_POLICIES, [_policy("a", GOOD), _policy("b", GOOD)])
    c.listed(cache.NAMESPACED_POLICIES, [_policy("c", GOOD, namespace="x")])
    c.listed(cache.NAMESPACES, [])
    c.listed(cache.CLUSTER_POLICIES, [_policy("b", GOOD)])
    assert [p.key for p in c.snapshot().policies] == [
        "ClusterContainerPolicy/b",
        "ContainerPolicy/x/c",
    ]


def test_no_enforced_policy_is_a_warning_each_time_it_happens(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bulkhead.cache")
    sink = Sink()
    c = _cache(sink)
    for resource in (cache.CLUSTER_POLICIES, cache.NAMESPACED_POLICIES, cache.NAMESPACES):
        c.listed(resource, [])

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if "no policy is enforced" in r.message]

    assert c.ready
    assert warnings()[-1] == "no policy is enforced (0 invalid): every object is admitted"
    count = len(warnings())
    c.changed(cache.CLUSTER_POLICIES, "ADDED", _policy("good", GOOD))
    assert len(warnings()) == count
    c.changed(cache.CLUSTER_POLICIES, "MODIFIED", _policy("good", BAD, generation=2))
    assert warnings()[-1] == "no policy is enforced (1 invalid): every object is admitted"


def _netpol(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    """A NetworkPolicy as the reflector hands it over (slimmed)."""
    return cache.slim_network_policy(
        {
            "kind": "NetworkPolicy",
            "metadata": {"namespace": namespace, "name": name, "uid": "u", "labels": {"a": "b"}},
            "spec": {"podSelector": {}, **spec},
        }
    )


def test_network_policies_are_unknown_until_listed_and_never_hold_readiness() -> None:
    sink = Sink()
    c = _cache(sink)
    for resource in (cache.CLUSTER_POLICIES, cache.NAMESPACED_POLICIES, cache.NAMESPACES):
        c.listed(resource, [])
    assert c.ready
    assert not c.isolation.known
    assert not sink.isolation.known
    c.listed(
        cache.NETWORK_POLICIES,
        [
            _netpol("shop", "deny", policyTypes=["Ingress", "Egress"]),
            _netpol("shop", "allow", ingress=[{}]),
            _netpol("web", "deny-in"),
        ],
    )
    assert sink.isolation.known
    assert sink.isolation.names("shop", "Egress") == ("deny",)
    assert sink.isolation.names("web", "Ingress") == ("deny-in",)
    assert sink.isolation.denying["shop"] == {"deny": frozenset({"Ingress", "Egress"})}


def test_network_policy_events_and_terminating_namespaces_are_published() -> None:
    sink = Sink()
    c = _cache(sink)
    c.listed(cache.NAMESPACES, [{"metadata": {"name": "shop"}}])
    c.listed(cache.NETWORK_POLICIES, [_netpol("shop", "deny")])
    c.changed(cache.NETWORK_POLICIES, "MODIFIED", _netpol("shop", "deny", ingress=[{}]))
    assert sink.isolation.names("shop", "Ingress") == ()
    assert "shop" not in sink.isolation.denying
    c.changed(cache.NETWORK_POLICIES, "ADDED", _netpol("shop", "deny-2"))
    assert sink.isolation.names("shop", "Ingress") == ("deny-2",)
    c.changed(cache.NETWORK_POLICIES, "DELETED", _netpol("shop", "deny-2"))
    assert sink.isolation.denying == {}
    going = {"metadata": {"name": "shop", "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    c.changed(cache.NAMESPACES, "MODIFIED", going)
    assert sink.isolation.terminating == {"shop"}
    c.changed(cache.NAMESPACES, "DELETED", going)
    assert sink.isolation.terminating == frozenset()


def test_status_change_of_resolved_keys_recompiles_and_republishes() -> None:
    sink = Sink()
    c = _cache(sink)
    for resource in (cache.CLUSTER_POLICIES, cache.NAMESPACED_POLICIES, cache.NAMESPACES):
        c.listed(resource, [])
    reference = {"namespace": "sigstore", "name": "release", "key": "cosign.pub"}
    spec = {"rules": {"imageSignatures": {"keySecrets": [reference]}}}
    c.changed(cache.CLUSTER_POLICIES, "ADDED", _policy("a", spec))
    (compiled,) = c.snapshot().policies
    assert compiled.image_signatures is not None
    assert compiled.image_signatures.unresolved
    published = len(sink.loaded)
    resolved = _policy("a", spec) | {
        "status": {"trustedKeys": [{**reference, "keyId": "x", "pem": test_signatures.PEM}]}
    }
    c.changed(cache.CLUSTER_POLICIES, "MODIFIED", resolved)
    assert len(sink.loaded) == published + 1
    (compiled,) = c.snapshot().policies
    assert compiled.image_signatures is not None
    assert compiled.image_signatures.unresolved == ()
    assert [k.id for k in compiled.image_signatures.keys] == [test_signatures.KEY_ID]
