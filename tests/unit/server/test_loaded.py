"""The state holder: whole-value swaps, readiness and its detail, namespace labels."""

from __future__ import annotations

import datetime

from webhook import policy
from webhook.admission import namespaces
from webhook.server import loaded, settings

NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
POLICY = policy.compile(
    {
        "apiVersion": "bulkhead.dev/v1alpha1",
        "kind": "ClusterContainerPolicy",
        "metadata": {"name": "p"},
        "spec": {"rules": {"privileged": False}},
    },
    latest_minor=settings.DEFAULT_LATEST_MINOR,
)


def test_a_new_state_is_not_ready_and_says_why() -> None:
    readiness = loaded.State().readiness(now=NOW)
    assert readiness.ready is False
    assert readiness.detail["reasons"] == [
        "TLS: certificate not loaded yet",
        "policies: policies not loaded yet",
    ]


def test_ready_once_both_are_loaded_and_a_later_failure_keeps_the_last_good_set() -> None:
    held = loaded.State()
    held.tls_loaded(not_after=NOW + datetime.timedelta(hours=1), subject="CN=x", at=NOW)
    held.policies_loaded((POLICY,), at=NOW)
    readiness = held.readiness(now=NOW)
    assert readiness.ready is True
    assert readiness.detail["tls"]["expiresInSeconds"] == 3600
    before = held.policies
    held.policies_failed("x.yaml: broken")
    after = held.policies
    assert after.policies == before.policies
    assert after.error == "x.yaml: broken"
    assert held.readiness(now=NOW).ready is True
    assert held.readiness(now=NOW).detail["policies"]["error"] == "x.yaml: broken"
    held.policies_loaded((), at=NOW)
    assert held.policies.error is None


def test_only_the_name_label_is_known_until_a_watcher_feeds_the_rest() -> None:
    held = loaded.State()
    assert held.namespace("team") == namespaces.assumed("team")
    assert held.namespace("team").labels == {"kubernetes.io/metadata.name": "team"}
    assert held.namespace(None).complete is True
    held.replace_namespaces({"team": {"env": "prod"}, "other": {}})
    assert held.namespace("team") == namespaces.known("team", {"env": "prod"})
    held.set_namespace("new", {"env": "dev"})
    held.forget_namespace("team")
    assert held.namespace("team").complete is False
    assert held.namespace("new").labels == {"env": "dev", "kubernetes.io/metadata.name": "new"}
    assert held.namespace("other").complete is True


def test_an_unknown_namespace_is_looked_up_only_when_a_policy_selects_namespaces() -> None:
    held = loaded.State()
    asked: list[str] = []

    def look_up(name: str) -> dict[str, str] | None:
        asked.append(name)
        return {"env": "prod"} if name == "fresh" else None

    held.look_up_namespaces_with(look_up)
    held.policies_loaded((POLICY,), at=NOW)
    assert held.namespace("fresh").complete is False
    assert asked == []
    selecting = policy.compile(
        {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "prod"},
            "spec": {
                "rules": {"privileged": False},
                "match": {"namespaceSelector": {"matchLabels": {"env": "prod"}}},
            },
        },
        latest_minor=settings.DEFAULT_LATEST_MINOR,
    )
    held.policies_loaded((selecting,), at=NOW)
    assert held.namespace("fresh") == namespaces.known("fresh", {"env": "prod"})
    assert held.namespace("gone") == namespaces.assumed("gone")
    assert asked == ["fresh", "gone"]


def test_a_snapshot_read_before_a_swap_stays_consistent() -> None:
    held = loaded.State()
    held.policies_loaded((POLICY,), at=NOW)
    snapshot = held.policies
    held.policies_loaded((), at=NOW)
    assert snapshot.policies == (POLICY,)
    assert held.policies.policies == ()
