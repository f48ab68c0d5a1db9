"""The ``bulkhead audit`` flags. Pure, no I/O.

Kept apart from ``command`` so the ``bulkhead`` parser can list them without
loading the Kubernetes client (every other command starts faster for it).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``bulkhead audit`` flags (defaults ``None`` where the environment may fill in)."""
    parser.add_argument(
        "-f",
        "--filename",
        action="append",
        default=[],
        metavar="PATH",
        help="judge these YAML/JSON files or directories (- for stdin) instead of a cluster",
    )
    parser.add_argument(
        "--policy-file",
        action="append",
        default=[],
        metavar="PATH",
        help="with -f: policy YAML file or directory (repeatable)",
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="LEVEL[:VERSION]",
        help="with -f: a built-in Pod Security Standard as a Deny policy (repeatable)",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="with -f: namespace for objects that name none (default: %(default)s)",
    )
    parser.add_argument("--kubeconfig", metavar="FILE", help="the cluster's credentials")
    parser.add_argument(
        "--watch",
        action="store_true",
        help="run as the background audit controller, writing PolicyReports",
    )
    parser.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table")
    parser.add_argument("--pss-latest", metavar="v1.N", help="what 'latest' means")
    parser.add_argument(
        "--batch-seconds", metavar="SECONDS", help="--watch: gather changes this long (2)"
    )
    parser.add_argument(
        "--resync-seconds", metavar="SECONDS", help="--watch: re-judge everything (600)"
    )
    parser.add_argument(
        "--max-results", metavar="N", help="results listed per report; counts stay exact (500)"
    )
    parser.add_argument("--log-level", help="--watch: debug, info, warning or error (info)")
    parser.add_argument(
        "--health-port",
        metavar="PORT",
        help="--watch: /healthz, /readyz and /metrics port (8081; 0: off)",
    )
