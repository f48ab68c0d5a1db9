"""What is known of a namespace's labels, and policies that cannot be matched without more. Pure.

``spec.match.namespaceSelector`` reads the labels of the request's
namespace. The API server sets ``kubernetes.io/metadata.name`` on every
namespace (it cannot be removed or changed), so that label is always known;
the others are known only when someone supplied them: the webhook's
namespace watch or a lookup in cluster mode, ``--namespace-labels`` or a
Namespace object in the input for ``bulkhead check``.

A policy is never matched with labels Bulkhead does not have. When a
selector's answer depends on a label that is not known (``undecided``), the
policy is judged as if it applied: if it would report nothing, the answer
does not matter and it is left out; otherwise it is an ``Undecided`` that
the caller refuses to pass (``bulkhead check`` exits 2, the webhook denies a
``Deny`` policy's request with a message to retry).
"""

from __future__ import annotations

import dataclasses
import datetime
import types
from collections.abc import Mapping, Sequence
from typing import Final

from webhook import policy
from webhook.rules import objectview, podview

#: The label the API server puts on every namespace: its name.
NAME_LABEL: Final = "kubernetes.io/metadata.name"


@dataclasses.dataclass(frozen=True, slots=True)
class NamespaceLabels:
    """The labels of one namespace as far as they are known; ``complete``: all of them."""

    labels: Mapping[str, str]
    complete: bool


def known(namespace: str, labels: Mapping[str, str]) -> NamespaceLabels:
    """Every label of ``namespace`` (the name label as the API server sets it)."""
    return NamespaceLabels(types.MappingProxyType({**labels, NAME_LABEL: namespace}), complete=True)


def assumed(namespace: str) -> NamespaceLabels:
    """Only what every namespace has: its name label."""
    return NamespaceLabels(types.MappingProxyType({NAME_LABEL: namespace}), complete=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Undecided:
    """A policy that would report findings if its ``namespaceSelector`` matched (unknown)."""

    policy: policy.CompiledPolicy
    namespace: str
    missing: tuple[str, ...]
    findings: int

    def describe(self) -> str:
        selector = self.policy.match.namespace_selector
        return (
            f"policy {self.policy.key} ({self.policy.action}) would report {self.findings} "
            f"finding{'s' if self.findings != 1 else ''}, but whether its "
            f"spec.match.namespaceSelector ({selector}) matches namespace {self.namespace!r} "
            f"depends on labels Bulkhead does not know: {', '.join(self.missing)}"
        )


def split(
    policies: Sequence[policy.CompiledPolicy],
    subject: policy.Subject,
    view: podview.PodView | objectview.ObjectView,
    *,
    complete: bool,
    now: datetime.datetime,
    isolation: policy.Isolation = policy.UNKNOWN_ISOLATION,
) -> tuple[list[policy.CompiledPolicy], list[Undecided]]:
    """The policies ``policy.applies`` can decide with ``subject``'s labels, and the undecided.

    With ``complete`` labels every policy is decided. Otherwise a policy whose
    selector reads an unknown label is judged as if it applied and reported
    as ``Undecided`` only when it would find something (``networkPolicy``
    judging with ``isolation``).
    """
    namespace = subject.namespace
    if complete or namespace is None:
        return list(policies), []
    known_keys = frozenset(subject.namespace_labels)
    decided: list[policy.CompiledPolicy] = []
    undecided: list[Undecided] = []
    for compiled in policies:
        selector = compiled.match.namespace_selector
        missing = (
            frozenset()
            if selector is None
            else selector.unknown_keys(subject.namespace_labels, known_keys)
        )
        if not missing:
            decided.append(compiled)
            continue
        as_if_matched = dataclasses.replace(
            compiled, match=dataclasses.replace(compiled.match, namespace_selector=None)
        )
        if not policy.applies(as_if_matched, subject, now=now):
            continue
        found = policy.judge(as_if_matched, view, subject, now=now, isolation=isolation)
        if found:
            undecided.append(Undecided(compiled, namespace, tuple(sorted(missing)), len(found)))
    return decided, undecided
