"""What the webhook judges with, held for lock-free readers. No I/O.

``State`` holds three values, each replaced whole (never mutated) so a
request reads one consistent snapshot without taking a lock:

* ``policies``: the compiled policies in force, when they were loaded, and
  why the latest reload failed, if it did (the last good set stays in force);
* ``tls``: whether the serving certificate is loaded and when it expires;
* namespace labels for ``namespaceSelector``: empty offline; a cluster
  watcher feeds them later through ``replace_namespaces``, ``set_namespace``
  and ``forget_namespace``.

Writers (file pollers now, a namespace watcher later) serialise on one lock;
readers only read attributes, which is atomic in CPython.
"""

from __future__ import annotations

import dataclasses
import datetime
import threading
import types
from collections.abc import Mapping
from typing import Any, Final

from webhook import policy

_EMPTY_LABELS: Final[Mapping[str, str]] = types.MappingProxyType({})


@dataclasses.dataclass(frozen=True, slots=True)
class PolicySet:
    """The policies in force; ``error`` says why the latest load failed (``None``: it worked)."""

    policies: tuple[policy.CompiledPolicy, ...] = ()
    loaded_at: datetime.datetime | None = None
    error: str | None = None

    @property
    def loaded(self) -> bool:
        return self.loaded_at is not None


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

    @property
    def policies(self) -> PolicySet:
        return self._policies

    @property
    def tls(self) -> TlsMaterial:
        return self._tls

    def namespace_labels(self, namespace: str | None) -> Mapping[str, str]:
        """The labels of ``namespace`` as last seen (empty when unknown or offline)."""
        if namespace is None:
            return _EMPTY_LABELS
        return self._namespaces.get(namespace, _EMPTY_LABELS)

    # writers ---------------------------------------------------------------

    def policies_loaded(
        self, policies: tuple[policy.CompiledPolicy, ...], *, at: datetime.datetime
    ) -> None:
        with self._lock:
            self._policies = PolicySet(policies=policies, loaded_at=at)

    def policies_failed(self, error: str) -> None:
        """Record why a reload failed; the last good set (if any) stays in force."""
        with self._lock:
            self._policies = dataclasses.replace(self._policies, error=error)

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
