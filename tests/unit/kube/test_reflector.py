"""A reflector's list/watch/relist and backoff, with a scripted API.

The real apiserver runs in tests/operator/test_policy_cache.py (the policy
cache's reflectors); here a fake transport scripts lists, watch events,
410 Gone and failures.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from webhook import kube

THINGS = kube.Resource("Thing", "/apis/example.dev/v1/things")


class ScriptedApi:
    """Lists and watch streams played from a script; records what was asked."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.calls: list[str] = []
        self.done = threading.Event()

    def _next(self) -> Any:
        if not self.script:
            self.done.set()
            raise kube.ApiError(0, "EndOfScript")
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

    def listed(self, resource: kube.Resource, items: Any) -> None:
        self.events.append(("listed", ",".join(i["metadata"]["name"] for i in items)))

    def changed(self, resource: kube.Resource, event: str, item: Any) -> None:
        self.events.append((event, item["metadata"]["name"]))

    def failed(self, resource: kube.Resource, error: str) -> None:
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
    reflector = kube.Reflector(
        api=api,  # type: ignore[arg-type]
        resource=THINGS,
        handler=recorder,
        backoff=kube.Backoff(first=0.01, limit=0.01),
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
            kube.ApiError(403, "Forbidden", "no"),
            kube.ApiError(0, "ConnectionRefused"),
            {"items": [], "metadata": {"resourceVersion": "1"}},
        ]
    )
    recorder = Recorder()
    reflector = kube.Reflector(
        api=api,  # type: ignore[arg-type]
        resource=THINGS,
        handler=recorder,
        backoff=kube.Backoff(first=0.01, limit=0.02),
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
    backoff = kube.Backoff(first=0.5, limit=4)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]
