"""Judging one pod view under one compiled policy. Pure, no I/O.

``judge`` runs the policy's Pod Security profile (if any), naming its
findings ``pss/<upstream check id>`` (``model.POD_SECURITY_PREFIX``), then
every bound rule, and drops the findings a live exclusion entry exempts. An
object view (a Service, an Ingress, an RBAC object) gets the policy's object
rules that judge its kind instead. It does not ask whether the policy
applies to the request at all: that is ``matching.applies``, asked once per
request before any pod spec is judged.
"""

from __future__ import annotations

import datetime

from webhook.policy import exclusions, model, signatures
from webhook.rules import findings, objectview, podview


def judge(
    compiled: model.CompiledPolicy,
    pod: podview.PodView | objectview.ObjectView,
    subject: model.Subject,
    *,
    now: datetime.datetime,
    evidence: signatures.EvidenceMap = signatures.NO_EVIDENCE,
) -> list[findings.Finding]:
    """Every finding of ``compiled`` on ``pod`` that no exclusion entry exempts.

    ``evidence`` is what the I/O layer verified about the pod's images, for
    ``imageSignatures``; an image it does not cover fails that check.
    """
    found: list[findings.Finding] = []
    if isinstance(pod, objectview.ObjectView):
        for object_check in compiled.object_checks:
            if pod.kind in object_check.kinds:
                found.extend(object_check.run(pod))
    else:
        if compiled.profile is not None:
            prefix = model.POD_SECURITY_PREFIX
            # built directly: ``dataclasses.replace`` costs several times more per finding
            found.extend(
                [
                    findings.Finding(
                        check=prefix + f.check,
                        path=f.path,
                        message=f.message,
                        fix=f.fix,
                        container=f.container,
                        image=f.image,
                    )
                    for f in compiled.profile.evaluate(pod)
                ]
            )
        for check in compiled.checks:
            more = check.run(pod)
            if more:
                found.extend(more)
        if compiled.image_signatures is not None:
            found.extend(signatures.check(compiled.image_signatures, pod, evidence, now=now))
    if not found or not compiled.exclusions:
        return found
    return exclusions.drop_excluded(found, compiled.exclusions, subject=subject, now=now)
