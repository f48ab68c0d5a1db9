"""The ``bulkhead audit`` settings, declared once. Pure, no I/O.

``TABLE`` (``webhook.settingtable``) declares every flag of ``bulkhead
audit``, with its ``BULKHEAD_<NAME>`` variable where it has one, its default
and its help: the command's flags and the table in ``docs/audit.md`` are
derived from it, and ``webhook.audit.command`` resolves it. Kept apart from
``command`` so the ``bulkhead`` parser can list the flags without loading
the Kubernetes client (every other command starts faster for it).
"""

from __future__ import annotations

from typing import Final

from webhook import settingtable

_S = settingtable.Setting

TABLE: Final = settingtable.Table(
    (
        _S(
            name="filename",
            short="-f",
            variable=None,
            repeatable=True,
            metavar="PATH",
            help="judge these YAML/JSON files or directories (- for stdin) instead of a cluster",
        ),
        _S(
            name="policy_file",
            variable=None,
            repeatable=True,
            metavar="PATH",
            help="with -f: policy YAML file or directory",
        ),
        _S(
            name="profile",
            variable=None,
            repeatable=True,
            metavar="LEVEL[:VERSION]",
            help="with -f: a built-in Pod Security Standard as a Deny policy",
        ),
        _S(
            name="namespace",
            short="-n",
            variable=None,
            default="default",
            help="with -f: namespace for objects that name none",
        ),
        _S(
            name="kubeconfig",
            metavar="FILE",
            help="the cluster's credentials",
            default_text="in-cluster, else `~/.kube/config`",
        ),
        _S(
            name="watch",
            variable=None,
            switch=True,
            help="run as the background audit controller, writing PolicyReports",
        ),
        _S(
            name="output",
            short="-o",
            variable=None,
            choices=("table", "json", "yaml"),
            default="table",
            help="report format",
        ),
        _S(
            name="batch_seconds",
            metavar="SECONDS",
            default="2",
            help="--watch: gather changes this long",
            chart_value="audit.batchSeconds",
        ),
        _S(
            name="resync_seconds",
            metavar="SECONDS",
            default="600",
            help="--watch: re-judge everything this often",
            chart_value="audit.resyncSeconds",
        ),
        _S(
            name="max_results",
            metavar="N",
            default="500",
            help="results listed per report; counts stay exact",
            chart_value="audit.maxResults",
        ),
        settingtable.pss_latest_row(),
        settingtable.log_level_row(chart_value="audit.logLevel"),
        _S(
            name="health_port",
            metavar="PORT",
            default="8081",
            help="--watch: /healthz, /readyz and /metrics port",
            note="`0`: off; the chart sets 8082",
            chart_value="audit.healthPort",
        ),
    )
)
