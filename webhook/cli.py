"""The ``bulkhead`` command: check, test, serve, operator, completion and version.

``bulkhead check -f FILE|DIR|-`` judges manifests offline with the same
policies, decision step and messages as the webhook, and prints them as
text, JSON, YAML, SARIF or JUnit (``webhook.reports``). Exit status: 0 when
every object passes (warnings included unless ``--fail-on warn``), 1 when
any object fails, 2 when the input or a policy cannot be used (the message
names the file and document at fault) or holds no object to judge, or when
a policy's ``namespaceSelector`` cannot be decided with the namespace labels
known offline (``webhook.admission.namespaces``: the name label,
``--namespace-labels`` and Namespace objects in the input). With
``--verify-images`` it first verifies, against their registries, the image
signatures that ``imageSignatures`` rules require (``webhook.supplychain``)
and judges with that evidence.

``bulkhead test DIR`` runs policy test suites (``webhook.suites``) with the
same judging; ``bulkhead completion SHELL`` prints a completion script
(``webhook.shellcompletion``).

``bulkhead serve`` runs the admission webhook (see ``webhook.server``); its
flags only fill ``webhook.server.resolve``, which also reads ``BULKHEAD_*``.

``bulkhead operator`` runs the kopf operator (see ``webhook.operator``):
policy status, the webhook's certificates and caBundle; its flags likewise
only fill ``webhook.operator.resolve``.

``bulkhead audit`` judges what already runs (a live cluster, files, or
``--watch`` as the background audit writing PolicyReports; see
``webhook.audit.command``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any, Final

import webhook
from webhook import (
    admission,
    documents,
    operator,
    policy,
    policyfiles,
    profiles,
    reports,
    settingsources,
    shellcompletion,
    suites,
    supplychain,
    verdicts,
)
from webhook.admission import namespaces as namespace_labels
from webhook.audit import flags
from webhook.rules import podview

EXIT_OK: Final = 0
EXIT_DENIED: Final = 1
EXIT_UNUSABLE: Final = 2


class UsageError(Exception):
    """Input or settings the command cannot use; exit 2 with this message."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bulkhead", description="Keep insecure containers out of a Kubernetes cluster."
    )
    parser.add_argument("--version", action="version", version=f"bulkhead {webhook.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="judge manifests offline",
        description="Judge Kubernetes manifests against Bulkhead policies or a built-in "
        "Pod Security Standard. Exit 0: all pass; 1: something is denied (or warned, with "
        "--fail-on warn); 2: unusable input, or no object to judge.",
    )
    check.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        metavar="PATH",
        help="a YAML/JSON file, a directory, or - for stdin (repeatable)",
    )
    check.add_argument(
        "--policy-file",
        action="append",
        default=[],
        metavar="PATH",
        help="ClusterContainerPolicy/ContainerPolicy YAML file or directory (repeatable)",
    )
    check.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="LEVEL[:VERSION]",
        help="enforce a built-in Pod Security Standard as a Deny policy, "
        "e.g. restricted or baseline:v1.30 (repeatable)",
    )
    _pss_latest_argument(check)
    check.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace for objects that name none (default: %(default)s)",
    )
    check.add_argument(
        "--namespace-labels",
        action="append",
        default=[],
        metavar="FILE",
        help="Namespace objects whose labels namespaceSelector reads, e.g. the output of "
        "'kubectl get namespaces -o yaml' (repeatable; Namespaces in -f count too)",
    )
    check.add_argument(
        "-o",
        "--output",
        choices=reports.FORMATS,
        default="text",
        help="report format (default: %(default)s); sarif and junit are for CI",
    )
    check.add_argument(
        "--fail-on",
        choices=verdicts.FAIL_ON,
        default="deny",
        help="exit 1 when an object is denied (deny, the default) or also when a Warn "
        "policy reports it (warn)",
    )
    check.add_argument(
        "--verify-images",
        action="store_true",
        help="verify the cosign signatures that imageSignatures checks require, "
        "against the images' registries (HTTPS)",
    )
    check.add_argument(
        "--registry-ca-file",
        metavar="FILE",
        help="with --verify-images: PEM CA bundle to trust for registries "
        "(default: the system store)",
    )
    check.add_argument(
        "--registry-credentials-file",
        metavar="FILE",
        help="with --verify-images: registry credentials, a Docker config file "
        "(.dockerconfigjson; default: anonymous)",
    )
    check.add_argument(
        "--registry-timeout",
        type=float,
        default=supplychain.registry.DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="with --verify-images: limit for each registry request (default: %(default)s)",
    )
    _test_parser(commands)
    _serve_parser(commands)
    operator.add_arguments(
        commands.add_parser(
            "operator",
            help="run the operator (policy status, webhook TLS and caBundle)",
            description="Keep every policy's status, the webhook's CA and serving certificate "
            "and its caBundle. Every flag can also be set as BULKHEAD_<FLAG>; flags win.",
        )
    )
    flags.add_arguments(
        commands.add_parser(
            "audit",
            help="report what already breaks a policy (files, a live cluster, or --watch)",
            description="Judge existing workloads with the same policies as admission and "
            "print PolicyReports, or with --watch keep them written in the cluster. "
            "Exit 0: no fail result; 1: some; 2: unusable input.",
        )
    )
    commands.add_parser("version", help="print the version")
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script",
        description="Print the completion script for bash, zsh or fish; see docs/cli.md.",
    )
    completion.add_argument("shell", choices=shellcompletion.SHELLS)
    return parser


def _pss_latest_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pss-latest",
        default=f"v1.{profiles.DEFAULT_LATEST_MINOR}",
        metavar="v1.N",
        help="the policy version 'latest' means (default: %(default)s)",
    )


def _test_parser(commands: Any) -> None:
    test = commands.add_parser(
        "test",
        help="run policy test suites (bulkhead-test.yaml)",
        description="Run every bulkhead-test.yaml under the given paths: judge its resources "
        "with its policies and compare each expected verdict. Exit 0: all as expected; "
        "1: some verdict differs; 2: a suite cannot be used.",
    )
    test.add_argument(
        "path", nargs="+", metavar="DIR", help="a directory (searched for suites) or a suite file"
    )
    _pss_latest_argument(test)
    test.add_argument(
        "-o",
        "--output",
        choices=("text", "junit"),
        default="text",
        help="report format (default: %(default)s)",
    )


def _serve_parser(commands: Any) -> None:
    """``serve`` flags; every default is None so ``server.resolve`` knows what was given."""
    serve = commands.add_parser(
        "serve",
        help="run the admission webhook (HTTPS)",
        description="Serve AdmissionReview v1 on POST /validate over HTTPS. Every flag can "
        "also be set as BULKHEAD_<FLAG> (for example BULKHEAD_PORT); flags win.",
    )
    serve.add_argument("--tls-cert-file", metavar="FILE", help="serving certificate (PEM)")
    serve.add_argument("--tls-private-key-file", metavar="FILE", help="its private key (PEM)")
    serve.add_argument(
        "--client-ca-file", metavar="FILE", help="require client certificates from this CA"
    )
    serve.add_argument(
        "--policy-file",
        action="append",
        metavar="PATH",
        help="policy YAML file or directory, reloaded on change (repeatable)",
    )
    serve.add_argument(
        "--profile",
        action="append",
        metavar="LEVEL[:VERSION]",
        help="enforce a built-in Pod Security Standard as a Deny policy (repeatable)",
    )
    serve.add_argument(
        "--kubeconfig",
        metavar="FILE",
        help="with no --policy-file/--profile: watch the cluster's policies with this "
        "kubeconfig (default: the in-cluster service account)",
    )
    serve.add_argument("--pss-latest", metavar="v1.N", help="what 'latest' means")
    serve.add_argument("--address", help="listen address (default 0.0.0.0)")
    serve.add_argument("--port", help="listen port (default 8443; 0 picks a free one)")
    serve.add_argument("--reload-interval", metavar="SECONDS", help="file poll period (1)")
    serve.add_argument("--shutdown-timeout", metavar="SECONDS", help="drain limit (25)")
    serve.add_argument(
        "--drain-grace",
        metavar="SECONDS",
        help="after SIGTERM, how long idle connections stay open for a last request (2)",
    )
    serve.add_argument("--probe-port", help="plain-HTTP port of /healthz, /readyz, /metrics (8080)")
    serve.add_argument("--workers", metavar="N", help="worker processes (one per usable CPU)")
    serve.add_argument(
        "--worker-memory-mib", metavar="MIB", help="a worker above this peak is replaced (176)"
    )
    serve.add_argument(
        "--decision-timeout", metavar="SECONDS", help="deny a review not judged in time (4)"
    )
    serve.add_argument(
        "--registry-timeout",
        metavar="SECONDS",
        help="imageSignatures: limit for verifying one review's images, below "
        "--decision-timeout (half of it)",
    )
    serve.add_argument(
        "--registry-ca-file",
        metavar="FILE",
        help="imageSignatures: PEM CA bundle trusted for registries (default: the system store)",
    )
    serve.add_argument(
        "--registry-credentials-file",
        metavar="FILE",
        help="imageSignatures: registry credentials, a Docker config file "
        "(.dockerconfigjson; default: anonymous)",
    )
    serve.add_argument("--handshake-timeout", metavar="SECONDS", help="TLS handshake limit (10)")
    serve.add_argument("--header-timeout", metavar="SECONDS", help="request headers limit (10)")
    serve.add_argument("--body-timeout", metavar="SECONDS", help="request body limit (10)")
    serve.add_argument("--idle-timeout", metavar="SECONDS", help="keep-alive idle limit (120)")
    serve.add_argument("--max-connections", metavar="N", help="open connections (1024)")
    serve.add_argument(
        "--body-budget-mib", metavar="MIB", help="request bodies held at once, all clients (64)"
    )
    serve.add_argument("--log-level", help="debug, info, warning or error (info)")
    serve.add_argument(
        "--enable-noop-endpoint",
        action="store_const",
        const="true",
        help="also serve POST /noop (benchmarks only)",
    )


def _serve(args: argparse.Namespace) -> int:
    # The web stack (Flask, uvloop, httptools) loads only for this command: it would more than
    # double the start-up time of every ``bulkhead check`` in a CI job.
    server = importlib.import_module("webhook.server")
    try:
        settings = server.resolve(vars(args), os.environ)
        return int(server.serve(settings))
    except (server.SettingsError, server.ServeError) as err:
        sys.stderr.write(f"bulkhead serve: {err}\n")
        return EXIT_UNUSABLE


def _latest_minor(text: str) -> int:
    try:
        return settingsources.latest_minor(text)
    except ValueError as err:
        raise UsageError(f"--pss-latest: {err}") from err


def _metadata(body: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = body.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _judge(
    doc: documents.Document,
    policies: Sequence[policy.CompiledPolicy],
    *,
    default_namespace: str,
    known_namespaces: Mapping[str, Mapping[str, str]],
    now: datetime.datetime,
    evidence: policy.EvidenceMap = policy.NO_EVIDENCE,
) -> dict[str, Any] | None:
    body = doc.body
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in admission.KINDS:
        return None
    metadata = _metadata(body)
    name = str(metadata.get("name") or metadata.get("generateName") or "")
    namespace = str(metadata.get("namespace") or default_namespace)
    label = f'{kind} "{namespace}/{name}"'
    try:
        view = admission.pod_view(kind, body)
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
        namespace=namespace,
        namespace_labels=known.labels,
        object_labels=labels if isinstance(labels, Mapping) else {},
        username="",
        groups=(),
    )
    try:
        decided, undecided = namespace_labels.split(
            policies, subject, view, complete=known.complete, now=now
        )
        decision = admission.judge_view(label, view, subject, decided, now=now, evidence=evidence)
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
        f"nothing to judge in {read}: {found}, none of a kind with a pod spec "
        f"({', '.join(sorted(admission.KINDS))})"
    )


def _verify_images(
    args: argparse.Namespace,
    docs: Sequence[documents.Document],
    policies: Sequence[policy.CompiledPolicy],
) -> policy.EvidenceMap:
    """Evidence for every image of ``docs``; objects without a readable pod spec add none."""
    wanted: set[str] = set()
    for doc in docs:
        kind = doc.body.get("kind")
        if not isinstance(kind, str) or kind not in admission.KINDS:
            continue
        try:
            view = admission.pod_view(kind, doc.body)
        except podview.PodSpecError:
            continue
        if view is not None:
            wanted.update(container.image for container in view.containers)
    if not args.registry_timeout > 0:
        raise UsageError("--registry-timeout: must be a number of seconds above 0")
    credentials = {}
    if args.registry_credentials_file:
        try:
            credentials = supplychain.dockerconfig.load(args.registry_credentials_file)
        except supplychain.dockerconfig.DockerConfigError as err:
            raise UsageError(f"--registry-credentials-file: {err}") from err
    settings = supplychain.registry.Settings(
        ca_file=args.registry_ca_file, timeout=args.registry_timeout, credentials=credentials
    )
    try:
        return supplychain.verify(wanted, policies, settings)
    except supplychain.cosign.UnusableKeyError as err:
        raise UsageError(f"--verify-images: {err}") from err
    except OSError as err:
        raise UsageError(f"--registry-ca-file: cannot use it as a CA bundle ({err})") from err


def check(args: argparse.Namespace, *, stdin: IO[str], out: IO[str]) -> int:
    latest_minor = _latest_minor(args.pss_latest)
    policies = policyfiles.load(
        args.policy_file, args.profile, latest_minor=latest_minor, stdin=stdin
    )
    now = datetime.datetime.now(datetime.UTC)
    docs = documents.read(args.filename, stdin=stdin)
    known = documents.namespace_labels([*documents.read(args.namespace_labels), *docs])
    evidence = _verify_images(args, docs, policies) if args.verify_images else policy.NO_EVIDENCE
    results: list[dict[str, Any]] = []
    skipped = 0
    for doc in docs:
        result = _judge(
            doc,
            policies,
            default_namespace=args.namespace,
            known_namespaces=known,
            now=now,
            evidence=evidence,
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


def test(args: argparse.Namespace, *, out: IO[str]) -> int:
    """``bulkhead test``: run policy test suites; 0 all as expected, 1 a verdict differs."""
    now = datetime.datetime.now(datetime.UTC)

    def judge(
        docs: Sequence[documents.Document],
        policies: Sequence[policy.CompiledPolicy],
        namespace: str,
    ) -> list[Mapping[str, Any]]:
        known = documents.namespace_labels(docs)
        judged = (
            _judge(d, policies, default_namespace=namespace, known_namespaces=known, now=now)
            for d in docs
        )
        return [r for r in judged if r is not None]

    outcomes = suites.run_all(args.path, judge=judge, latest_minor=_latest_minor(args.pss_latest))
    out.write(suites.junit_report(outcomes) if args.output == "junit" else suites.text(outcomes))
    return EXIT_DENIED if any(o.failed for o in outcomes) else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "version":
        sys.stdout.write(f"bulkhead {webhook.__version__}\n")
        return EXIT_OK
    if args.command == "completion":
        sys.stdout.write(shellcompletion.script(_parser(), args.shell))
        return EXIT_OK
    if args.command == "serve":
        return _serve(args)
    if args.command == "audit":
        # the Kubernetes client loads only for this command
        audit = importlib.import_module("webhook.audit.command")
        try:
            return int(audit.run(args, os.environ, stdin=sys.stdin, out=sys.stdout))
        except audit.errors() as err:
            sys.stderr.write(f"bulkhead audit: {err}\n")
            return EXIT_UNUSABLE
    if args.command == "operator":
        # kopf loads only for this command (it takes most of a second).
        running = importlib.import_module("webhook.operator.running")
        return int(running.main(vars(args), os.environ))
    try:
        if args.command == "test":
            return test(args, out=sys.stdout)
        return check(args, stdin=sys.stdin, out=sys.stdout)
    except (
        UsageError,
        documents.DocumentError,
        policyfiles.PolicyFileError,
        suites.SuiteError,
    ) as err:
        sys.stderr.write(f"bulkhead: {err}\n")
        return EXIT_UNUSABLE
