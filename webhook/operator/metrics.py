"""The operator's Prometheus metrics and the small HTTP endpoint serving them. Network I/O.

``Metrics`` owns one registry (no process-global state, so tests can make
many). ``serve(address, port)`` starts ``prometheus_client``'s WSGI server on
a daemon thread, answering ``GET /metrics``; ``close()`` stops it. Names:

* ``bulkhead_certificate_expiry_timestamp_seconds{certificate}``: when the
  serving certificate (``serving``) and the current CA (``ca``) expire, as a
  Unix time; alert on ``... - time() < 7 * 86400``;
* ``bulkhead_certificate_renewal_timestamp_seconds{certificate}``: when each
  is due for renewal (2/3 of its life);
* ``bulkhead_ca_bundle_certificates``: CAs in the trust bundle (2 during a
  CA rotation);
* ``bulkhead_certificates_issued_total{certificate}``: certificates issued;
* ``bulkhead_ca_retired_total``: CAs dropped from the bundle;
* ``bulkhead_tls_reconcile_failures_total``: TLS reconciles that failed;
* ``bulkhead_tls_last_success_timestamp_seconds``: the last good reconcile;
* ``bulkhead_exclusion_earliest_expiry_timestamp_seconds{policy}``: when a
  policy's first dated exclusion expires (``expiry``);
* ``bulkhead_build_info{version, python, component}``: always 1.
"""

from __future__ import annotations

import datetime
import threading
import wsgiref.simple_server

import prometheus_client

from webhook import buildinfo
from webhook.operator import rotation


class Metrics:
    """The operator's metrics, in their own registry."""

    def __init__(self) -> None:
        self.registry = prometheus_client.CollectorRegistry()
        buildinfo.register(self.registry, component="operator")
        self.expiry = prometheus_client.Gauge(
            "bulkhead_certificate_expiry_timestamp_seconds",
            "When the certificate expires (Unix time).",
            ["certificate"],
            registry=self.registry,
        )
        self.renewal = prometheus_client.Gauge(
            "bulkhead_certificate_renewal_timestamp_seconds",
            "When the certificate is due for renewal, at 2/3 of its life (Unix time).",
            ["certificate"],
            registry=self.registry,
        )
        self.bundle = prometheus_client.Gauge(
            "bulkhead_ca_bundle_certificates",
            "CA certificates in the webhook's trust bundle.",
            registry=self.registry,
        )
        self.issued = prometheus_client.Counter(
            "bulkhead_certificates_issued",
            "Certificates issued by the operator.",
            ["certificate"],
            registry=self.registry,
        )
        self.retired = prometheus_client.Counter(
            "bulkhead_ca_retired", "CAs dropped from the trust bundle.", registry=self.registry
        )
        self.failures = prometheus_client.Counter(
            "bulkhead_tls_reconcile_failures",
            "TLS reconciles that failed.",
            registry=self.registry,
        )
        self.last_success = prometheus_client.Gauge(
            "bulkhead_tls_last_success_timestamp_seconds",
            "When the TLS state was last reconciled successfully (Unix time).",
            registry=self.registry,
        )
        self._server: wsgiref.simple_server.WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def observe(self, plan: rotation.Plan, *, now: datetime.datetime) -> None:
        """Record a successful reconcile's outcome."""
        for name, pair in (("serving", plan.serving), ("ca", plan.ca)):
            cert = pair.certificate
            self.expiry.labels(certificate=name).set(cert.not_after.timestamp())
            self.renewal.labels(certificate=name).set(
                cert.renew_at(rotation.RENEW_FRACTION).timestamp()
            )
        self.bundle.set(len(plan.bundle))
        if plan.ca_issued:
            self.issued.labels(certificate="ca").inc()
        if plan.serving_issued:
            self.issued.labels(certificate="serving").inc()
        if plan.retired:
            self.retired.inc(len(plan.retired))
        self.last_success.set(now.timestamp())

    def text(self) -> str:
        return prometheus_client.generate_latest(self.registry).decode()

    def serve(self, *, address: str, port: int) -> int:
        """Serve ``/metrics`` on a daemon thread; returns the bound port."""
        server, thread = prometheus_client.start_http_server(
            port, addr=address, registry=self.registry
        )
        self._server, self._thread = server, thread
        bound: int = server.server_port
        return bound

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
