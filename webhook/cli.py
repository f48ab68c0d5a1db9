"""The ``bulkhead`` command: its parser, and which module runs each subcommand.

``bulkhead check`` judges manifests offline (``webhook.manifestcheck``, with
``webhook.imageevidence`` for ``--verify-images``); ``bulkhead test DIR``
runs policy test suites (``webhook.suites``) with the same judging;
``bulkhead completion SHELL`` prints a completion script
(``webhook.shellcompletion``).

``bulkhead serve`` runs the admission webhook (``webhook.server``),
``bulkhead operator`` the kopf operator (``webhook.operator``) and
``bulkhead audit`` the audit (``webhook.audit.command``). Their flags are
derived from the settings tables their packages declare
(``webhook.settingtable``), and only fill the resolvers, which also read
``BULKHEAD_*``. Each loads its heavy libraries only when it runs.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

import webhook
from webhook import (
    documents,
    imageevidence,
    manifestcheck,
    operator,
    policy,
    policyfiles,
    profiles,
    reports,
    shellcompletion,
    suites,
    supplychain,
    verdicts,
)
from webhook.audit import settings as audit_settings


def _parser(*, serve_flags: bool = True) -> argparse.ArgumentParser:
    """The ``bulkhead`` parser; without ``serve_flags``, ``serve`` is listed with no flags."""
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
        help="verify the cosign signatures and vulnerability attestations that "
        "imageSignatures checks require, against the images' registries (HTTPS)",
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
    _serve_parser(commands, flags=serve_flags)
    operator.TABLE.add_arguments(
        commands.add_parser(
            "operator",
            help="run the operator (policy status, webhook TLS and caBundle)",
            description="Keep every policy's status, the webhook's CA and serving certificate "
            "and its caBundle. Every flag can also be set as BULKHEAD_<FLAG>; flags win.",
        )
    )
    audit_settings.TABLE.add_arguments(
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


def _serve_parser(commands: Any, *, flags: bool) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the admission webhook (HTTPS)",
        description="Serve AdmissionReview v1 on POST /validate over HTTPS. Every flag can "
        "also be set as BULKHEAD_<FLAG> (for example BULKHEAD_PORT); flags win.",
    )
    if flags:
        # Loading ``webhook.server`` loads Flask and the web stack, which would more than double
        # the start-up time of every ``bulkhead check`` in a CI job: only ``serve`` and
        # ``completion`` read these flags.
        importlib.import_module("webhook.server.settings").TABLE.add_arguments(serve)


def _serve(args: argparse.Namespace) -> int:
    server = importlib.import_module("webhook.server")
    try:
        settings = server.resolve(vars(args), os.environ)
        return int(server.serve(settings))
    except (server.SettingsError, server.ServeError) as err:
        sys.stderr.write(f"bulkhead serve: {err}\n")
        return manifestcheck.EXIT_UNUSABLE


def test(args: argparse.Namespace, *, out: IO[str]) -> int:
    """``bulkhead test``: run policy test suites; 0 all as expected, 1 a verdict differs."""
    now = datetime.datetime.now(datetime.UTC)

    def judge(
        docs: Sequence[documents.Document],
        policies: Sequence[policy.CompiledPolicy],
        namespace: str,
    ) -> list[Mapping[str, Any]]:
        known = documents.namespace_labels(docs)
        isolated = documents.network_isolation(docs, default_namespace=namespace)
        judged = (
            manifestcheck.judge(
                d,
                policies,
                default_namespace=namespace,
                known_namespaces=known,
                now=now,
                isolated=isolated,
            )
            for d in docs
        )
        return [r for r in judged if r is not None]

    outcomes = suites.run_all(
        args.path, judge=judge, latest_minor=manifestcheck.pss_latest(args.pss_latest)
    )
    out.write(suites.junit_report(outcomes) if args.output == "junit" else suites.text(outcomes))
    failed = any(o.failed for o in outcomes)
    return manifestcheck.EXIT_DENIED if failed else manifestcheck.EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bulkhead ARGV``; returns the exit status."""
    given = sys.argv[1:] if argv is None else list(argv)
    args = _parser(serve_flags=given[:1] in (["serve"], ["completion"])).parse_args(given)
    if args.command == "version":
        sys.stdout.write(f"bulkhead {webhook.__version__}\n")
        return manifestcheck.EXIT_OK
    if args.command == "completion":
        sys.stdout.write(shellcompletion.script(_parser(), args.shell))
        return manifestcheck.EXIT_OK
    if args.command == "serve":
        return _serve(args)
    if args.command == "audit":
        # the Kubernetes client loads only for this command
        audit = importlib.import_module("webhook.audit.command")
        try:
            return int(audit.run(args, os.environ, stdin=sys.stdin, out=sys.stdout))
        except audit.errors() as err:
            sys.stderr.write(f"bulkhead audit: {err}\n")
            return manifestcheck.EXIT_UNUSABLE
    if args.command == "operator":
        # kopf loads only for this command (it takes most of a second).
        command = importlib.import_module("webhook.operator.command")
        return int(command.main(vars(args), os.environ))
    try:
        if args.command == "test":
            return test(args, out=sys.stdout)
        return manifestcheck.check(args, stdin=sys.stdin, out=sys.stdout)
    except (
        manifestcheck.UsageError,
        imageevidence.EvidenceError,
        documents.DocumentError,
        policyfiles.PolicyFileError,
        suites.SuiteError,
    ) as err:
        sys.stderr.write(f"bulkhead: {err}\n")
        return manifestcheck.EXIT_UNUSABLE
