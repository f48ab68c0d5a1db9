"""Keeping up with one kind of object: list, then watch, on a thread of its own. Network I/O.

A ``Reflector`` runs one daemon thread that lists a ``Resource`` (paged),
then watches it from the list's ``resourceVersion`` with bookmarks, and
reports to its ``Handler``: ``listed`` with every item after each (re)list,
``changed`` for each added, modified or deleted item, ``failed`` for any
trouble. A watch that ends is resumed from the last version seen; ``410
Gone`` (an expired version) re-lists at once; any other error re-lists
after an exponential ``Backoff``. ``stop`` ends an open watch at once.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol

import urllib3

from webhook.kube import transport

_LOG: Final = logging.getLogger("bulkhead.kube")

#: Objects per page when listing.
PAGE_SIZE: Final = 500
HTTP_GONE: Final = 410


@dataclasses.dataclass(frozen=True, slots=True)
class Resource:
    """A kind to list and watch, cluster-wide (only what ``query`` selects: a field selector)."""

    kind: str
    path: str
    query: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Backoff:
    """Delays before re-listing after a failure: ``first``, doubling up to ``limit``."""

    first: float = 0.5
    limit: float = 30.0

    def delay(self, failures: int) -> float:
        return float(min(self.limit, self.first * 2 ** max(0, failures - 1)))


class GoneError(Exception):
    """The watched resourceVersion has expired (410): list again."""


class Handler(Protocol):
    def listed(self, resource: Resource, items: Sequence[transport.JsonObject]) -> None: ...
    def changed(self, resource: Resource, event: str, item: transport.JsonObject) -> None: ...
    def failed(self, resource: Resource, error: str) -> None: ...


def resource_version(item: Mapping[str, Any]) -> str:
    metadata = item.get("metadata")
    if isinstance(metadata, Mapping):
        return str(metadata.get("resourceVersion") or "")
    return ""


class Reflector:
    """List, then watch one resource on a daemon thread, reporting to ``handler``."""

    def __init__(
        self,
        *,
        api: transport.Api,
        resource: Resource,
        handler: Handler,
        backoff: Backoff,
        watch_seconds: int = transport.WATCH_SECONDS,
        slim: Callable[[transport.JsonObject], transport.JsonObject] | None = None,
    ) -> None:
        self._api = api
        self._resource = resource
        #: Applied to every item as it arrives, so a big list never holds whole objects.
        self._slim = slim
        self._handler = handler
        self._backoff = backoff
        self._watch_seconds = watch_seconds
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._response: urllib3.BaseHTTPResponse | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"bulkhead-watch-{resource.kind}", daemon=True
        )
        #: How many times the resource has been listed (tests read it).
        self.lists = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, *, timeout: float = 5.0) -> None:
        self._stopped.set()
        with self._lock:
            response = self._response
        if response is not None:
            response.shutdown()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)

    def _opened(self, response: urllib3.BaseHTTPResponse) -> None:
        with self._lock:
            self._response = response
        if self._stopped.is_set():
            response.shutdown()

    def _list(self) -> str:
        items: list[transport.JsonObject] = []
        token = ""
        while True:
            query = [*self._resource.query, ("limit", str(PAGE_SIZE))]
            if token:
                query.append(("continue", token))
            page = self._api.request("GET", self._resource.path, query=query)
            found = page.get("items")
            if isinstance(found, list):
                slim = self._slim
                items.extend(
                    (slim(item) if slim else item) for item in found if isinstance(item, dict)
                )
            metadata = page.get("metadata") if isinstance(page.get("metadata"), dict) else {}
            token = str((metadata or {}).get("continue") or "")
            if not token:
                self.lists += 1
                self._handler.listed(self._resource, items)
                return str((metadata or {}).get("resourceVersion") or "")

    def _watch(self, version: str) -> None:
        while not self._stopped.is_set():
            for event in self._api.watch(
                self._resource.path,
                query=self._resource.query,
                resource_version=version,
                seconds=self._watch_seconds,
                opened=self._opened,
            ):
                kind = str(event.get("type"))
                item: transport.JsonObject = event["object"]
                if kind == "ERROR":
                    code = item.get("code")
                    if code == HTTP_GONE:
                        raise GoneError(str(item.get("message", "")))
                    reason, message = str(item.get("reason")), str(item.get("message"))
                    raise transport.ApiError(int(code or 0), reason, message)
                version = resource_version(item) or version
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    self._handler.changed(
                        self._resource, kind, self._slim(item) if self._slim else item
                    )

    def _run(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            try:
                version = self._list()
                failures = 0
                self._watch(version)
            except GoneError as err:
                _LOG.info("watch expired; listing again", extra={"kind": self._resource.kind})
                self._handler.failed(self._resource, f"watch expired (410 Gone): {err}")
            except transport.ApiError as err:
                if self._stopped.is_set():
                    return
                failures += 1
                delay = self._backoff.delay(failures)
                _LOG.warning(
                    "list/watch of %s failed (%s); retrying in %.1fs",
                    self._resource.kind,
                    err,
                    delay,
                )
                self._handler.failed(self._resource, str(err))
                self._stopped.wait(delay)
            except Exception as err:  # a bug must not leave the cache silently stale
                failures += 1
                _LOG.exception("list/watch of %s broke; listing again", self._resource.kind)
                self._handler.failed(self._resource, f"{type(err).__name__}: {err}")
                self._stopped.wait(self._backoff.delay(failures))


class Reflected:
    """Kinds kept up with by one ``Reflector`` each, started, stopped and awaited together.

    A subclass fills ``reflectors`` and sets ``ready_event`` once every kind
    has been listed.
    """

    reflectors: tuple[Reflector, ...]
    ready_event: threading.Event

    def start(self) -> None:
        for reflector in self.reflectors:
            reflector.start()

    def stop(self) -> None:
        for reflector in self.reflectors:
            reflector.stop()

    def wait_ready(self, timeout: float) -> bool:
        """Whether the first list of every kind arrived within ``timeout`` seconds."""
        return self.ready_event.wait(timeout)

    @property
    def ready(self) -> bool:
        return self.ready_event.is_set()
