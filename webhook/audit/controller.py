"""The background audit: list+watch workloads, judge them, write PolicyReports. Network I/O.

Inputs, each through the project's one list/watch (``kube.Reflector``):

* a ``cache.PolicyCache`` for the policies and namespace labels, compiled
  exactly as the webhook compiles them, and the default-deny
  NetworkPolicies ``networkPolicy`` judges with (this controller is its
  ``Sink``): a workload in a namespace without one is reported under that
  check, like any other finding;
* one ``kube.Reflector`` per workload kind: Pods and the eight pod-bearing
  kinds of ``admission.POD_KINDS``, cluster-wide.

One worker thread wakes at most every ``batch_seconds``: it judges what
changed since its last pass (``store.Store``), renders the report of every
namespace whose outcomes changed, and writes only the reports whose
content differs from what it last wrote (server-side apply, field manager
``bulkhead-audit``), deleting those of namespaces with nothing left to
report. A burst of changes is therefore one write per namespace per batch.
Every ``resync_seconds`` it re-judges everything (exclusions expire with
time). Nothing is written until the first list of every kind has arrived;
``first_pass`` holds the monotonic time the first complete set was written.

On start it lists the reports it wrote before (label
``app.kubernetes.io/managed-by=bulkhead``), so a restart rewrites none that
still say the same thing and deletes those that are stale.

Findings that appear after the first pass are also posted as Events on the
reported object (``events``: deduplicated, counted, rate-limited).

With ``write=False`` (``bulkhead audit`` over a live cluster) it judges and
keeps the documents without writing anything.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from webhook import admission, kube, policy, profiles
from webhook.audit import events, reports, store, workloads
from webhook.policy import cache

_LOG: Final = logging.getLogger("bulkhead.audit")

FIELD_MANAGER: Final = "bulkhead-audit"
REPORTS_PATH: Final = "/apis/wgpolicyk8s.io/v1alpha2"

#: kind -> its cluster-wide collection path.
PATHS: Final[Mapping[str, str]] = {
    "Pod": "/api/v1/pods",
    "PodTemplate": "/api/v1/podtemplates",
    "ReplicationController": "/api/v1/replicationcontrollers",
    "Deployment": "/apis/apps/v1/deployments",
    "ReplicaSet": "/apis/apps/v1/replicasets",
    "StatefulSet": "/apis/apps/v1/statefulsets",
    "DaemonSet": "/apis/apps/v1/daemonsets",
    "Job": "/apis/batch/v1/jobs",
    "CronJob": "/apis/batch/v1/cronjobs",
}
assert set(PATHS) == set(admission.POD_KINDS)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """How often the audit judges and writes, and how big a report may get."""

    batch_seconds: float = 2.0
    resync_seconds: float = 600.0
    cap: int = reports.DEFAULT_CAP
    latest_minor: int = profiles.DEFAULT_LATEST_MINOR


#: Re-list delays after a failed list or watch.
_BACKOFF: Final = kube.Backoff()


def _report_path(namespace: str | None, *, name: str = "") -> str:
    if namespace is None:
        base = f"{REPORTS_PATH}/clusterpolicyreports"
    else:
        base = f"{REPORTS_PATH}/namespaces/{namespace}/policyreports"
    return f"{base}/{name}" if name else base


def _content(document: Mapping[str, Any]) -> object:
    """What decides whether a report must be written again."""
    metadata = document.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    return (
        document.get("summary") or {},
        document.get("results") or [],
        annotations.get(reports.OMITTED_ANNOTATION),
    )


class ReportWriteError(RuntimeError):
    """Some reports could not be written; they are tried again on the next pass."""


class Controller:
    """The audit loop over one API server (see the module docstring)."""

    def __init__(
        self,
        *,
        api: kube.Api,
        settings: Settings = Settings(),
        write: bool = True,
        backoff: kube.Backoff = _BACKOFF,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self._api = api
        self._settings = settings
        self._write = write
        self._clock = clock
        self._backoff = backoff
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._store = store.Store()
        self._listed: set[str] = set()
        self._policies_ready = False
        #: Namespace (None: cluster) -> content last written (or found on start).
        self._written: dict[str | None, object] = {}
        self._documents: dict[str | None, dict[str, Any]] = {}
        #: Reports whose last write failed, rendered and written again next pass.
        self._retry: set[str | None] = set()
        self._complete = threading.Event()
        self.first_pass: float | None = None
        self.started = time.monotonic()
        #: Reports created or updated, and deleted, since start.
        self.writes = 0
        self.deletes = 0
        self.passes = 0
        #: Passes that failed (retried), list/watch failures, and when a pass last succeeded.
        self.failures = 0
        self.watch_failures = 0
        self.last_success: float | None = None
        #: The PolicyViolation Events posted and suppressed.
        self.events = events.Recorder(api, clock=clock)
        self._policy_cache = cache.PolicyCache(
            api=api, sink=self, latest_minor=settings.latest_minor, backoff=backoff
        )
        self._reflectors = tuple(
            kube.Reflector(
                api=api,
                resource=kube.Resource(kind, path),
                handler=self,
                backoff=backoff,
                slim=functools.partial(workloads.slim, kind),
            )
            for kind, path in PATHS.items()
        )
        self._worker = threading.Thread(target=self._run, name="bulkhead-audit", daemon=True)

    # lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._write:
            self._load_written()
        self.started = time.monotonic()
        self._policy_cache.start()
        for reflector in self._reflectors:
            reflector.start()
        self._worker.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        self._policy_cache.stop()
        for reflector in self._reflectors:
            reflector.stop()
        if self._worker.is_alive():
            self._worker.join(timeout=10.0)

    def wait_complete(self, timeout: float) -> bool:
        """Whether the first complete report set was made within ``timeout`` seconds."""
        return self._complete.wait(timeout)

    @property
    def alive(self) -> bool:
        """Whether the worker thread runs (liveness)."""
        return self._worker.is_alive()

    @property
    def complete(self) -> bool:
        """Whether the first complete report set has been made (readiness)."""
        return self._complete.is_set()

    def documents(self) -> dict[str | None, dict[str, Any]]:
        """The reports as last rendered, by namespace (``None``: the cluster report)."""
        with self._lock:
            return dict(self._documents)

    # cache.Sink --------------------------------------------------------------------

    def policies_loaded(
        self, policies: tuple[policy.CompiledPolicy, ...], *, at: datetime.datetime
    ) -> None:
        del at
        invalid = self._policy_cache.snapshot().invalid
        with self._lock:
            self._store.set_policies(policies, invalid=invalid)
            self._policies_ready = True
        self._wake.set()

    def policies_failed(self, error: str) -> None:
        _LOG.warning("policies: %s", error)

    def replace_namespaces(self, labels: Mapping[str, Mapping[str, str]]) -> None:
        with self._lock:
            self._store.replace_namespaces(labels)
        self._wake.set()

    def isolation_changed(self, isolation: policy.Isolation) -> None:
        with self._lock:
            self._store.set_isolation(isolation)
        self._wake.set()

    def set_namespace(self, name: str, labels: Mapping[str, str]) -> None:
        with self._lock:
            self._store.set_namespace(name, labels)
        self._wake.set()

    def forget_namespace(self, name: str) -> None:
        with self._lock:
            self._store.set_namespace(name, None)

    # kube.Handler (workloads) -----------------------------------------------------

    def listed(self, resource: kube.Resource, items: Sequence[kube.JsonObject]) -> None:
        found = [workloads.Workload.of(resource.kind, item) for item in items]
        with self._lock:
            self._store.replace_kind(resource.kind, found)
            self._listed.add(resource.kind)
        self._wake.set()

    def changed(self, resource: kube.Resource, event: str, item: kube.JsonObject) -> None:
        workload = workloads.Workload.of(resource.kind, item)
        with self._lock:
            if event == "DELETED":
                self._store.remove(*workload.ref.key)
            else:
                self._store.put(workload)
        self._wake.set()

    def failed(self, resource: kube.Resource, error: str) -> None:
        _LOG.warning("list/watch of %s: %s", resource.kind, error)
        self.watch_failures += 1

    # the worker --------------------------------------------------------------------

    def _ready(self) -> bool:
        """Every kind listed, and the NetworkPolicies too when a policy judges with them."""
        waiting = self._store.needs_isolation and not self._store.isolation.known
        return self._policies_ready and self._listed >= set(PATHS) and not waiting

    def _run(self) -> None:
        last_full = time.monotonic()
        while not self._stopped.is_set():
            self._wake.wait(self._settings.resync_seconds)
            if self._stopped.is_set():
                return
            # let a burst of changes arrive, then judge them in one pass
            self._stopped.wait(self._settings.batch_seconds)
            self._wake.clear()
            try:
                with self._lock:
                    if not self._ready():
                        continue
                    if time.monotonic() - last_full >= self._settings.resync_seconds:
                        self._store.judge_all()
                        last_full = time.monotonic()
                    touched = self._store.judge_pending(now=self._clock()) | self._retry
                    self._retry = set()
                    if not self._complete.is_set():
                        touched |= set(self._store.namespaces()) | set(self._written)
                    rendered = {
                        ns: self._store.document(ns, cap=self._settings.cap) for ns in touched
                    }
                    appeared = self._store.take_appeared()
                self._publish(rendered)
                if self._write and self._complete.is_set():
                    self.events.record(appeared)  # the first pass finds, nothing appears
            except ReportWriteError as err:
                _LOG.warning("writing reports failed (retried next pass): %s", err)
                self.failures += 1
                self._wake.set()
                self._stopped.wait(self._backoff.delay(1))
                continue
            except Exception:  # a bug must not stop the audit silently
                _LOG.exception("audit pass failed; retrying")
                self.failures += 1
                self._wake.set()
                self._stopped.wait(self._backoff.delay(1))
                continue
            self.passes += 1
            self.last_success = time.time()
            if not self._complete.is_set():
                self.first_pass = time.monotonic()
                self._complete.set()
                _LOG.info(
                    "first complete report set in %.1fs: %d written, %d deleted",
                    self.first_pass - self.started,
                    self.writes,
                    self.deletes,
                )

    def _publish(self, rendered: Mapping[str | None, dict[str, Any] | None]) -> None:
        """Keep and write ``rendered``; a report whose write fails is rendered again next pass."""
        failed: list[str] = []
        for namespace, document in sorted(rendered.items(), key=lambda kv: kv[0] or ""):
            try:
                self._publish_one(namespace, document)
            except kube.ApiError as err:
                failed.append(f"{namespace or 'cluster'}: {err}")
                with self._lock:
                    self._retry.add(namespace)
        if failed:
            raise ReportWriteError("; ".join(failed))

    def _publish_one(self, namespace: str | None, document: dict[str, Any] | None) -> None:
        with self._lock:
            if document is None:
                self._documents.pop(namespace, None)
            else:
                self._documents[namespace] = document
        if not self._write:
            return
        if document is None:
            if namespace in self._written:
                self._delete(namespace)
            return
        content = _content(document)
        if self._written.get(namespace) != content:
            self._apply(namespace, document)
            self._written[namespace] = content

    def _apply(self, namespace: str | None, document: Mapping[str, Any]) -> None:
        try:
            self._api.request(
                "PATCH",
                _report_path(namespace, name=reports.NAME),
                query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
                body=json.dumps(document),
                content_type="application/apply-patch+yaml",
            )
        except kube.ApiError as err:
            if err.status == 404 and namespace is not None:
                return  # the namespace is being deleted
            raise
        self.writes += 1

    def _delete(self, namespace: str | None) -> None:
        try:
            self._api.request("DELETE", _report_path(namespace, name=reports.NAME))
        except kube.ApiError as err:
            if err.status != 404:
                raise
        self._written.pop(namespace, None)
        self.deletes += 1

    def _load_written(self) -> None:
        selector = "=".join(reports.MANAGED_BY)
        for scope in ("namespaced", "cluster"):
            path = (
                f"{REPORTS_PATH}/clusterpolicyreports"
                if scope == "cluster"
                else f"{REPORTS_PATH}/policyreports"
            )
            try:
                listed = self._api.request("GET", path, query=[("labelSelector", selector)])
            except kube.ApiError as err:
                if err.status == 404:
                    raise kube.ApiError(
                        404,
                        "NotFound",
                        "the wgpolicyk8s.io/v1alpha2 report CRDs are not installed "
                        "(apply manifests/policyreports/ or set audit.installReportCRDs)",
                    ) from err
                raise
            for item in listed.get("items") or []:
                metadata = item.get("metadata") or {}
                if metadata.get("name") != reports.NAME:
                    continue
                namespace = metadata.get("namespace") if scope == "namespaced" else None
                self._written[namespace] = _content(item)
