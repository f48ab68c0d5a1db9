"""The cluster's policies and namespace labels, listed, watched and compiled. Network I/O.

The one module of ``webhook.policy`` that does I/O, all of it through
``webhook.kube`` (the transport and the reflectors). It keeps a webhook
process's view of the cluster:

* ``ClusterContainerPolicy`` and ``ContainerPolicy`` objects (all
  namespaces), each compiled with the same ``policy.compile`` the operator
  and the CLI use. A valid object is enforced exactly as compiled; an
  invalid one is left out, logged once per generation and listed in
  ``Snapshot.invalid`` (the operator writes the same problems into its
  status); a deleted one stops applying.
* ``Namespace`` labels, for ``spec.match.namespaceSelector``. A review in
  a namespace the watch has not delivered yet (created a moment ago) asks
  ``look_up_namespace``, which gets that one namespace (at most
  ``LOOKUP_SECONDS``); if that fails too, the namespace's labels stay
  unknown and the caller must not judge as if it had them.

* ``NetworkPolicy`` objects (all namespaces), for ``networkPolicy``: each
  kept only as its namespace, name and the directions it denies by default
  (``network_policy.denied_directions``), so the cost is a few hundred bytes
  per default-deny NetworkPolicy, and nothing for the others. They are
  watched whether or not a policy uses the rule (the cost is that small);
  readiness does not wait for them: until they are listed the isolation is
  unknown and ``networkPolicy`` fails closed with a message saying so.

Each of the four is a ``kube.Reflector`` (list, then watch; the last good
compiled set stays in force while one re-lists after trouble).

``PolicyCache`` feeds a ``Sink`` (the webhook server's state object fits it
as is): ``policies_loaded`` once the first list of all three kinds has
arrived (before that the sink is not ready) and after every change;
``policies_failed`` to report invalid policies and watch trouble;
``replace_namespaces`` / ``set_namespace`` / ``forget_namespace`` for the
labels; ``isolation_changed`` with the default-deny NetworkPolicies (and the
namespaces being deleted) whenever they change. Zero policies in the cluster
is a state its admins chose (RBAC decides who may delete policies), so the
webhook stays ready and enforces nothing; it logs a warning whenever the
enforced set changes and is empty.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol

from webhook import kube, policy, profiles
from webhook.policy import model, names, network_policy

_LOG: Final = logging.getLogger("bulkhead.cache")

#: How long a review may wait for a namespace the watch has not delivered yet.
LOOKUP_SECONDS: Final = 2.0
#: A namespace name (an RFC 1123 label).

CLUSTER_POLICIES: Final = kube.Resource(
    model.CLUSTER_KIND, f"/apis/{model.GROUP}/{model.VERSION}/clustercontainerpolicies"
)
NAMESPACED_POLICIES: Final = kube.Resource(
    model.NAMESPACED_KIND, f"/apis/{model.GROUP}/{model.VERSION}/containerpolicies"
)
NAMESPACES: Final = kube.Resource("Namespace", "/api/v1/namespaces")
NETWORK_POLICIES: Final = kube.Resource(
    network_policy.KIND, "/apis/networking.k8s.io/v1/networkpolicies"
)
_BACKOFF: Final = kube.Backoff()


class Sink(Protocol):
    """Where the cache publishes; ``webhook.server.State`` has exactly these methods."""

    def policies_loaded(
        self, policies: tuple[policy.CompiledPolicy, ...], *, at: datetime.datetime
    ) -> None: ...

    def policies_failed(self, error: str) -> None: ...

    def replace_namespaces(self, labels: Mapping[str, Mapping[str, str]]) -> None: ...

    def set_namespace(self, name: str, labels: Mapping[str, str]) -> None: ...

    def forget_namespace(self, name: str) -> None: ...

    def isolation_changed(self, isolation: policy.Isolation) -> None: ...


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


def _namespace(item: Mapping[str, Any]) -> str:
    metadata = item.get("metadata")
    return str(metadata.get("namespace") or "") if isinstance(metadata, Mapping) else ""


def _terminating(item: Mapping[str, Any]) -> bool:
    """Whether Namespace ``item`` is being deleted."""
    metadata = item.get("metadata")
    status = item.get("status")
    deleted = isinstance(metadata, Mapping) and metadata.get("deletionTimestamp")
    phase = status.get("phase") if isinstance(status, Mapping) else None
    return bool(deleted) or phase == "Terminating"


def _denied(slimmed: Mapping[str, Any]) -> frozenset[str]:
    """The directions a NetworkPolicy slimmed by ``slim_network_policy`` denies by default."""
    denies = slimmed.get("denies")
    return (
        frozenset(d for d in denies if isinstance(d, str))
        if isinstance(denies, list)
        else frozenset()
    )


def slim_network_policy(item: kube.JsonObject) -> kube.JsonObject:
    """What the cache keeps of a NetworkPolicy: its namespace, name and default denials."""
    return {
        "metadata": {"namespace": _namespace(item), "name": _name(item)},
        "denies": sorted(network_policy.denied_directions(item)),
    }


class PolicyCache(kube.Reflected):
    """Policies and namespace labels from the cluster, compiled and published to ``sink``."""

    def __init__(
        self,
        *,
        api: kube.Api,
        sink: Sink | None = None,
        latest_minor: int = profiles.DEFAULT_LATEST_MINOR,
        backoff: kube.Backoff = _BACKOFF,
        watch_seconds: int = kube.WATCH_SECONDS,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self._api = api
        self._sink = sink
        self._latest_minor = latest_minor
        self._clock = clock
        self._lock = threading.RLock()
        self.ready_event = threading.Event()
        self._listed: set[str] = set()
        self._entries: dict[str, _Entry] = {}
        self._namespaces: dict[str, dict[str, str]] = {}
        self._terminating: set[str] = set()
        #: namespace -> NetworkPolicy name -> directions it denies by default (never empty)
        self._denying: network_policy.Denying = types.MappingProxyType({})
        self._isolation = policy.UNKNOWN_ISOLATION
        self._snapshot = Snapshot(
            ready=False, policies=(), invalid=types.MappingProxyType({}), namespaces={}
        )
        self._reported: set[tuple[str, object]] = set()
        self.reflectors = tuple(
            kube.Reflector(
                api=api,
                resource=resource,
                handler=self,
                backoff=backoff,
                watch_seconds=watch_seconds,
                slim=slim_network_policy if resource is NETWORK_POLICIES else None,
            )
            for resource in (CLUSTER_POLICIES, NAMESPACED_POLICIES, NAMESPACES, NETWORK_POLICIES)
        )

    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def isolation(self) -> policy.Isolation:
        """The default-deny NetworkPolicies as last published (unknown until listed)."""
        return self._isolation

    # Handler -----------------------------------------------------------------------

    def listed(self, resource: kube.Resource, items: Sequence[kube.JsonObject]) -> None:
        with self._lock:
            if resource is NETWORK_POLICIES:
                table: dict[str, dict[str, frozenset[str]]] = {}
                for item in items:
                    denied = _denied(item)
                    if denied:
                        table.setdefault(_namespace(item), {})[_name(item)] = denied
                self._denying = network_policy.freeze(table)
                self._listed.add(resource.kind)
                self._publish_isolation()
                return
            if resource is NAMESPACES:
                self._namespaces = {_name(item): _labels(item) for item in items}
                self._terminating = {_name(item) for item in items if _terminating(item)}
                if self._sink is not None:
                    self._sink.replace_namespaces(self._namespaces)
                self._publish_isolation()
            else:
                prefix = f"{resource.kind}/"
                fresh = {model.policy_key(item): item for item in items}
                for key in [k for k in self._entries if k.startswith(prefix) and k not in fresh]:
                    del self._entries[key]
                for key, item in fresh.items():
                    self._store(key, item)
            self._listed.add(resource.kind)
            # A (re)list ends any trouble the reflector reported: publish afresh.
            self._publish(policies_changed=True)

    def changed(self, resource: kube.Resource, event: str, item: kube.JsonObject) -> None:
        with self._lock:
            if resource is NETWORK_POLICIES:
                self._denying = network_policy.with_entry(
                    self._denying,
                    namespace=_namespace(item),
                    name=_name(item),
                    denied=frozenset() if event == "DELETED" else _denied(item),
                )
                self._publish_isolation()
                return
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
                terminating = event != "DELETED" and _terminating(item)
                if terminating != (name in self._terminating):
                    if terminating:
                        self._terminating.add(name)
                    else:
                        self._terminating.discard(name)
                    self._publish_isolation()
                self._publish(policies_changed=False)
                return
            key = model.policy_key(item)
            if event == "DELETED":
                changed = self._entries.pop(key, None) is not None
            else:
                changed = self._store(key, item)
            self._publish(policies_changed=changed)

    def look_up_namespace(self, name: str) -> Mapping[str, str] | None:
        """The labels of namespace ``name``: as watched, else got now; ``None`` when unknown.

        A namespace got here is remembered (and published to the sink) unless
        the watch delivered it meanwhile, which is newer.
        """
        labels = self._namespaces.get(name)
        if labels is not None:
            return labels
        if not names.is_dns_label(name):
            return None  # no namespace can have this name: nothing to ask
        try:
            item = self._api.request("GET", f"{NAMESPACES.path}/{name}", timeout=LOOKUP_SECONDS)
        except kube.ApiError as err:
            _LOG.warning("namespace %s is not known and cannot be got: %s", name, err)
            return None
        with self._lock:
            current = self._namespaces.get(name)
            if current is not None:
                return current
            labels = _labels(item)
            self._namespaces[name] = labels
            if self._sink is not None:
                self._sink.set_namespace(name, labels)
            return labels

    def failed(self, resource: kube.Resource, error: str) -> None:
        if self._sink is not None:
            kept = "; the last good set stays in force" if self.ready else ""
            self._sink.policies_failed(f"list/watch of {resource.kind}: {error}{kept}")

    # internals ---------------------------------------------------------------------

    def _store(self, key: str, item: kube.JsonObject) -> bool:
        """Remember ``item`` under ``key``, compiling it unless its generation is known."""
        metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
        uid = str((metadata or {}).get("uid") or "")
        generation = (metadata or {}).get("generation") or kube.resource_version(item)
        known = self._entries.get(key)
        if known is not None and known.uid == uid and known.generation == generation:
            return False
        compiled, problems = policy.compile_object(item, latest_minor=self._latest_minor)
        self._entries[key] = _Entry(
            uid=uid, generation=generation, compiled=compiled, problems=problems
        )
        if compiled is None and (key, generation) not in self._reported:
            self._reported.add((key, generation))
            _LOG.warning("policy %s is invalid and not enforced: %s", key, problems)
        return True

    def _publish_isolation(self) -> None:
        """Publish the default-deny NetworkPolicies once they have been listed."""
        if NETWORK_POLICIES.kind not in self._listed:
            return
        self._isolation = policy.Isolation(
            known=True,
            denying=self._denying,
            terminating=frozenset(self._terminating),
        )
        if self._sink is not None:
            self._sink.isolation_changed(self._isolation)

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
        if not ready or not (policies_changed or not self.ready_event.is_set()):
            return
        if not policies:
            # The cluster's admins may mean it (RBAC decides who may delete policies),
            # but it admits everything, so say so each time it becomes the case.
            _LOG.warning(
                "no policy is enforced (%d invalid): every object is admitted", len(invalid)
            )
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
        self.ready_event.set()
