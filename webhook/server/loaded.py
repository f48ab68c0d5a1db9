"""What the webhook judges with, held for lock-free readers. No I/O.

``State`` holds three values, each replaced whole (never mutated) so a
request reads one consistent snapshot without taking a lock:

* ``policies``: the compiled policies in force, when they were loaded, and
  why the latest reload failed, if it did (the last good set stays in force);
* ``tls``: whether the serving certificate is loaded and when it expires;
* namespace labels for ``namespaceSelector``: offline only the name label
  every namespace has is known (``namespace``); in cluster mode the cache
  feeds them through ``replace_namespaces``, ``set_namespace`` and
  ``forget_namespace``, and ``look_up_namespaces_with`` gives a function
  that gets a namespace the watch has not delivered yet;
* the cluster's default-deny NetworkPolicies (``isolation``, for
  ``networkPolicy``): unknown offline and until the cache has listed them,
  so that check fails closed; the cache feeds them through
  ``isolation_changed``.

A reload that would leave no policy at all is refused like an invalid file
(the last good set stays in force), and it also makes the process not ready
(``blocking``): zero policies would admit everything, which is never what
a policy directory that used to hold policies means.

Writers (file pollers now, a namespace watcher later) serialise on one lock;
readers only read attributes, which is atomic in CPython.
"""

from __future__ import annotations

import dataclasses
import datetime
import threading
import types
from collections.abc import Callable, Mapping
from typing import Any, Final

from webhook import policy
from webhook.admission import namespaces

_NO_NAMESPACE: Final = namespaces.NamespaceLabels(types.MappingProxyType({}), complete=True)


@dataclasses.dataclass(frozen=True, slots=True)
class PolicySet:
    """The policies in force; ``error`` says why the latest load failed (``None``: it worked)."""

    policies: tuple[policy.CompiledPolicy, ...] = ()
    loaded_at: datetime.datetime | None = None
    error: str | None = None
    #: the latest failure makes the process not ready even with a set in force
    blocking: bool = False

    @property
    def loaded(self) -> bool:
        return self.loaded_at is not None

    @property
    def verifies_images(self) -> bool:
        """Whether a policy in force has ``imageSignatures`` (judging may wait on registries)."""
        return any(p.image_signatures is not None for p in self.policies)


@dataclasses.dataclass(frozen=True, slots=True)
class TlsMaterial:
    """The serving certificate in force; ``error`` says why the latest load failed."""

    loaded_at: datetime.datetime | None = None
    not_after: datetime.datetime | None = None
    subject: str = ""
    error: str | None = None

    @property
    def loaded(self) -> bool:
        return self.loaded_at is not None

    def seconds_left(self, now: datetime.datetime) -> float | None:
        if self.not_after is None:
            return None
        return (self.not_after - now).total_seconds()


@dataclasses.dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    detail: Mapping[str, Any]


def _when(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


class State:
    """The policy set, TLS status and namespace labels the server answers with."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._policies = PolicySet(error="policies not loaded yet")
        self._tls = TlsMaterial(error="certificate not loaded yet")
        self._namespaces: Mapping[str, Mapping[str, str]] = types.MappingProxyType({})
        self._look_up: Callable[[str], Mapping[str, str] | None] | None = None
        self._isolation = policy.UNKNOWN_ISOLATION

    @property
    def policies(self) -> PolicySet:
        return self._policies

    @property
    def tls(self) -> TlsMaterial:
        return self._tls

    @property
    def isolation(self) -> policy.Isolation:
        return self._isolation

    def namespace(self, name: str | None) -> namespaces.NamespaceLabels:
        """What is known of the labels of namespace ``name`` (all of them, or only its name).

        An unknown namespace is looked up (cluster mode) only when some policy
        in force has a ``namespaceSelector``; nothing else reads the labels.
        """
        if name is None:
            return _NO_NAMESPACE
        labels = self._namespaces.get(name)
        look_up = self._look_up
        if labels is None and look_up is not None and self._selects_namespaces():
            labels = look_up(name)
        return namespaces.assumed(name) if labels is None else namespaces.known(name, labels)

    @property
    def may_look_up(self) -> bool:
        """Whether ``namespace`` may call the look-up (a blocking API call) for some name."""
        return self._look_up is not None and self._selects_namespaces()

    def _selects_namespaces(self) -> bool:
        return any(p.match.namespace_selector is not None for p in self._policies.policies)

    # writers ---------------------------------------------------------------

    def policies_loaded(
        self, policies: tuple[policy.CompiledPolicy, ...], *, at: datetime.datetime
    ) -> None:
        with self._lock:
            self._policies = PolicySet(policies=policies, loaded_at=at)

    def policies_failed(self, error: str, *, blocking: bool = False) -> None:
        """Record why a reload failed; the last good set (if any) stays in force.

        ``blocking``: the process is not ready until a good load (an empty set).
        """
        with self._lock:
            self._policies = dataclasses.replace(self._policies, error=error, blocking=blocking)

    def look_up_namespaces_with(self, look_up: Callable[[str], Mapping[str, str] | None]) -> None:
        """Get an unknown namespace's labels with ``look_up`` (``None``: it cannot)."""
        self._look_up = look_up

    def tls_loaded(
        self, *, not_after: datetime.datetime, subject: str, at: datetime.datetime
    ) -> None:
        with self._lock:
            self._tls = TlsMaterial(loaded_at=at, not_after=not_after, subject=subject)

    def tls_failed(self, error: str) -> None:
        with self._lock:
            self._tls = dataclasses.replace(self._tls, error=error)

    def replace_namespaces(self, labels: Mapping[str, Mapping[str, str]]) -> None:
        """Swap in a whole new namespace -> labels table (a watcher's initial list)."""
        frozen = {name: types.MappingProxyType(dict(v)) for name, v in labels.items()}
        with self._lock:
            self._namespaces = types.MappingProxyType(frozen)

    def set_namespace(self, name: str, labels: Mapping[str, str]) -> None:
        with self._lock:
            table = dict(self._namespaces)
            table[name] = types.MappingProxyType(dict(labels))
            self._namespaces = types.MappingProxyType(table)

    def forget_namespace(self, name: str) -> None:
        with self._lock:
            table = dict(self._namespaces)
            table.pop(name, None)
            self._namespaces = types.MappingProxyType(table)

    def isolation_changed(self, isolation: policy.Isolation) -> None:
        with self._lock:
            self._isolation = isolation

    # readers ---------------------------------------------------------------

    def readiness(self, *, now: datetime.datetime) -> Readiness:
        """Ready when a certificate and a policy set are loaded; the detail says why not."""
        policies = self._policies
        tls = self._tls
        reasons: list[str] = []
        if not tls.loaded:
            reasons.append(f"TLS: {tls.error or 'certificate not loaded'}")
        if not policies.loaded:
            reasons.append(f"policies: {policies.error or 'not loaded'}")
        elif policies.blocking:
            reasons.append(f"policies: {policies.error}")
        left = tls.seconds_left(now)
        detail: dict[str, Any] = {
            "ready": not reasons,
            "reasons": reasons,
            "tls": {
                "loaded": tls.loaded,
                "loadedAt": _when(tls.loaded_at),
                "notAfter": _when(tls.not_after),
                "expiresInSeconds": None if left is None else int(left),
                "subject": tls.subject,
                "error": tls.error,
            },
            "policies": {
                "loaded": policies.loaded,
                "count": len(policies.policies),
                "names": [p.key for p in policies.policies],
                "loadedAt": _when(policies.loaded_at),
                "error": policies.error,
            },
        }
        return Readiness(ready=not reasons, detail=detail)
