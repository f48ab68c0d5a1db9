"""The cluster's policies and namespace labels, listed, watched and compiled. Network I/O.

The one module of ``webhook.policy`` that does I/O and the only one allowed
to import ``kubernetes`` (the import contract in ``.importlinter`` says so).
It keeps a webhook process's view of the cluster:

* ``ClusterContainerPolicy`` and ``ContainerPolicy`` objects (all
  namespaces), each compiled with the same ``policy.compile`` the operator
  and the CLI use. A valid object is enforced exactly as compiled; an
  invalid one is left out, logged once per generation and listed in
  ``Snapshot.invalid`` (the operator writes the same problems into its
  status); a deleted one stops applying.
* ``Namespace`` labels, for ``spec.match.namespaceSelector``.

Each of the three is a ``Reflector``: one daemon thread that lists (paged),
then watches from the list's ``resourceVersion`` with bookmarks. A watch that
ends is resumed from the last version seen; ``410 Gone`` (an expired version)
re-lists at once; any other error re-lists after an exponential backoff.
Meanwhile the last good compiled set stays in force.

``PolicyCache`` feeds a ``Sink`` (the webhook server's state object fits it
as is): ``policies_loaded`` once the first list of all three kinds has
arrived (before that the sink is not ready) and after every change;
``policies_failed`` to report invalid policies and watch trouble;
``replace_namespaces`` / ``set_namespace`` / ``forget_namespace`` for the
labels.

``Api`` is a small typed JSON transport over ``kubernetes.client.ApiClient``
(its configuration and credentials: kubeconfig or in-cluster service
account), shared with the operator.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import threading
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final, Protocol

import kubernetes.client
import kubernetes.config
import urllib3

from webhook import policy, profiles
from webhook.policy import model

_LOG: Final = logging.getLogger("bulkhead.cache")

#: How long one watch request stays open before the server ends it (and we resume).
WATCH_SECONDS: Final = 240
#: How long to wait for a connection or for a non-watch answer.
REQUEST_SECONDS: Final = 30.0
#: Objects per page when listing.
PAGE_SIZE: Final = 500
HTTP_GONE: Final = 410

JsonObject = dict[str, Any]


# -- configuration and transport ---------------------------------------------------------


class _KubeConfigLoader(Protocol):
    def __call__(
        self,
        *,
        config_file: str | None,
        context: str | None,
        client_configuration: kubernetes.client.Configuration,
        persist_config: bool,
    ) -> None: ...


class _InClusterLoader(Protocol):
    def __call__(self, *, client_configuration: kubernetes.client.Configuration) -> None: ...


# The client's loaders are untyped; these are the signatures this module relies on.
_load_kube_config: _KubeConfigLoader = kubernetes.config.load_kube_config
_load_incluster_config: _InClusterLoader = kubernetes.config.load_incluster_config


class ConfigError(RuntimeError):
    """No usable credentials for the cluster."""


def client_configuration(
    *, kubeconfig: str | None = None, context: str | None = None
) -> kubernetes.client.Configuration:
    """Credentials for the API server.

    An explicit ``kubeconfig`` wins; otherwise the in-cluster service account
    when running in a pod (``KUBERNETES_SERVICE_HOST`` set), else the
    default kubeconfig (``$KUBECONFIG`` or ``~/.kube/config``).
    """
    configuration = kubernetes.client.Configuration()
    try:
        if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            _load_incluster_config(client_configuration=configuration)
        else:
            _load_kube_config(
                config_file=kubeconfig,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
    except (kubernetes.config.ConfigException, OSError) as err:
        raise ConfigError(f"cannot load cluster credentials: {err}") from err
    return configuration


class ApiError(RuntimeError):
    """The API server refused a request (or could not be reached: ``status`` 0)."""

    def __init__(self, status: int, reason: str, message: str = "") -> None:
        super().__init__(f"{status} {reason}: {message}" if message else f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.message = message


def _error_from(status: int, reason: str, data: bytes) -> ApiError:
    message = ""
    reason_word = reason
    try:
        body = json.loads(data)
    except ValueError:
        message = data[:500].decode("utf-8", errors="replace")
    else:
        if isinstance(body, dict):
            message = str(body.get("message", ""))
            reason_word = str(body.get("reason") or reason)
    return ApiError(status, reason_word, message)


class Api:
    """JSON requests and watch streams against the API server, with one connection pool."""

    def __init__(self, configuration: kubernetes.client.Configuration) -> None:
        self._client = kubernetes.client.ApiClient(configuration)

    @property
    def host(self) -> str:
        return str(self._client.configuration.host)

    def close(self) -> None:
        close: Callable[[], None] = self._client.close  # untyped in the client
        close()

    def _open(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: object = None,
        content_type: str = "application/json",
        timeout: float | tuple[float, float] = REQUEST_SECONDS,
    ) -> urllib3.BaseHTTPResponse:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        method, url, headers, payload, _ = self._client.param_serialize(
            method,
            path,
            query_params=list(query),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = self._client.call_api(
                method, url, header_params=headers, body=payload, _request_timeout=timeout
            )
        except kubernetes.client.ApiException as err:
            raise ApiError(int(err.status or 0), str(err.reason or "request failed")) from err
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise ApiError(0, type(err).__name__, str(err)) from err
        raw = response.response
        if not isinstance(raw, urllib3.BaseHTTPResponse):
            raise ApiError(0, "UnexpectedResponse", type(raw).__name__)
        if not 200 <= raw.status <= 299:
            data = raw.read()
            raw.release_conn()
            raise _error_from(raw.status, str(raw.reason or ""), data)
        return raw

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: object = None,
        content_type: str = "application/json",
    ) -> JsonObject:
        """One request; the decoded JSON object answered. ``ApiError`` for any refusal."""
        raw = self._open(method, path, query=query, body=body, content_type=content_type)
        try:
            data = raw.read()
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise ApiError(0, type(err).__name__, str(err)) from err
        finally:
            raw.release_conn()
        try:
            decoded = json.loads(data)
        except ValueError as err:
            raise ApiError(0, "InvalidJSON", str(err)) from err
        if not isinstance(decoded, dict):
            raise ApiError(0, "InvalidJSON", "the answer is not a JSON object")
        return decoded

    def watch(
        self,
        path: str,
        *,
        resource_version: str,
        seconds: int = WATCH_SECONDS,
        opened: Callable[[urllib3.BaseHTTPResponse], None] | None = None,
    ) -> Iterator[JsonObject]:
        """The watch events (``{"type", "object"}``) from ``resource_version`` on, for ``seconds``.

        ``opened`` receives the live response, so another thread can
        ``shutdown()`` it to end the watch early.
        """
        query = [
            ("watch", "true"),
            ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(seconds)),
        ]
        raw = self._open("GET", path, query=query, timeout=(REQUEST_SECONDS, seconds + 30.0))
        if opened is not None:
            opened(raw)
        try:
            pending = b""
            for chunk in raw.stream(64 * 1024, decode_content=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield _event(line)
            if pending.strip():
                yield _event(pending)
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise ApiError(0, type(err).__name__, str(err)) from err
        finally:
            raw.release_conn()


def _event(line: bytes) -> JsonObject:
    try:
        decoded = json.loads(line)
    except ValueError as err:
        raise ApiError(0, "InvalidJSON", f"watch event: {err}") from err
    if not isinstance(decoded, dict) or not isinstance(decoded.get("object"), dict):
        raise ApiError(0, "InvalidJSON", "watch event without an object")
    return decoded


# -- reflectors ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Resource:
    """A kind to list and watch, cluster-wide."""

    kind: str
    path: str


CLUSTER_POLICIES: Final = Resource(
    model.CLUSTER_KIND, f"/apis/{model.GROUP}/{model.VERSION}/clustercontainerpolicies"
)
NAMESPACED_POLICIES: Final = Resource(
    model.NAMESPACED_KIND, f"/apis/{model.GROUP}/{model.VERSION}/containerpolicies"
)
NAMESPACES: Final = Resource("Namespace", "/api/v1/namespaces")


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
    def listed(self, resource: Resource, items: Sequence[JsonObject]) -> None: ...
    def changed(self, resource: Resource, event: str, item: JsonObject) -> None: ...
    def failed(self, resource: Resource, error: str) -> None: ...


def _resource_version(item: Mapping[str, Any]) -> str:
    metadata = item.get("metadata")
    if isinstance(metadata, Mapping):
        return str(metadata.get("resourceVersion") or "")
    return ""


class Reflector:
    """List, then watch one resource on a daemon thread, reporting to ``handler``."""

    def __init__(
        self,
        *,
        api: Api,
        resource: Resource,
        handler: Handler,
        backoff: Backoff,
        watch_seconds: int = WATCH_SECONDS,
        slim: Callable[[JsonObject], JsonObject] | None = None,
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
        items: list[JsonObject] = []
        token = ""
        while True:
            query = [("limit", str(PAGE_SIZE))]
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
                resource_version=version,
                seconds=self._watch_seconds,
                opened=self._opened,
            ):
                kind = str(event.get("type"))
                item: JsonObject = event["object"]
                if kind == "ERROR":
                    code = item.get("code")
                    if code == HTTP_GONE:
                        raise GoneError(str(item.get("message", "")))
                    reason, message = str(item.get("reason")), str(item.get("message"))
                    raise ApiError(int(code or 0), reason, message)
                version = _resource_version(item) or version
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
            except ApiError as err:
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


# -- the cache -------------------------------------------------------------------------


class Sink(Protocol):
    """Where the cache publishes; ``webhook.server.State`` has exactly these methods."""

    def policies_loaded(
        self, policies: tuple[policy.CompiledPolicy, ...], *, at: datetime.datetime
    ) -> None: ...

    def policies_failed(self, error: str) -> None: ...

    def replace_namespaces(self, labels: Mapping[str, Mapping[str, str]]) -> None: ...

    def set_namespace(self, name: str, labels: Mapping[str, str]) -> None: ...

    def forget_namespace(self, name: str) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    """What the cache holds right now."""

    ready: bool
    policies: tuple[policy.CompiledPolicy, ...]
    #: Policy key -> its compile problems, one per line.
    invalid: Mapping[str, str]
    namespaces: Mapping[str, Mapping[str, str]]


@dataclasses.dataclass(frozen=True, slots=True)
class _Entry:
    """One policy object as last seen, and what it compiled to."""

    uid: str
    generation: object
    compiled: policy.CompiledPolicy | None
    problems: str


def policy_key(item: Mapping[str, Any]) -> str:
    """``ClusterContainerPolicy/<name>`` or ``ContainerPolicy/<namespace>/<name>``."""
    metadata = item.get("metadata") if isinstance(item.get("metadata"), Mapping) else {}
    kind = str(item.get("kind") or "")
    name = str((metadata or {}).get("name") or "")
    namespace = (metadata or {}).get("namespace")
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def _labels(item: Mapping[str, Any]) -> dict[str, str]:
    metadata = item.get("metadata")
    if not isinstance(metadata, Mapping):
        return {}
    labels = metadata.get("labels")
    if not isinstance(labels, Mapping):
        return {}
    return {str(k): str(v) for k, v in labels.items()}


def _name(item: Mapping[str, Any]) -> str:
    metadata = item.get("metadata")
    return str(metadata.get("name") or "") if isinstance(metadata, Mapping) else ""


def compile_object(
    item: Mapping[str, Any], *, latest_minor: int
) -> tuple[policy.CompiledPolicy | None, str]:
    """The object compiled, or ``None`` and its problems, one ``path: reason`` per line."""
    try:
        return policy.compile(item, latest_minor=latest_minor), ""
    except policy.CompileError as err:
        return None, "\n".join(str(problem) for problem in err.problems)


class PolicyCache:
    """Policies and namespace labels from the cluster, compiled and published to ``sink``."""

    def __init__(
        self,
        *,
        api: Api,
        sink: Sink | None = None,
        latest_minor: int = profiles.DEFAULT_LATEST_MINOR,
        backoff: Backoff = Backoff(),
        watch_seconds: int = WATCH_SECONDS,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self._sink = sink
        self._latest_minor = latest_minor
        self._clock = clock
        self._lock = threading.RLock()
        self._ready = threading.Event()
        self._listed: set[str] = set()
        self._entries: dict[str, _Entry] = {}
        self._namespaces: dict[str, dict[str, str]] = {}
        self._snapshot = Snapshot(
            ready=False, policies=(), invalid=types.MappingProxyType({}), namespaces={}
        )
        self._reported: set[tuple[str, object]] = set()
        self.reflectors = tuple(
            Reflector(
                api=api,
                resource=resource,
                handler=self,
                backoff=backoff,
                watch_seconds=watch_seconds,
            )
            for resource in (CLUSTER_POLICIES, NAMESPACED_POLICIES, NAMESPACES)
        )

    # lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        for reflector in self.reflectors:
            reflector.start()

    def stop(self) -> None:
        for reflector in self.reflectors:
            reflector.stop()

    def wait_ready(self, timeout: float) -> bool:
        """Whether the first list of every kind arrived within ``timeout`` seconds."""
        return self._ready.wait(timeout)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def snapshot(self) -> Snapshot:
        return self._snapshot

    # Handler -----------------------------------------------------------------------

    def listed(self, resource: Resource, items: Sequence[JsonObject]) -> None:
        with self._lock:
            if resource is NAMESPACES:
                self._namespaces = {_name(item): _labels(item) for item in items}
                if self._sink is not None:
                    self._sink.replace_namespaces(self._namespaces)
            else:
                prefix = f"{resource.kind}/"
                fresh = {policy_key(item): item for item in items}
                for key in [k for k in self._entries if k.startswith(prefix) and k not in fresh]:
                    del self._entries[key]
                for key, item in fresh.items():
                    self._store(key, item)
            self._listed.add(resource.kind)
            # A (re)list ends any trouble the reflector reported: publish afresh.
            self._publish(policies_changed=True)

    def changed(self, resource: Resource, event: str, item: JsonObject) -> None:
        with self._lock:
            if resource is NAMESPACES:
                name = _name(item)
                if event == "DELETED":
                    self._namespaces.pop(name, None)
                    if self._sink is not None:
                        self._sink.forget_namespace(name)
                else:
                    labels = _labels(item)
                    self._namespaces[name] = labels
                    if self._sink is not None:
                        self._sink.set_namespace(name, labels)
                self._publish(policies_changed=False)
                return
            key = policy_key(item)
            if event == "DELETED":
                changed = self._entries.pop(key, None) is not None
            else:
                changed = self._store(key, item)
            self._publish(policies_changed=changed)

    def failed(self, resource: Resource, error: str) -> None:
        if self._sink is not None:
            kept = "; the last good set stays in force" if self.ready else ""
            self._sink.policies_failed(f"list/watch of {resource.kind}: {error}{kept}")

    # internals ---------------------------------------------------------------------

    def _store(self, key: str, item: JsonObject) -> bool:
        """Remember ``item`` under ``key``, compiling it unless its generation is known."""
        metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
        uid = str((metadata or {}).get("uid") or "")
        generation = (metadata or {}).get("generation") or _resource_version(item)
        known = self._entries.get(key)
        if known is not None and known.uid == uid and known.generation == generation:
            return False
        compiled, problems = compile_object(item, latest_minor=self._latest_minor)
        self._entries[key] = _Entry(
            uid=uid, generation=generation, compiled=compiled, problems=problems
        )
        if compiled is None and (key, generation) not in self._reported:
            self._reported.add((key, generation))
            _LOG.warning("policy %s is invalid and not enforced: %s", key, problems)
        return True

    def _publish(self, *, policies_changed: bool) -> None:
        ready = {CLUSTER_POLICIES.kind, NAMESPACED_POLICIES.kind, NAMESPACES.kind} <= self._listed
        ordered = sorted(self._entries.items())
        policies = tuple(e.compiled for _, e in ordered if e.compiled is not None)
        invalid = {key: e.problems for key, e in ordered if e.compiled is None}
        self._snapshot = Snapshot(
            ready=ready,
            policies=policies,
            invalid=types.MappingProxyType(invalid),
            namespaces=types.MappingProxyType(
                {k: types.MappingProxyType(v) for k, v in self._namespaces.items()}
            ),
        )
        if not ready or not (policies_changed or not self._ready.is_set()):
            return
        if self._sink is not None:
            self._sink.policies_loaded(policies, at=self._clock())
            if invalid:
                self._sink.policies_failed(
                    f"{len(invalid)} invalid "
                    f"{'policy' if len(invalid) == 1 else 'policies'} not enforced: "
                    + "; ".join(
                        f"{key}: {problems.replace(chr(10), '; ')}"
                        for key, problems in invalid.items()
                    )
                )
        self._ready.set()
