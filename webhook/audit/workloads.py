"""What the audit keeps of one workload and what it finds on it. Pure, no I/O.

``Workload.of(obj)`` keeps of a Pod or pod-bearing controller only what
judging needs: its reference, labels, controlling owner and its pod template
as compact JSON (so 5,000 Pods cost a few megabytes, not a copy of every
object). ``judge`` runs the admission engine on it (``policy.applies`` and
``policy.judge``, the same functions and the same compiled policies as the
webhook) and returns one ``Outcome`` per policy that matches it.

Attribution: a Pod created by a ReplicaSet of a Deployment is reported on
the Deployment (its *top* controller, followed through ``ownerReferences``
while the owner is known). A policy that applies to the top controller
judges only it: its Pods came from its template, so one bad Deployment is
one result, not one per replica. A policy that applies to the Pods but not
to their controller (``match.kinds: [Pod]``, an object selector only the
Pods carry) judges the Pods and reports the findings on the top controller,
with ``via`` naming the Pod; replicas with the same finding merge into one
result in the report.

Requests have a user, objects at rest do not: exclusions by ``usernames``
or ``groups`` never match in the audit, so an object admitted under such an
exclusion is reported.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from webhook import admission, policy
from webhook.admission import extract
from webhook.rules import findings, podview

Status = Literal["pass", "fail", "warn", "skip", "error"]

#: What each policy action makes of a finding in a report: result and severity.
RESULTS: Final[Mapping[str, Status]] = {"Deny": "fail", "Warn": "warn", "Audit": "warn"}
SEVERITIES: Final[Mapping[str, str]] = {"Deny": "high", "Warn": "medium", "Audit": "low"}

#: kind -> apiVersion, for references in reports.
API_VERSIONS: Final[Mapping[str, str]] = {
    "Pod": "v1",
    "PodTemplate": "v1",
    "ReplicationController": "v1",
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class Ref:
    """One object: ``kind``, ``namespace``, ``name`` (and ``uid`` when known)."""

    kind: str
    namespace: str
    name: str
    uid: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclasses.dataclass(frozen=True, slots=True)
class Workload:
    """A Pod or controller as the audit keeps it."""

    ref: Ref
    labels: Mapping[str, str]
    #: The controlling owner's (kind, name) in the same namespace, if any.
    owner: tuple[str, str] | None
    #: The object cut down to its pod template, as compact JSON.
    template: bytes

    @classmethod
    def of(cls, kind: str, obj: Mapping[str, Any]) -> Workload:
        metadata = obj.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        labels = metadata.get("labels")
        owner = None
        owners = metadata.get("ownerReferences")
        for entry in owners if isinstance(owners, list) else ():
            if isinstance(entry, Mapping) and entry.get("controller") is True:
                owner = (str(entry.get("kind") or ""), str(entry.get("name") or ""))
        return cls(
            ref=Ref(
                kind=kind,
                namespace=str(metadata.get("namespace") or ""),
                name=str(metadata.get("name") or ""),
                uid=str(metadata.get("uid") or ""),
            ),
            labels=(
                {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}
            ),
            owner=owner,
            template=json.dumps(_trim(kind, obj), separators=(",", ":")).encode(),
        )

    def view(self) -> podview.PodView | None:
        """The pod view of the template (``podview.PodSpecError`` when it is broken)."""
        return admission.pod_view(self.ref.kind, json.loads(self.template))


#: What the audit keeps of an object's own metadata.
_KEPT_METADATA: Final = ("name", "namespace", "uid", "labels", "ownerReferences")


def slim(kind: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` reduced to what ``Workload.of`` reads (the same workload comes out of both).

    Applied to every listed object as it arrives, so listing 5,000 Pods never
    holds 5,000 whole Pods (managed fields, status) at once.
    """
    trimmed = _trim(kind, obj)
    metadata = obj.get("metadata")
    if not isinstance(trimmed, dict) or not isinstance(metadata, Mapping):
        return dict(obj)  # an odd shape is kept whole; judging it reports the problem
    kept = {key: metadata[key] for key in _KEPT_METADATA if key in metadata}
    if not extract.TEMPLATE_PATHS.get(kind):  # a Pod: its annotations are the template's
        kept["annotations"] = metadata.get("annotations")
    return {**trimmed, "metadata": kept}


def _trim(kind: str, obj: Mapping[str, Any]) -> object:
    """``obj`` cut down to the path of its pod template, the template to spec and annotations.

    A step that is not an object is kept as it is, so reading the view later
    fails with the same error admission would give.
    """
    keys = extract.TEMPLATE_PATHS.get(kind, ())
    chain: list[object] = [obj]
    for key in keys:
        parent = chain[-1]
        if not isinstance(parent, Mapping):
            break
        chain.append(parent.get(key))
    node = chain[-1]
    if len(chain) == len(keys) + 1 and isinstance(node, Mapping):
        metadata = node.get("metadata")
        node = {
            "spec": node.get("spec"),
            "metadata": (
                {"annotations": metadata.get("annotations")}
                if isinstance(metadata, Mapping)
                else metadata
            ),
        }
    for key in reversed(keys[: len(chain) - 1]):
        node = {key: node}
    return node


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """One policy's verdict on one reported object.

    ``status`` is ``pass`` (matched, nothing found), ``skip`` (matched but
    exempted by a whole-object exclusion), ``error`` (the pod spec cannot be
    read; ``error`` says why) or ``fail``/``warn`` with ``found``.
    """

    policy: str
    action: str
    reported: Ref
    status: Status
    found: tuple[findings.Finding, ...] = ()
    via: Ref | None = None
    error: str = ""


def subject(workload: Workload, namespace_labels: Mapping[str, str]) -> policy.Subject:
    """The admission subject of an object at rest (no user)."""
    return policy.Subject(
        kind=workload.ref.kind,
        namespace=workload.ref.namespace,
        namespace_labels=namespace_labels,
        object_labels=workload.labels,
    )


def judge(
    workload: Workload,
    *,
    top: Workload | None,
    policies: Sequence[policy.CompiledPolicy],
    namespace_labels: Mapping[str, str],
    now: datetime.datetime,
    isolation: policy.Isolation = policy.UNKNOWN_ISOLATION,
) -> tuple[Outcome, ...]:
    """Every policy's outcome on ``workload``, reported on ``top`` when it has one.

    ``isolation`` is the cluster's default-deny NetworkPolicies (``networkPolicy``).
    """
    mine = subject(workload, namespace_labels)
    theirs = subject(top, namespace_labels) if top is not None else None
    reported = top.ref if top is not None else workload.ref
    via = workload.ref if top is not None else None
    view: podview.PodView | None = None
    broken = ""
    read = False
    out: list[Outcome] = []
    for compiled in policies:
        if theirs is not None and policy.applies(compiled, theirs, now=now):
            continue  # the controller's own judgement covers its template
        if not policy.applies(compiled, mine, now=now):
            if compiled.exclusions and policy.applies(
                dataclasses.replace(compiled, exclusions=()), mine, now=now
            ):
                out.append(Outcome(compiled.key, compiled.action, reported, "skip", via=via))
            continue
        if not read:
            read = True
            try:
                view = workload.view()
            except podview.PodSpecError as err:
                broken = str(err)
        if broken:
            out.append(
                Outcome(compiled.key, compiled.action, reported, "error", via=via, error=broken)
            )
            continue
        if view is None:
            continue
        found = policy.judge(compiled, view, mine, now=now, isolation=isolation)
        status: Status = RESULTS[compiled.action] if found else "pass"
        out.append(Outcome(compiled.key, compiled.action, reported, status, tuple(found), via))
    return tuple(out)
