"""The policy cache's bookkeeping and its reflectors' list/watch/relist, with a scripted API.

The real apiserver runs in tests/operator/test_policy_cache.py; here a fake
transport scripts lists, watch events, 410 Gone and failures.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

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


class ScriptedApi:
    """Lists and watch streams played from a script; records what was asked."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.calls: list[str] = []
        self.done = threading.Event()

    def _next(self) -> Any:
        if not self.script:
            self.done.set()
            raise cache.ApiError(0, "EndOfScript")
        return self.script.pop(0)

    def request(self, method: str, path: str, **_: Any) -> dict[str, Any]:
        self.calls.append(f"list {dict(_.get('query', []))}")
        step = self._next()
        if isinstance(step, Exception):
            raise step
        return step  # type: ignore[no-any-return]

    def watch(self, path: str, *, resource_version: str, **_: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(f"watch {resource_version}")
        step = self._next()
        if isinstance(step, Exception):
            raise step
        yield from step


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def listed(self, resource: cache.Resource, items: Any) -> None:
        self.events.append(("listed", ",".join(i["metadata"]["name"] for i in items)))

    def changed(self, resource: cache.Resource, event: str, item: Any) -> None:
        self.events.append((event, item["metadata"]["name"]))

    def failed(self, resource: cache.Resource, error: str) -> None:
        self.events.append(("failed", error.split(":", maxsplit=1)[0]))


def _item(name: str, version: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": version}}


def test_reflector_pages_watches_resumes_and_relists_on_gone() -> None:
    api = ScriptedApi(
        [
            {"items": [_item("a", "1")], "metadata": {"continue": "tok", "resourceVersion": "5"}},
            {"items": [_item("b", "2")], "metadata": {"resourceVersion": "5"}},
            [
                {"type": "ADDED", "object": _item("c", "6")},
                {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}},
            ],
            [{"type": "DELETED", "object": _item("a", "10")}],
            [{"type": "ERROR", "object": {"code": 410, "message": "too old"}}],
            {"items": [_item("b", "2")], "metadata": {"resourceVersion": "20"}},
        ]
    )
    recorder = Recorder()
    reflector = cache.Reflector(
        api=api,  # type: ignore[arg-type]
        resource=cache.CLUSTER_POLICIES,
        handler=recorder,
        backoff=cache.Backoff(first=0.01, limit=0.01),
    )
    reflector.start()
    assert api.done.wait(5)
    reflector.stop()
    assert recorder.events[:5] == [
        ("listed", "a,b"),
        ("ADDED", "c"),
        ("DELETED", "a"),
        ("failed", "watch expired (410 Gone)"),
        ("listed", "b"),
    ]
    assert api.calls[:6] == [
        "list {'limit': '500'}",
        "list {'limit': '500', 'continue': 'tok'}",
        "watch 5",
        "watch 9",  # resumed from the bookmark
        "watch 10",
        "list {'limit': '500'}",
    ]
    assert reflector.lists == 2


def test_reflector_backs_off_and_retries_after_errors() -> None:
    api = ScriptedApi(
        [
            cache.ApiError(403, "Forbidden", "no"),
            cache.ApiError(0, "ConnectionRefused"),
            {"items": [], "metadata": {"resourceVersion": "1"}},
        ]
    )
    recorder = Recorder()
    reflector = cache.Reflector(
        api=api,  # type: ignore[arg-type]
        resource=cache.NAMESPACES,
        handler=recorder,
        backoff=cache.Backoff(first=0.01, limit=0.02),
    )
    reflector.start()
    assert api.done.wait(5)
    reflector.stop()
    assert recorder.events[:3] == [
        ("failed", "403 Forbidden"),
        ("failed", "0 ConnectionRefused"),
        ("listed", ""),
    ]


def test_backoff_doubles_to_its_limit() -> None:
    backoff = cache.Backoff(first=0.5, limit=4)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]


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
