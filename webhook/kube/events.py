"""Kubernetes Events Bulkhead posts: named, deduplicated, counted. Network I/O (``transport.Api``).

A ``Note`` is one thing to tell about one object. Its Event has a fixed name
per object and ``key`` (what happened: policy, check, path), so the same
thing happening again is counted on the same Event (``count`` and
``lastTimestamp``: ``kubectl describe`` shows "x3 over 2h") instead of
becoming a new one. ``Poster.due`` says whether an Event was not written
within the last ``window`` seconds, for a caller that re-finds the same
thing over and over (the audit) and writes it only that often.

Where an Event lives: in its object's namespace; for a cluster-scoped
object (a ``ClusterContainerPolicy``) in ``default``, with an
``involvedObject`` that has no namespace, as client-go records them. That
is where ``kubectl describe`` finds them: it lists Events in every
namespace whose ``involvedObject`` has the object's name, namespace (empty),
kind and uid; an Event naming the operator's namespace there is never shown.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import time
from collections.abc import Callable
from typing import Any, Final

from webhook.kube import transport

#: The namespace of the Events of cluster-scoped objects.
CLUSTER_EVENTS_NAMESPACE: Final = "default"
WINDOW_SECONDS: Final = 600.0
#: Events remembered for counting; the oldest are forgotten beyond this.
_REMEMBERED: Final = 10_000
_MESSAGE_CHARS: Final = 1024
_COUNT_ATTEMPTS: Final = 3


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Involved:
    """The object an Event is about (``namespace`` ``None`` when cluster-scoped)."""

    api_version: str
    kind: str
    name: str
    namespace: str | None
    uid: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """One Event to post: about ``involved``, identified by ``key`` among its Events."""

    involved: Involved
    key: str
    reason: str
    message: str
    type: str = "Warning"
    action: str = ""

    @property
    def namespace(self) -> str:
        """The namespace the Event lives in."""
        return self.involved.namespace or CLUSTER_EVENTS_NAMESPACE

    @property
    def name(self) -> str:
        """The Event's fixed name for its object and key."""
        ref = self.involved
        digest = hashlib.sha256(
            "\0".join((ref.kind, ref.namespace or "", ref.name, self.key)).encode()
        ).hexdigest()[:16]
        return f"{ref.name[:200]}.bulkhead.{digest}"


def _timestamp(now: datetime.datetime) -> str:
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Poster:
    """Posts ``Note``s as Events and counts repeats (see the module docstring). Not thread-safe."""

    def __init__(
        self,
        api: transport.Api,
        *,
        component: str,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._component = component
        self._window = window
        self._clock = clock
        self._monotonic = monotonic
        #: Event (namespace, name) -> (count posted, monotonic time of the last post).
        self._posted: dict[tuple[str, str], tuple[int, float]] = {}

    def due(self, note: Note) -> bool:
        """Whether ``post`` would write ``note`` now (not written within the window)."""
        _, last = self._posted.get((note.namespace, note.name), (0, -self._window))
        return self._monotonic() - last >= self._window

    def post(self, note: Note) -> None:
        """Write ``note``: a new Event, or one more on its count. ``ApiError`` on refusal."""
        where = (note.namespace, note.name)
        count = self._write(note, known=where in self._posted)
        if where not in self._posted and len(self._posted) >= _REMEMBERED:
            self._posted.pop(next(iter(self._posted)))
        self._posted[where] = (count, self._monotonic())

    def _write(self, note: Note, *, known: bool) -> int:
        """Post or count ``note``'s Event; its count now."""
        now = _timestamp(self._clock())
        path = f"/api/v1/namespaces/{note.namespace}/events"
        if known:
            try:
                return self._count(f"{path}/{note.name}", now=now)
            except transport.ApiError as err:
                if err.status != 404:  # expired (Events live an hour): post it afresh
                    raise
        try:
            self._api.request("POST", path, body=self._body(note, now=now))
        except transport.ApiError as err:
            if err.status != 409:
                raise
            # posted by another process (or before a restart): count on it
            return self._count(f"{path}/{note.name}", now=now)
        return 1

    def _count(self, path: str, *, now: str) -> int:
        """One more on the Event at ``path``, read and written with its resourceVersion.

        Several processes (the webhook's workers) count on the same Events,
        so the count is read, not remembered; a write that lost a race is
        retried on the newer count.
        """
        attempt = 1
        while True:
            current = self._api.request("GET", path)
            previous = current.get("count")
            count = (previous if isinstance(previous, int) and previous > 0 else 1) + 1
            version = current.get("metadata", {}).get("resourceVersion")
            try:
                self._api.request(
                    "PATCH",
                    path,
                    body={
                        "metadata": {"resourceVersion": version},
                        "count": count,
                        "lastTimestamp": now,
                    },
                    content_type="application/merge-patch+json",
                )
            except transport.ApiError as err:
                if err.status != 409 or attempt >= _COUNT_ATTEMPTS:
                    raise
                attempt += 1
                continue
            return count

    def _body(self, note: Note, *, now: str) -> dict[str, Any]:
        ref = note.involved
        involved: dict[str, str] = {"apiVersion": ref.api_version, "kind": ref.kind}
        involved["name"] = ref.name
        if ref.namespace:
            involved["namespace"] = ref.namespace
        if ref.uid:
            involved["uid"] = ref.uid
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": note.name, "namespace": note.namespace},
            "involvedObject": involved,
            "reason": note.reason,
            "message": note.message[:_MESSAGE_CHARS],
            "type": note.type,
            "source": {"component": self._component},
            "reportingComponent": self._component,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        if note.action:
            body["action"] = note.action
        return body
