"""``bulkhead audit``: what already runs (or is written down) that breaks a policy. I/O.

Three ways to run it:

* ``bulkhead audit -f PATH --policy-file P|--profile L``: judge manifests
  offline (files, directories, ``-``) exactly as the background audit
  judges a cluster, Pods attributed to their controllers when both are
  given, and ``networkPolicy`` judging with the NetworkPolicies among them;
* ``bulkhead audit [--kubeconfig F]``: list the live cluster's workloads
  and policies once, judge them and print the reports (nothing is written);
* ``bulkhead audit --watch``: the background audit controller
  (``webhook.audit.controller``), writing PolicyReports until SIGTERM.

``-o table`` (default) prints one line per result and the totals; ``-o
json`` the report documents; ``-o yaml`` them as PolicyReport YAML, ready
for ``kubectl apply``. Exit status: 0 when no ``fail`` result, 1 when any,
2 when the input, a policy or the cluster cannot be used. Settings follow
the shared precedence: a flag, then ``BULKHEAD_<NAME>``, then the default.
"""

from __future__ import annotations

import argparse
import datetime
import http.server
import json
import logging
import signal
import threading
from collections.abc import Mapping
from typing import IO, Any, Final

import prometheus_client.exposition
import yaml

from webhook import admission, documents, kube, policyfiles, settingtable
from webhook.audit import controller, metrics, reports, store, workloads
from webhook.audit import settings as audit_settings

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_UNUSABLE: Final = 2
#: How long a one-shot cluster audit waits for its first complete pass.
ONE_SHOT_SECONDS: Final = 300.0


class AuditError(Exception):
    """The audit cannot run; exit 2 with this message."""


def settings(flags: Mapping[str, object], environ: Mapping[str, str]) -> controller.Settings:
    """The controller's settings from flags, ``BULKHEAD_*`` and the declared defaults."""
    table = audit_settings.TABLE
    return controller.Settings(
        batch_seconds=table.pick("batch_seconds", flags, environ, settingtable.seconds),
        resync_seconds=table.pick("resync_seconds", flags, environ, settingtable.seconds),
        cap=table.pick("max_results", flags, environ, settingtable.count),
        latest_minor=table.pick("pss_latest", flags, environ, settingtable.latest_minor),
    )


# -- judging files ------------------------------------------------------------------


def audit_files(
    args: argparse.Namespace, resolved: controller.Settings, *, stdin: IO[str]
) -> dict[str | None, dict[str, Any]]:
    """The reports for the manifests ``args`` names, judged against the given policies."""
    policies = policyfiles.load(
        args.policy_file, args.profile, latest_minor=resolved.latest_minor, stdin=stdin
    )
    if not policies:
        raise AuditError("nothing to judge against: give --policy-file or --profile")
    held = store.Store()
    held.set_policies(policies, invalid={})
    docs = documents.read(args.filename, stdin=stdin)
    held.set_isolation(documents.network_isolation(docs, default_namespace=args.namespace))
    for doc in docs:
        kind = doc.body.get("kind")
        if not isinstance(kind, str) or kind not in admission.POD_KINDS:
            continue
        body = dict(doc.body)
        metadata = dict(body.get("metadata") or {})
        metadata.setdefault("namespace", args.namespace)
        metadata.setdefault("name", metadata.get("generateName") or f"document-{doc.index + 1}")
        body["metadata"] = metadata
        held.put(workloads.Workload.of(kind, body))
    held.judge_pending(now=datetime.datetime.now(datetime.UTC))
    out: dict[str | None, dict[str, Any]] = {}
    for namespace in sorted(held.namespaces()):
        document = held.document(namespace, cap=resolved.cap)
        if document is not None:
            out[namespace] = document
    return out


# -- the cluster --------------------------------------------------------------------


def _api(args: argparse.Namespace, environ: Mapping[str, str]) -> kube.Api:
    kubeconfig = audit_settings.TABLE.pick("kubeconfig", vars(args), environ, str)
    try:
        return kube.Api(kube.client_configuration(kubeconfig=kubeconfig or None))
    except kube.ConfigError as err:
        raise AuditError(str(err)) from err


def audit_cluster(api: kube.Api, resolved: controller.Settings) -> dict[str | None, Any]:
    """The reports for the live cluster, judged once and not written."""
    audit = controller.Controller(api=api, settings=resolved, write=False)
    audit.start()
    try:
        if not audit.wait_complete(ONE_SHOT_SECONDS):
            raise AuditError(
                f"the cluster's workloads and policies were not all listed within "
                f"{ONE_SHOT_SECONDS:.0f}s (see the warnings above)"
            )
        return audit.documents()
    finally:
        audit.stop()


def _health_server(audit: controller.Controller, port: int) -> http.server.ThreadingHTTPServer:
    """``/healthz``: the worker runs; ``/readyz``: the first report set is written; ``/metrics``."""
    gauges = metrics.registry(audit)

    class Probe(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                encoder, content_type = prometheus_client.exposition.choose_encoder(
                    self.headers.get("Accept") or ""
                )
                self._reply(200, encoder(gauges), content_type)
                return
            checks = {"/healthz": audit.alive, "/readyz": audit.alive and audit.complete}
            if self.path not in checks:
                self.send_error(404)
                return
            ok = checks[self.path]
            self._reply(200 if ok else 503, b"ok\n" if ok else b"not yet\n", "text/plain")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            del format, args  # probes are not worth a log line each

    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Probe)  # noqa: S104
    threading.Thread(target=server.serve_forever, name="bulkhead-audit-health", daemon=True).start()
    return server


def watch(api: kube.Api, resolved: controller.Settings, *, level: str, health_port: int) -> int:
    """Run the background audit until SIGTERM or SIGINT."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    audit = controller.Controller(api=api, settings=resolved)
    audit.start()
    health = _health_server(audit, health_port) if health_port else None
    logging.getLogger("bulkhead.audit").info("background audit started")
    stop.wait()
    if health is not None:
        health.shutdown()
    audit.stop()
    return EXIT_OK


# -- output -------------------------------------------------------------------------


def _table(found: Mapping[str | None, Mapping[str, Any]], out: IO[str]) -> None:
    rows = [("NAMESPACE", "OBJECT", "POLICY", "CHECK", "RESULT", "SEVERITY", "PATH")]
    totals = dict.fromkeys(reports.SUMMARY_KEYS, 0)
    omitted = 0
    for namespace, document in found.items():
        for key in reports.SUMMARY_KEYS:
            totals[key] += int(document["summary"][key])
        annotations = document["metadata"].get("annotations") or {}
        omitted += int(annotations.get(reports.OMITTED_ANNOTATION, 0))
        for entry in document["results"]:
            resource = entry["resources"][0]
            rows.append(
                (
                    namespace or "-",
                    f"{resource['kind']}/{resource['name']}",
                    entry["policy"],
                    entry.get("rule", "-"),
                    entry["result"],
                    entry.get("severity", "-"),
                    entry.get("properties", {}).get("path", entry.get("message", "")),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows if len(rows) > 1 else ():
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.write("  ".join([*cells, row[-1]]).rstrip() + "\n")
    out.write(", ".join(f"{totals[key]} {key}" for key in reports.SUMMARY_KEYS))
    out.write(f" ({omitted} results over the per-report cap not listed)\n" if omitted else "\n")


def write(found: Mapping[str | None, Mapping[str, Any]], output: str, out: IO[str]) -> None:
    if output == "json":
        json.dump({"reports": list(found.values())}, out, indent=2)
        out.write("\n")
    elif output == "yaml":
        yaml.safe_dump_all(list(found.values()), out, sort_keys=False)
    else:
        _table(found, out)


def run(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    *,
    stdin: IO[str],
    out: IO[str],
) -> int:
    """``bulkhead audit``; raises ``AuditError`` (and the file errors) for unusable input."""
    try:
        flags = vars(args)
        resolved = settings(flags, environ)
        level = audit_settings.TABLE.pick("log_level", flags, environ, settingtable.log_level)
        health_port = audit_settings.TABLE.pick("health_port", flags, environ, settingtable.port)
    except settingtable.SettingsError as err:
        raise AuditError(str(err)) from err
    if args.filename:
        if args.watch or args.kubeconfig:
            raise AuditError("-f judges files: it takes no --watch or --kubeconfig")
        found = audit_files(args, resolved, stdin=stdin)
    else:
        if args.policy_file or args.profile:
            raise AuditError("--policy-file and --profile go with -f; a cluster has its own")
        api = _api(args, environ)
        try:
            if args.watch:
                return watch(api, resolved, level=level, health_port=health_port)
            found = audit_cluster(api, resolved)
        except kube.ApiError as err:
            raise AuditError(f"the cluster refused: {err}") from err
        finally:
            api.close()
    write(found, args.output, out)
    failed = any(document["summary"]["fail"] for document in found.values())
    return EXIT_FAILED if failed else EXIT_OK


def errors() -> tuple[type[Exception], ...]:
    """What ``run`` raises for input it cannot use."""
    return (AuditError, documents.DocumentError, policyfiles.PolicyFileError)
