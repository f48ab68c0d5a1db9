"""The admission decision: one request and the compiled policies in, one verdict out.

Pure, no I/O; the server only decodes, calls ``decide`` and replies.

What is judged:

* CREATE and UPDATE of the kinds in ``extract.KINDS``, including
  subresources other than Pod Security Admission's skip list (so
  ``pods/ephemeralcontainers`` and any unknown subresource are judged): the
  pod-bearing kinds by their pod spec, and the kinds of the object rules
  (Service, Ingress, RBAC objects) whole. An update of one of those is judged
  when anything but its status or its metadata other than annotations changed.
* The UPDATE rule: an update is judged when it changes anything a check
  reads: the pod spec (the Pod's ``spec`` or a controller's template
  ``spec``, for example a new image or an added ephemeral container) or a
  pod (template) annotation a Pod Security check reads
  (``profiles.reads_annotation``: the AppArmor and seccomp annotations).
  These are exactly the inputs of Pod Security Admission's checks, so every
  update Pod Security Admission finds significant on a Pod (container count,
  an image, an added ephemeral container, a seccomp annotation) is judged,
  and so is an AppArmor annotation added to a template. An update that
  leaves all of them as they were (labels, other annotations, replicas,
  status) is allowed, so objects admitted before a policy existed can still
  be scaled and relabelled. (Pod Security Admission itself re-evaluates
  every controller update, but only to warn: Bulkhead enforces on
  controllers, so it re-judges them on the same inputs as Pods.)
* DELETE of a NetworkPolicy, and an UPDATE of one that changes its spec,
  are judged by ``networkPolicy`` on the object as it was (``oldObject``),
  with the cluster's default-deny NetworkPolicies as they would be once the
  request is done; CREATE of a NetworkPolicy takes no isolation away and is
  not judged. A DELETE without ``oldObject`` cannot be judged and is refused.
* Every other DELETE, and CONNECT, is allowed. ``dryRun`` requests are
  judged like any other.

Every policy that applies is judged on its own: any ``Deny`` violation
refuses the object (403), ``Warn`` violations become warnings, ``Audit``
violations become audit annotations. A pod spec that cannot be read is
refused with 400 naming the field, and so is a field an object rule reads
(a Service's ``spec.externalIPs`` that is no list).
"""

from __future__ import annotations

import dataclasses
import datetime
import types
from collections.abc import Mapping, Sequence
from typing import Any, Final

from webhook import policy
from webhook.admission import extract, messages, namespaces, review, shapes
from webhook.rules import findings, objectview, podview

#: Pod subresources Pod Security Admission never evaluates; every other one is judged.
SKIPPED_SUBRESOURCES: Final = frozenset(
    {"exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status"}
)


_NO_ANNOTATIONS: Final[Mapping[str, str]] = types.MappingProxyType({})


def _no_annotations() -> Mapping[str, str]:
    return _NO_ANNOTATIONS


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one request and why."""

    allowed: bool
    code: int = 200
    message: str = ""
    warnings: tuple[str, ...] = ()
    audit_annotations: Mapping[str, str] = dataclasses.field(default_factory=_no_annotations)
    violations: tuple[messages.Violation, ...] = ()
    judged: bool = True

    @property
    def outcome(self) -> str:
        """``allowed``, ``denied``, ``warned``, ``audited`` or ``skipped`` (for logs, metrics)."""
        if not self.allowed:
            return "denied"
        if not self.judged:
            return "skipped"
        if self.warnings:
            return "warned"
        if self.audit_annotations:
            return "audited"
        return "allowed"

    def to_review(self, uid: str) -> review.ReviewWire:
        return review.response(
            uid,
            allowed=self.allowed,
            code=self.code,
            message=self.message,
            warnings=self.warnings,
            audit_annotations=self.audit_annotations,
        )


#: A policy's actions, in the order of the answer's violations.
_ACTIONS: Final = ("Deny", "Warn", "Audit")

#: The verdict on a request every applicable policy passes (shared: decisions are immutable).
_CLEAN: Final = Decision(allowed=True)


#: The verdict on a request Bulkhead does not judge (see ``skip_reason``).
SKIPPED: Final = Decision(allowed=True, judged=False)


def _labels(obj: Mapping[str, Any] | None) -> Mapping[str, str]:
    metadata = obj.get("metadata") if obj else None
    labels = metadata.get("labels") if shapes.is_object(metadata) else None
    return labels if shapes.is_object(labels) else {}


def _subject(
    request: review.Request, obj: Mapping[str, Any], namespace_labels: Mapping[str, str]
) -> policy.Subject:
    return policy.Subject(
        kind=request.kind,
        namespace=request.namespace,
        namespace_labels=namespace_labels,
        object_labels=_labels(obj),
        username=request.username,
        groups=request.groups,
    )


def _unreadable(label: str, err: podview.PodSpecError) -> Decision:
    return Decision(allowed=False, code=400, message=f"Bulkhead cannot read {label}: {err}")


def skip_reason(request: review.Request) -> str | None:
    """Why ``request`` is not judged at all, or None when it is."""
    if request.kind == policy.network_policy.KIND:
        if request.operation not in ("UPDATE", "DELETE"):
            return f"{request.operation} of a NetworkPolicy takes no isolation away"
    elif request.operation not in ("CREATE", "UPDATE"):
        return f"{request.operation} is not judged"
    if request.subresource in SKIPPED_SUBRESOURCES:
        return f"subresource {request.subresource} is not judged"
    if request.kind not in extract.KINDS:
        return f"kind {request.kind} is not judged"
    if request.operation == "UPDATE" and request.old_object is not None:
        judged = extract.judged_inputs(request.kind, request.object)
        if judged == extract.judged_inputs(request.kind, request.old_object):
            return "the update leaves the pod spec and the annotations checks read unchanged"
    return None


def decide(
    request: review.Request,
    policies: Sequence[policy.CompiledPolicy],
    *,
    namespace_labels: Mapping[str, str],
    now: datetime.datetime,
    namespace_complete: bool = True,
    evidence: policy.EvidenceMap = policy.NO_EVIDENCE,
    cap: int | None = None,
    isolation: policy.Isolation = policy.UNKNOWN_ISOLATION,
) -> Decision:
    """Judge ``request`` against every policy that applies to it.

    ``cap`` bounds the findings of each policy the answer spells out
    (``judge_view``); the verdict does not depend on it.

    ``evidence`` is what the server verified about the images
    ``images_to_verify`` named (``imageSignatures`` denies an image without).
    ``isolation`` is the cluster's default-deny NetworkPolicies as the
    server's cache knows them (``networkPolicy`` fails while unknown).

    ``namespace_complete`` says whether ``namespace_labels`` are all the
    namespace's labels; when not, a policy whose ``namespaceSelector`` would
    need the others is never matched with what is missing
    (``namespaces.split``): a ``Deny`` one refuses the request with code 503
    and a message to retry, a ``Warn`` or ``Audit`` one adds a warning.
    """
    if skip_reason(request) is not None:
        return SKIPPED
    obj = request.object or {}
    if request.kind == policy.network_policy.KIND:
        if request.old_object is None:
            return Decision(
                allowed=False,
                code=400,
                message=f"Bulkhead cannot judge {request.label}: the review has no oldObject",
            )
        after = None if request.operation == "DELETE" else obj
        isolation = isolation.replaced(request.namespace or "", request.name, after)
        obj = request.old_object
    try:
        view = extract.view(request.kind, obj)
    except podview.PodSpecError as err:
        return _unreadable(request.label, err)
    if view is None:
        return SKIPPED
    subject = _subject(request, obj, namespace_labels)
    try:
        decided, undecided = namespaces.split(
            policies, subject, view, complete=namespace_complete, now=now, isolation=isolation
        )
        decision = judge_view(
            request.label,
            view,
            subject,
            decided,
            now=now,
            evidence=evidence,
            cap=cap,
            isolation=isolation,
        )
    except podview.PodSpecError as err:  # an object rule found a field it cannot read
        return _unreadable(request.label, err)
    return _with_undecided(request.label, decision, undecided) if undecided else decision


def images_to_verify(
    request: review.Request,
    policies: Sequence[policy.CompiledPolicy],
    *,
    namespace_labels: Mapping[str, str],
    now: datetime.datetime,
) -> tuple[str, ...]:
    """The images of ``request`` an applicable policy's ``imageSignatures`` check covers.

    What the server must verify against registries before ``decide``; empty
    (and cheap) when no policy checks signatures or the request is not judged.
    A policy whose ``keySecrets`` are not all resolved asks for nothing: it
    fails the images it covers without looking at evidence.
    """
    signing = [
        p for p in policies if p.image_signatures is not None and not p.image_signatures.unresolved
    ]
    if not signing or skip_reason(request) is not None:
        return ()
    obj = request.object or {}
    try:
        view = extract.pod_view(request.kind, obj)
    except podview.PodSpecError:
        return ()  # decide refuses the request for it
    if view is None:
        return ()
    subject = _subject(request, obj, namespace_labels)
    wanted: dict[str, None] = {}
    for compiled in signing:
        settings = compiled.image_signatures
        if settings is None or not policy.applies(compiled, subject, now=now):
            continue
        wanted.update((c.image, None) for c in view.containers if settings.covers(c.image))
    return tuple(wanted)


@dataclasses.dataclass(frozen=True, slots=True)
class PullSecrets:
    """Where the registry credentials of a request's pod spec are named.

    ``names`` are its ``imagePullSecrets``; ``service_account`` is its
    ``serviceAccountName`` (``default`` when unset), whose own
    ``imagePullSecrets`` count when the pod spec names none (as the
    ServiceAccount admission plugin would add them to a Pod).
    """

    namespace: str
    names: tuple[str, ...]
    service_account: str


def pull_secrets(request: review.Request) -> PullSecrets | None:
    """The pull-secret references of ``request``'s pod spec; ``None`` outside a namespace.

    Entries that are not objects with a string ``name`` are left out (the
    pod spec's shape is checked by ``decide``).
    """
    if not request.namespace:
        return None
    try:
        view = extract.pod_view(request.kind, request.object or {})
    except podview.PodSpecError:
        return None
    if view is None:
        return None
    listed = view.spec.get("imagePullSecrets")
    names = tuple(
        entry["name"]
        for entry in (listed if isinstance(listed, list) else ())
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str) and entry["name"]
    )
    account = view.spec.get("serviceAccountName")
    return PullSecrets(
        namespace=request.namespace,
        names=tuple(dict.fromkeys(names)),
        service_account=account if isinstance(account, str) and account else "default",
    )


def _with_undecided(
    label: str, decision: Decision, undecided: Sequence[namespaces.Undecided]
) -> Decision:
    """``decision`` with the policies that could not be matched: never a silent pass."""
    lines = [u.describe() for u in undecided]
    if not any(u.policy.action == "Deny" for u in undecided):
        return dataclasses.replace(
            decision, warnings=(*decision.warnings, *(f"Bulkhead: {line}" for line in lines))
        )
    text = "\n".join(f"  {line}" for line in lines)
    if not decision.allowed:
        return dataclasses.replace(decision, message=f"{decision.message}\n{text}")
    return dataclasses.replace(
        decision,
        allowed=False,
        code=503,
        message=f"Bulkhead cannot judge {label} yet; retry in a few seconds "
        f"(the namespace's labels have not reached Bulkhead):\n{text}",
    )


def judge_view(
    label: str,
    view: podview.PodView | objectview.ObjectView,
    subject: policy.Subject,
    policies: Sequence[policy.CompiledPolicy],
    *,
    now: datetime.datetime,
    evidence: policy.EvidenceMap = policy.NO_EVIDENCE,
    cap: int | None = None,
    isolation: policy.Isolation = policy.UNKNOWN_ISOLATION,
) -> Decision:
    """Judge one view for ``subject``; shared by admission and ``bulkhead check``.

    ``evidence`` carries the image verifications ``imageSignatures`` needs,
    ``isolation`` the default-deny NetworkPolicies ``networkPolicy`` needs.
    ``cap`` (admission's answer, not ``bulkhead check``) keeps the first
    ``cap`` findings of each policy as violations and summarises the rest in
    one line per policy (``messages.Omitted``), judging no further check of a
    policy past it; ``allowed``, the code and which actions apply are exactly
    what ``cap=None`` decides.
    """
    # by action: its three lists made only when a policy reports something (most reviews:
    # nothing); an action outside them is a KeyError, so the review is refused, never passed
    sinks: dict[str, list[messages.Violation]] = {}
    omitted: dict[str, list[messages.Omitted]] = {}
    for compiled in policies:
        if not policy.applies(compiled, subject, now=now):
            continue
        if cap is None:
            found: Sequence[findings.Finding] = policy.judge(
                compiled, view, subject, now=now, evidence=evidence, isolation=isolation
            )
        else:
            first = policy.judge_first(
                compiled,
                view,
                subject,
                limit=cap,
                now=now,
                evidence=evidence,
                isolation=isolation,
            )
            found = first.shown
            if first.more:
                omitted.setdefault(compiled.action, []).append(
                    messages.Omitted(
                        policy=compiled.key,
                        action=compiled.action,
                        count=first.more,
                        checks=first.more_checks,
                        stopped=first.stopped,
                    )
                )
        if not found:
            continue
        profile = compiled.profile.label if compiled.profile is not None else None
        key, action = compiled.key, compiled.action  # once per policy, not per finding
        if not sinks:
            sinks.update((name, []) for name in _ACTIONS)
        sinks[action].extend(
            [
                messages.Violation(policy=key, action=action, profile=profile, finding=f)
                for f in found
            ]
        )
    if not sinks:
        return _CLEAN
    denied, warned, audited = (sinks[name] for name in _ACTIONS)
    warnings = messages.warnings(warned, omitted=omitted.get("Warn", []))
    annotations = messages.audit_annotations(audited, omitted=omitted.get("Audit", []))
    everything = (*denied, *warned, *audited)
    if denied:
        return Decision(
            allowed=False,
            code=403,
            message=messages.denial(
                label,
                denied,
                whole=view.kind if isinstance(view, objectview.ObjectView) else "pod",
                omitted=omitted.get("Deny", []),
            ),
            warnings=warnings,
            audit_annotations=annotations,
            violations=everything,
        )
    return Decision(
        allowed=True, warnings=warnings, audit_annotations=annotations, violations=everything
    )
