"""``bulkhead check``: manifests judged offline exactly as the webhook judges them. File I/O.

``judge`` turns one document into a *result* (``webhook.verdicts``) with the
same policies, decision step and messages as the webhook; ``bulkhead test``
(``webhook.suites``) judges with it too. ``check`` reads the manifests
(``-f FILE|DIR|-``) and the policies, optionally verifies image signatures
first (``webhook.imageevidence``), and prints the report as text, JSON,
YAML, SARIF or JUnit (``webhook.reports``). Exit status: 0 when every object
passes (warnings included unless ``--fail-on warn``), 1 when any object
fails, 2 when the input or a policy cannot be used (the message names the
file and document at fault) or holds no object to judge, or when a policy's
``namespaceSelector`` cannot be decided with the namespace labels known
offline (``webhook.admission.namespaces``: the name label,
``--namespace-labels`` and Namespace objects in the input). ``networkPolicy``
judges with the NetworkPolicies of the input (``documents.network_isolation``): a namespace
isolates its Pods only if the input holds its default-deny NetworkPolicy.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
from collections.abc import Mapping, Sequence
from typing import IO, Any, Final

from webhook import (
    admission,
    documents,
    imageevidence,
    policy,
    policyfiles,
    reports,
    settingtable,
    verdicts,
)
from webhook.admission import namespaces as namespace_labels
from webhook.rules import podview

EXIT_OK: Final = 0
EXIT_DENIED: Final = 1
EXIT_UNUSABLE: Final = 2


class UsageError(Exception):
    """Input or settings the command cannot use; exit 2 with this message."""


def pss_latest(text: str) -> int:
    """``--pss-latest``: the minor version ``latest`` stands for."""
    try:
        return settingtable.latest_minor(text)
    except ValueError as err:
        raise UsageError(f"--pss-latest: {err}") from err


def _metadata(body: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = body.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def judge(
    doc: documents.Document,
    policies: Sequence[policy.CompiledPolicy],
    *,
    default_namespace: str,
    known_namespaces: Mapping[str, Mapping[str, str]],
    now: datetime.datetime,
    evidence: policy.EvidenceMap = policy.NO_EVIDENCE,
    isolated: policy.Isolation,
) -> dict[str, Any] | None:
    """``doc`` judged as the webhook would; ``None`` for an object of a kind it does not judge.

    ``isolated`` is what ``documents.network_isolation`` found in the whole input.
    """
    body = doc.body
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in admission.KINDS:
        return None
    metadata = _metadata(body)
    name = str(metadata.get("name") or metadata.get("generateName") or "")
    cluster_scoped = kind in admission.CLUSTER_KINDS
    namespace = "" if cluster_scoped else str(metadata.get("namespace") or default_namespace)
    label = f'{kind} "{name}"' if cluster_scoped else f'{kind} "{namespace}/{name}"'
    try:
        view = admission.view(kind, body)
    except podview.PodSpecError as err:
        raise UsageError(f"{doc.where}: {label}: {err}") from err
    result: dict[str, Any] = {
        "source": doc.source,
        "document": doc.index + 1,
        "item": doc.item,
        "kind": kind,
        "namespace": namespace,
        "name": name,
    }
    if view is None:
        result.update(
            allowed=True, outcome="skipped", undecided=[], message="", warnings=[], violations=[]
        )
        return result
    labels = metadata.get("labels")
    given = known_namespaces.get(namespace)
    known = (
        namespace_labels.assumed(namespace)
        if given is None
        else namespace_labels.known(namespace, given)
    )
    subject = policy.Subject(
        kind=kind,
        namespace=None if cluster_scoped else namespace,
        namespace_labels={} if cluster_scoped else known.labels,
        object_labels=labels if isinstance(labels, Mapping) else {},
        username="",
        groups=(),
    )
    try:
        decided, undecided = namespace_labels.split(
            policies, subject, view, complete=known.complete, now=now, isolation=isolated
        )
        decision = admission.judge_view(
            label, view, subject, decided, now=now, evidence=evidence, isolation=isolated
        )
    except podview.PodSpecError as err:
        raise UsageError(f"{doc.where}: {label}: {err}") from err
    result.update(
        allowed=decision.allowed,
        outcome="undecided" if undecided else decision.outcome,
        undecided=[u.describe() for u in undecided],
        message=decision.message,
        warnings=list(decision.warnings),
        violations=[
            {
                "policy": v.policy,
                "action": v.action,
                "profile": v.profile,
                "check": v.finding.check,
                "path": v.finding.path,
                "container": v.finding.container,
                "message": v.finding.message,
                "fix": v.finding.fix,
            }
            for v in decision.violations
        ],
    )
    return result


def _nothing_to_judge(paths: Sequence[str], docs: Sequence[documents.Document]) -> UsageError:
    """Exit 2 for input with no object to judge, naming what was read."""
    read = ", ".join("standard input" if p == "-" else p for p in paths)
    kinds = sorted({str(d.body.get("kind")) for d in docs})
    found = f"{len(docs)} objects ({', '.join(kinds)})" if docs else "no objects"
    return UsageError(
        f"nothing to judge in {read}: {found}, none of a kind Bulkhead judges "
        f"({', '.join(sorted(admission.KINDS))})"
    )


def check(args: argparse.Namespace, *, stdin: IO[str], out: IO[str]) -> int:
    """``bulkhead check``: judge manifests, print the report, return the exit status."""
    latest_minor = pss_latest(args.pss_latest)
    policies = policyfiles.load(
        args.policy_file, args.profile, latest_minor=latest_minor, stdin=stdin
    )
    now = datetime.datetime.now(datetime.UTC)
    docs = documents.read(args.filename, stdin=stdin)
    known = documents.namespace_labels([*documents.read(args.namespace_labels), *docs])
    evidence = (
        imageevidence.verify(
            docs,
            policies,
            ca_file=args.registry_ca_file,
            timeout=args.registry_timeout,
            credentials_file=args.registry_credentials_file,
        )
        if args.verify_images
        else policy.NO_EVIDENCE
    )
    isolated = documents.network_isolation(docs, default_namespace=args.namespace)
    results: list[dict[str, Any]] = []
    skipped = 0
    for doc in docs:
        result = judge(
            doc,
            policies,
            default_namespace=args.namespace,
            known_namespaces=known,
            now=now,
            evidence=evidence,
            isolated=isolated,
        )
        if result is None:
            skipped += 1
        else:
            results.append(result)
    judged = verdicts.unique(results)
    if not judged:
        raise _nothing_to_judge(args.filename, docs)
    if any(r["undecided"] for r in judged):
        verdict = EXIT_UNUSABLE
    elif any(verdicts.fails(r, fail_on=args.fail_on) for r in judged):
        verdict = EXIT_DENIED
    else:
        verdict = EXIT_OK
    try:
        out.write(reports.render(args.output, judged, skipped=skipped, fail_on=args.fail_on))
        out.flush()
    except BrokenPipeError:
        # The reader stopped reading (``| head``): the verdict stands, the rest is dropped.
        _discard(out)
    return verdict


def _discard(out: IO[str]) -> None:
    """Point ``out``'s file descriptor at /dev/null so the exit-time flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
