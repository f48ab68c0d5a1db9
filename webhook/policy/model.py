"""The policy vocabulary and the compiled values a policy becomes. Pure values, no I/O.

``CompiledPolicy`` is what ``compiler.compile`` makes of a
``ClusterContainerPolicy`` or ``ContainerPolicy`` document and what
``matching.applies`` and ``judging.judge`` act on; ``Subject`` is the part
of an admission request those two need (who submits what, where).
"""

from __future__ import annotations

import dataclasses
import datetime
import types
from collections.abc import Mapping
from typing import Any, Final, Literal, NamedTuple

from webhook import profiles, rules
from webhook.policy import network_policy, patterns, selectors, signatures
from webhook.rules import registry

GROUP: Final = "bulkhead.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"

PolicyKind = Literal["ClusterContainerPolicy", "ContainerPolicy"]
CLUSTER_KIND: Final = "ClusterContainerPolicy"
NAMESPACED_KIND: Final = "ContainerPolicy"
POLICY_KINDS: Final[tuple[PolicyKind, ...]] = ("ClusterContainerPolicy", "ContainerPolicy")

Action = Literal["Deny", "Warn", "Audit"]
ACTIONS: Final[tuple[Action, ...]] = ("Deny", "Warn", "Audit")
DEFAULT_ACTION: Final[Action] = "Deny"

#: The kinds of submitted objects a policy can match (``spec.match.kinds``).
WORKLOAD_KINDS: Final[tuple[str, ...]] = (
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
    "PodTemplate",
)

#: Every kind ``spec.match.kinds`` may name: the pod-bearing kinds, then those
#: only the object rules judge (``rules.OBJECT_KINDS``: Service, Ingress, RBAC),
#: and NetworkPolicy, whose deletion ``networkPolicy`` judges.
MATCH_KINDS: Final[tuple[str, ...]] = (*WORKLOAD_KINDS, *rules.OBJECT_KINDS, network_policy.KIND)

#: The keys of ``spec.rules``: Bulkhead's own checks, and ``imageSignatures`` and
#: ``networkPolicy``, whose verdicts need evidence gathered outside the pure core
#: (``signatures``, ``network_policy``).
RULE_IDS: Final[tuple[str, ...]] = tuple(sorted((*rules.RULES, signatures.ID, network_policy.ID)))

#: Pod Security check ids live in their own namespace of check ids: ``pss/<upstream id>``,
#: in messages, metrics, audit annotations and ``exclude[].checks``, so none of them can
#: be mistaken for (or exempted with) a Bulkhead rule id of the same name (``privileged``).
POD_SECURITY_PREFIX: Final = "pss/"
#: The Pod Security Standards check ids an exclusion may name under ``checks``.
POD_SECURITY_CHECK_IDS: Final[frozenset[str]] = frozenset(
    POD_SECURITY_PREFIX + check_id for check_id in profiles.CHECKS
)


_NO_LABELS: Final[Mapping[str, str]] = types.MappingProxyType({})


class Subject(NamedTuple):
    """What an admission request submits, where and by whom (immutable; built per review).

    ``kind`` is the submitted object's kind (``Deployment``), ``namespace``
    its namespace (``None`` for a cluster-scoped object), the label maps
    those of its namespace and of the object itself, and ``username`` and
    ``groups`` the requesting user's.
    """

    kind: str
    namespace: str | None
    namespace_labels: Mapping[str, str] = _NO_LABELS
    object_labels: Mapping[str, str] = _NO_LABELS
    username: str = ""
    groups: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Match:
    """``spec.match``: each part left out (``None``) matches everything."""

    kinds: frozenset[str] | None = None
    namespaces: patterns.Patterns | None = None
    namespace_selector: selectors.LabelSelector | None = None
    object_selector: selectors.LabelSelector | None = None


#: ``spec.match`` left out: everything.
MATCH_EVERYTHING: Final = Match()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Exclusion:
    """One ``spec.exclude`` entry: it exempts when every selector it gives matches.

    ``namespaces``, ``usernames`` and ``groups`` select requests;
    ``images``, ``containers`` and ``checks`` select findings. An entry with
    none of the finding selectors (``whole_request``) exempts the whole
    request from the policy. ``expires`` is the instant from which the entry
    no longer applies (``None``: never).
    """

    index: int
    namespaces: patterns.Patterns | None = None
    usernames: patterns.Patterns | None = None
    groups: patterns.Patterns | None = None
    images: patterns.Patterns | None = None
    containers: patterns.Patterns | None = None
    checks: frozenset[str] | None = None
    reason: str = ""
    expires: datetime.datetime | None = None

    @property
    def whole_request(self) -> bool:
        return self.images is None and self.containers is None and self.checks is None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CompiledPolicy:
    """A valid policy, ready to match requests and judge pod views.

    ``profile`` is the built-in Pod Security Standard (``None`` when the
    policy sets none), ``checks`` the enabled pod rules of ``spec.rules`` in rule
    id order, ``object_checks`` the enabled object rules (Service, Ingress,
    RBAC), ``image_signatures`` and ``network_isolation`` the checks that judge
    with evidence, ``generation`` the document's ``metadata.generation`` when it has
    one (the operator reports it as ``observedGeneration``), ``uid`` its
    ``metadata.uid`` when it has one (Events about the policy name it).
    """

    kind: PolicyKind
    name: str
    namespace: str | None
    action: Action
    profile: profiles.Profile | None
    checks: tuple[registry.BoundCheck, ...]
    object_checks: tuple[registry.BoundObjectCheck, ...] = ()
    image_signatures: signatures.Settings | None = None
    network_isolation: network_policy.Settings | None = None
    generation: int | None = None
    uid: str | None = None
    match: Match = MATCH_EVERYTHING
    exclusions: tuple[Exclusion, ...] = ()

    @property
    def key(self) -> str:
        """``ClusterContainerPolicy/<name>`` or ``ContainerPolicy/<namespace>/<name>``."""
        if self.namespace is None:
            return f"{self.kind}/{self.name}"
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of every enabled check of ``spec.rules``, sorted."""
        evidence = (
            *((signatures.ID,) if self.image_signatures is not None else ()),
            *((network_policy.ID,) if self.network_isolation is not None else ()),
        )
        return tuple(
            sorted((*(c.id for c in self.checks), *(c.id for c in self.object_checks), *evidence))
        )


def policy_key(document: Mapping[str, Any]) -> str:
    """A policy document's key, as ``CompiledPolicy.key`` names the policy it compiles to.

    ``ClusterContainerPolicy/<name>`` or ``ContainerPolicy/<namespace>/<name>``.
    """
    metadata = document.get("metadata") if isinstance(document.get("metadata"), Mapping) else {}
    kind = str(document.get("kind") or "")
    name = str((metadata or {}).get("name") or "")
    namespace = (metadata or {}).get("namespace")
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
