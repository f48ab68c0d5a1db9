"""The audit's state: workloads, policies, namespace labels and the outcomes judged. Pure, no I/O.

Callers feed it (``put``, ``remove``, ``replace_kind``, ``set_policies``,
``set_namespace``, ``set_isolation``) and then ``judge_pending`` re-judges what those changes
touch: the object itself and every object below it in its ownership chain
(a controller's labels decide which policies its Pods are judged by), every
object of a namespace whose labels changed, and every object when the
policies changed (``judge_all`` also serves the periodic pass, which lets
exclusions that expired take effect). It answers with the namespaces whose
outcomes changed; ``document`` renders one namespace's report.

Not thread-safe on its own: ``webhook.audit.controller`` holds one lock
around it.
"""

from __future__ import annotations

import collections
import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from webhook import policy
from webhook.audit import reports, workloads
from webhook.rules import findings

Key = tuple[str, str, str]
#: How far ``ownerReferences`` are followed (Pod -> ReplicaSet -> Deployment needs 2).
_MAX_DEPTH: Final = 4


class Store:
    """Workloads by (kind, namespace, name), their outcomes, and what needs judging."""

    def __init__(self) -> None:
        self._objects: dict[Key, workloads.Workload] = {}
        self._namespaced: dict[str, set[Key]] = collections.defaultdict(set)
        self._children: dict[Key, set[Key]] = collections.defaultdict(set)
        self._outcomes: dict[Key, tuple[workloads.Outcome, ...]] = {}
        self._policies: tuple[policy.CompiledPolicy, ...] = ()
        self._invalid: Mapping[str, str] = {}
        self._labels: dict[str, Mapping[str, str]] = {}
        self._isolation = policy.UNKNOWN_ISOLATION
        self._pending: set[Key] = set()
        self._gone: set[str] = set()
        self._all = True
        self._appeared: list[tuple[workloads.Outcome, findings.Finding]] = []

    # feeding -----------------------------------------------------------------------

    def put(self, workload: workloads.Workload) -> None:
        key = workload.ref.key
        known = self._objects.get(key)
        if known == workload:
            return
        if known is not None:
            self._unlink(known)
        self._objects[key] = workload
        self._namespaced[workload.ref.namespace].add(key)
        if workload.owner is not None:
            self._children[self._owner_key(workload)].add(key)
        self._touch(key)

    def remove(self, kind: str, namespace: str, name: str) -> None:
        key = (kind, namespace, name)
        known = self._objects.pop(key, None)
        if known is None:
            return
        self._unlink(known)
        self._touch(key)

    def replace_kind(self, kind: str, found: Iterable[workloads.Workload]) -> None:
        """Every object of ``kind`` is now ``found`` (after a list)."""
        fresh = {w.ref.key: w for w in found}
        for key in [k for k in self._objects if k[0] == kind and k not in fresh]:
            self.remove(*key)
        for workload in fresh.values():
            self.put(workload)

    def set_policies(
        self, policies: Sequence[policy.CompiledPolicy], *, invalid: Mapping[str, str]
    ) -> None:
        if tuple(policies) == self._policies and dict(invalid) == dict(self._invalid):
            return
        self._policies = tuple(policies)
        self._invalid = dict(invalid)
        self._all = True

    def set_namespace(self, name: str, labels: Mapping[str, str] | None) -> None:
        """Labels of namespace ``name`` (``None``: it is gone)."""
        if labels is None:
            self._labels.pop(name, None)
            return
        if self._labels.get(name) == labels:
            return
        self._labels[name] = dict(labels)
        self._pending.update(self._namespaced.get(name, ()))

    def replace_namespaces(self, labels: Mapping[str, Mapping[str, str]]) -> None:
        self._labels = {name: dict(value) for name, value in labels.items()}
        self._all = True

    def set_isolation(self, isolation: policy.Isolation) -> None:
        """The cluster's default-deny NetworkPolicies; re-judges the namespaces they changed in."""
        before, self._isolation = self._isolation, isolation
        if before.known != isolation.known:
            self._all = True
            return
        for namespace in {*before.denying, *isolation.denying}:
            if before.denying.get(namespace) != isolation.denying.get(namespace):
                self._pending.update(self._namespaced.get(namespace, ()))

    def judge_all(self) -> None:
        """Re-judge every object at the next ``judge_pending``."""
        self._all = True

    # judging -----------------------------------------------------------------------

    def judge_pending(self, *, now: datetime.datetime) -> set[str | None]:
        """Judge what changed; the namespaces (``None``: cluster scope) whose report may differ."""
        if self._all:
            self._all = False
            self._pending.clear()
            stale = set(self._outcomes) - set(self._objects)
            targets: Iterable[Key] = list(self._objects)
            touched: set[str | None] = {k[1] for k in stale} | set(self._gone) | {None}
            for key in stale:
                del self._outcomes[key]
            touched.update(self._judge(targets, now=now))
            self._gone.clear()
            return touched
        pending, self._pending = self._pending, set()
        touched = set(self._gone)
        self._gone.clear()
        for key in pending:
            if key not in self._objects and self._outcomes.pop(key, None) is not None:
                touched.add(key[1])
        touched.update(self._judge([k for k in pending if k in self._objects], now=now))
        return touched

    def _judge(self, keys: Iterable[Key], *, now: datetime.datetime) -> set[str | None]:
        touched: set[str | None] = set()
        for key in keys:
            workload = self._objects[key]
            outcomes = workloads.judge(
                workload,
                top=self._top(workload),
                policies=self._policies,
                namespace_labels=self._labels.get(workload.ref.namespace, {}),
                now=now,
                isolation=self._isolation,
            )
            before = self._outcomes.get(key, ())
            if before != outcomes:
                touched.add(key[1])
                self._note_appeared(before, outcomes)
            if outcomes:
                self._outcomes[key] = outcomes
            else:
                self._outcomes.pop(key, None)
        return touched

    def _note_appeared(
        self,
        before: tuple[workloads.Outcome, ...],
        after: tuple[workloads.Outcome, ...],
    ) -> None:
        known = {(o.policy, f.check, f.path) for o in before for f in o.found}
        self._appeared.extend(
            (outcome, finding)
            for outcome in after
            for finding in outcome.found
            if (outcome.policy, finding.check, finding.path) not in known
        )

    def take_appeared(self) -> list[tuple[workloads.Outcome, findings.Finding]]:
        """Findings that appeared since the last call (a new policy, a changed object)."""
        appeared, self._appeared = self._appeared, []
        return appeared

    # reading -----------------------------------------------------------------------

    @property
    def policies(self) -> tuple[policy.CompiledPolicy, ...]:
        return self._policies

    @property
    def isolation(self) -> policy.Isolation:
        return self._isolation

    @property
    def needs_isolation(self) -> bool:
        """Whether a policy in force judges with the NetworkPolicies (``networkPolicy``)."""
        return any(p.network_isolation is not None for p in self._policies)

    def namespaces(self) -> set[str]:
        """Namespaces with at least one outcome (those that get a report)."""
        return {key[1] for key in self._outcomes}

    def document(self, namespace: str | None, *, cap: int) -> dict[str, Any] | None:
        """The report of ``namespace`` (``None``: the cluster's), or ``None`` when it has none."""
        if namespace is None:
            outcomes = [
                reports.invalid_policy(key, problems)
                for key, problems in self._invalid.items()
                if key.count("/") == 1
            ]
            return reports.document(None, outcomes, cap=cap) if outcomes else None
        keys = self._namespaced.get(namespace, set())
        outcomes = [o for key in sorted(keys) for o in self._outcomes.get(key, ())]
        outcomes.extend(
            reports.invalid_policy(key, problems)
            for key, problems in self._invalid.items()
            if key.startswith(f"{policy.POLICY_KINDS[1]}/{namespace}/")
        )
        if not outcomes:
            return None
        return reports.document(namespace, outcomes, cap=cap)

    # internals ---------------------------------------------------------------------

    def _owner_key(self, workload: workloads.Workload) -> Key:
        assert workload.owner is not None
        return (workload.owner[0], workload.ref.namespace, workload.owner[1])

    def _unlink(self, workload: workloads.Workload) -> None:
        key = workload.ref.key
        members = self._namespaced.get(workload.ref.namespace)
        if members is not None:
            members.discard(key)
            if not members:
                del self._namespaced[workload.ref.namespace]
                self._gone.add(workload.ref.namespace)
        if workload.owner is not None:
            siblings = self._children.get(self._owner_key(workload))
            if siblings is not None:
                siblings.discard(key)
                if not siblings:
                    del self._children[self._owner_key(workload)]

    def _touch(self, key: Key) -> None:
        """Mark ``key`` and everything it (transitively) controls for judging."""
        todo = [key]
        while todo:
            current = todo.pop()
            if current in self._pending:
                continue
            self._pending.add(current)
            todo.extend(self._children.get(current, ()))

    def _top(self, workload: workloads.Workload) -> workloads.Workload | None:
        """The top known controller of ``workload``, or ``None`` when it has none."""
        top: workloads.Workload | None = None
        current = workload
        for _ in range(_MAX_DEPTH):
            if current.owner is None:
                break
            owner = self._objects.get(self._owner_key(current))
            if owner is None:
                break
            top = current = owner
        return top
