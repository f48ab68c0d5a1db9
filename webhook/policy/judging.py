"""Judging one pod view under one compiled policy. Pure, no I/O.

``judge`` runs the policy's Pod Security profile (if any), naming its
findings ``pss/<upstream check id>`` (``model.POD_SECURITY_PREFIX``), then
every bound rule, and drops the findings a live exclusion entry exempts. An
object view (a Service, an Ingress, an RBAC object) gets the policy's object
rules that judge its kind instead; a NetworkPolicy view (the object a
request removes or changes) gets the policy's ``networkPolicy`` check, and
a pod view that check of its namespace. It does not ask whether the policy
applies to the request at all: that is ``matching.applies``, asked once per
request before any pod spec is judged.

``judge_first`` is the same judgement for an answer of bounded size: it keeps
the first ``limit`` findings, counts the others with their check ids, and
runs no further check once it holds more than ``limit`` (whether the policy
reports anything, all the verdict needs, is settled by then).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Final, NamedTuple

from webhook.policy import exclusions, model, network_policy, signatures
from webhook.rules import findings, objectview, podview


class FirstFindings(NamedTuple):
    """The first findings of one policy on one view, and what is known of the others.

    ``more`` counts the findings after ``shown``, ``more_checks`` names their
    check ids in order of first report; when ``stopped``, checks were left
    unrun once more than the limit were found, so ``more`` is a lower bound.
    (Immutable; a named tuple, as it is built for every policy of every review.)
    """

    shown: tuple[findings.Finding, ...]
    more: int = 0
    more_checks: tuple[str, ...] = ()
    stopped: bool = False


#: What ``judge_first`` finds on a view the policy passes (shared: it is immutable).
_NOTHING: Final = FirstFindings(())


def _batches(
    compiled: model.CompiledPolicy,
    pod: podview.PodView | objectview.ObjectView,
    subject: model.Subject,
    *,
    evidence: signatures.EvidenceMap,
    isolation: network_policy.Isolation,
    now: datetime.datetime,
) -> Iterator[list[findings.Finding]]:
    """The findings of each check of ``compiled`` in report order, one list per check.

    ``_check_count`` says how many lists that is; keep the two in step.
    """
    settings = compiled.network_isolation
    if isinstance(pod, objectview.ObjectView):
        for object_check in compiled.object_checks:
            if pod.kind in object_check.kinds:
                yield object_check.run(pod)
        if pod.kind == network_policy.KIND and settings is not None and subject.namespace:
            yield network_policy.check_change(settings, pod, subject.namespace, isolation)
        return
    if compiled.profile is not None:
        prefix = model.POD_SECURITY_PREFIX
        for evaluate in compiled.profile.evaluators:
            found = evaluate(pod)
            # built directly: ``dataclasses.replace`` costs several times more per finding
            yield (
                [
                    findings.Finding(
                        check=prefix + f.check,
                        path=f.path,
                        message=f.message,
                        fix=f.fix,
                        container=f.container,
                        image=f.image,
                    )
                    for f in found
                ]
                if found
                else []
            )
    for check in compiled.checks:
        yield check.run(pod)
    if compiled.image_signatures is not None:
        yield signatures.check(compiled.image_signatures, pod, evidence, now=now)
    if settings is not None and subject.namespace:
        yield network_policy.check(settings, subject.namespace, isolation)


def _check_count(
    compiled: model.CompiledPolicy,
    pod: podview.PodView | objectview.ObjectView,
    subject: model.Subject,
) -> int:
    """How many lists ``_batches`` yields for ``pod``."""
    isolated = compiled.network_isolation is not None and bool(subject.namespace)
    if isinstance(pod, objectview.ObjectView):
        objects = sum(1 for c in compiled.object_checks if pod.kind in c.kinds)
        return objects + (isolated and pod.kind == network_policy.KIND)
    pss = len(compiled.profile.evaluators) if compiled.profile is not None else 0
    return pss + len(compiled.checks) + (compiled.image_signatures is not None) + isolated


def judge(
    compiled: model.CompiledPolicy,
    pod: podview.PodView | objectview.ObjectView,
    subject: model.Subject,
    *,
    now: datetime.datetime,
    evidence: signatures.EvidenceMap = signatures.NO_EVIDENCE,
    isolation: network_policy.Isolation = network_policy.UNKNOWN,
) -> list[findings.Finding]:
    """Every finding of ``compiled`` on ``pod`` that no exclusion entry exempts.

    ``evidence`` is what the I/O layer verified about the pod's images, for
    ``imageSignatures``; an image it does not cover fails that check.
    ``isolation`` is the cluster's default-deny NetworkPolicies as they will
    be once the request is done, for ``networkPolicy`` (unknown: it fails).
    """
    found: list[findings.Finding] = []
    for batch in _batches(compiled, pod, subject, evidence=evidence, isolation=isolation, now=now):
        if batch:
            found.extend(batch)
    if not found or not compiled.exclusions:
        return found
    return exclusions.drop_excluded(found, compiled.exclusions, subject=subject, now=now)


def judge_first(
    compiled: model.CompiledPolicy,
    pod: podview.PodView | objectview.ObjectView,
    subject: model.Subject,
    *,
    limit: int,
    now: datetime.datetime,
    evidence: signatures.EvidenceMap = signatures.NO_EVIDENCE,
    isolation: network_policy.Isolation = network_policy.UNKNOWN,
) -> FirstFindings:
    """The first ``limit`` findings ``judge`` reports, the others counted, not kept.

    The policy reports something exactly when ``judge`` does; checks after the
    one that takes the count past ``limit`` are not run. ``limit`` is at least 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    shown: list[findings.Finding] = []
    more = 0
    more_checks: dict[str, None] = {}
    excluding = compiled.exclusions
    for index, reported in enumerate(
        _batches(compiled, pod, subject, evidence=evidence, isolation=isolation, now=now)
    ):
        if not reported:  # most checks find nothing
            continue
        batch = (
            exclusions.drop_excluded(reported, excluding, subject=subject, now=now)
            if excluding
            else reported
        )
        if not batch:
            continue
        room = limit - len(shown)
        shown.extend(batch[:room])
        if len(batch) > room:
            rest = batch[room:]
            more += len(rest)
            more_checks.update(dict.fromkeys(f.check for f in rest))
            if index < _check_count(compiled, pod, subject) - 1:
                return FirstFindings(tuple(shown), more, tuple(more_checks), stopped=True)
    if not shown:
        return _NOTHING
    return FirstFindings(tuple(shown), more, tuple(more_checks))
