"""``bulkhead operator``: kopf for policy status, beside the TLS loop. Process and network I/O.

``operate(settings)`` runs, in one asyncio loop until SIGTERM/SIGINT (or
``stop``):

* kopf, cluster-wide and standalone, with the handlers of ``handlers`` in
  an explicit registry, logged in with the same credentials as everything
  else (``kube.client_configuration``: ``--kubeconfig``, else in-cluster);
  CRD and namespace scanning is off (the two kinds are known, so the
  operator needs no cluster-wide read of CRDs or Namespaces); handler logs
  are not posted as Events (the handlers post their own on transitions);
* ``certificates.run``: the CA, serving certificate and caBundle loop,
  started and stopped by kopf's startup and cleanup activities (not with
  ``--certificates external``, where cert-manager issues them);
* ``sweeps.run``: every ``--check-interval``, exclusion expiry
  (``expiry.sweep``) and the Secrets named by ``keySecrets`` read again
  (``keysecrets.sweep``), so time passing and a rotated key reach status;
* ``/metrics`` (Prometheus, ``metrics``) and kopf's liveness endpoint
  ``/healthz``, whose ``tls`` probe reports the last TLS pass.

Identity: kopf names the running operator even when standalone; by default
from ``getpass.getuser()``, which raises ``KeyError`` for a uid without a
passwd entry (the image's 65532, by design). ``identity`` gives kopf the
Pod's name (``HOSTNAME``) instead, so nothing depends on the user database.

High availability: run one replica (the Deployment uses ``Recreate``).
Every write is idempotent and guarded by ``resourceVersion``, so an
accidental second replica during a rollout cannot corrupt anything; it only
repeats work. Without kopf peering there is no leader election.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any, Final

import kopf
from kopf._core.engines import peering as kopf_peering

from webhook import jsonlogs, kube, settingtable
from webhook.operator import (
    certificates,
    expiry,
    handlers,
    keysecrets,
    metrics,
    settings,
    sweeps,
    transitions,
)

_LOG: Final = logging.getLogger("bulkhead.operator")
EXIT_OK: Final = 0
EXIT_UNUSABLE: Final = 2


def _login(credentials: kube.Credentials, *, namespace: str) -> kopf.ConnectionInfo:
    """kopf's credentials: the same login the operator's own requests use."""
    return kopf.ConnectionInfo(
        server=credentials.server,
        ca_path=credentials.ca_path,
        insecure=credentials.insecure,
        scheme=credentials.scheme,
        token=credentials.token,
        certificate_path=credentials.certificate_path,
        private_key_path=credentials.private_key_path,
        default_namespace=namespace,
    )


def identity(environ: Mapping[str, str]) -> kopf_peering.Identity:
    """This operator's name for kopf: the Pod's name, never the login name."""
    return kopf_peering.Identity(environ.get("HOSTNAME") or "bulkhead-operator")


def _kopf_settings() -> kopf.OperatorSettings:
    options = kopf.OperatorSettings()
    options.scanning.disabled = True
    options.posting.level = logging.ERROR
    options.posting.reporting_component = "bulkhead-operator"
    options.posting.reporting_instance = os.environ.get("HOSTNAME", "bulkhead-operator")
    options.watching.connect_timeout = 10
    options.watching.server_timeout = 300
    options.watching.client_timeout = 330
    options.networking.request_timeout = 60
    return options


def build_registry(
    config: settings.Settings,
    *,
    credentials: kube.Credentials,
    api: kube.Api,
    manager: certificates.Manager,
    gauges: metrics.Metrics,
) -> kopf.OperatorRegistry:
    """Every handler this operator runs, in a registry of its own.

    The TLS loop and the sweeps (``sweeps.run``) start as kopf startup
    activities and are stopped and
    awaited by one cleanup activity, so kopf's shutdown waits for them instead
    of treating them as hung tasks.
    """
    registry = kopf.OperatorRegistry()
    stop = asyncio.Event()
    running: list[asyncio.Task[None]] = []

    def login(**_: Any) -> kopf.ConnectionInfo:
        return _login(credentials, namespace=config.namespace)

    def tls(**_: Any) -> dict[str, Any]:
        return manager.health()

    async def start_tls(**_: Any) -> None:
        loop = certificates.run(manager, interval=config.check_interval, stop=stop, metrics_=gauges)
        running.append(asyncio.create_task(loop, name="bulkhead-tls"))

    async def stop_loops(**_: Any) -> None:
        stop.set()
        for task in running:
            await task

    kopf.on.login(id="credentials", registry=registry)(login)
    if config.certificates == "operator":
        kopf.on.probe(id="tls", registry=registry)(tls)
        kopf.on.startup(id="tls-start", registry=registry)(start_tls)
    gauge = expiry.Gauge(gauges.registry)
    announcer = transitions.Transitions(api)
    handlers.register(
        registry,
        context=handlers.Context(
            latest_minor=config.pss_latest_minor,
            expiry_window=config.exclusion_window,
            transitions=announcer,
            gauge=gauge,
            api=api,
        ),
    )

    def exclusions(now: datetime.datetime) -> int:
        return expiry.sweep(
            api,
            gauge,
            latest_minor=config.pss_latest_minor,
            window=config.exclusion_window,
            now=now,
        )

    def key_secrets(now: datetime.datetime) -> int:
        return keysecrets.sweep(
            api,
            latest_minor=config.pss_latest_minor,
            window=config.exclusion_window,
            now=now,
            announce=announcer.announce,
        )

    async def start_sweep(**_: Any) -> None:
        loop = sweeps.run(
            {"exclusion expiry": exclusions, "key Secrets": key_secrets},
            interval=config.check_interval,
            stop=stop,
        )
        running.append(asyncio.create_task(loop, name="bulkhead-sweeps"))

    kopf.on.startup(id="expiry-start", registry=registry)(start_sweep)
    kopf.on.cleanup(id="loops-stop", registry=registry)(stop_loops)
    return registry


async def operate(
    config: settings.Settings,
    *,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    """Run the operator until ``stop`` is set or a signal arrives (SIGTERM, SIGINT)."""
    configuration = kube.client_configuration(kubeconfig=config.kubeconfig)
    api = kube.Api(configuration)
    gauges = metrics.Metrics()
    manager = certificates.Manager(api=api, config=config, metrics_=gauges)
    registry = build_registry(
        config,
        credentials=kube.credentials(configuration),
        api=api,
        manager=manager,
        gauges=gauges,
    )
    if config.metrics_port:
        port = gauges.serve(address=config.metrics_address, port=config.metrics_port)
        _LOG.info("metrics on http://%s:%d/metrics", config.metrics_address, port)
    liveness = (
        f"http://{config.metrics_address}:{config.health_port}/healthz"
        if config.health_port
        else None
    )
    try:
        await kopf.operator(
            registry=registry,
            settings=_kopf_settings(),
            clusterwide=True,
            standalone=True,
            identity=identity(os.environ),
            liveness_endpoint=liveness,
            stop_flag=stop,
            ready_flag=ready,
        )
    finally:
        gauges.close()
        api.close()


def _configure_logging(level: str) -> None:
    """JSON lines on stderr for every logger (kopf's and the clients' too), as the webhook logs."""
    jsonlogs.configure(level, name="")
    # kopf is chatty at INFO about every handler it runs.
    logging.getLogger("kopf").setLevel(max(logging.WARNING, jsonlogs.LEVELS[level]))


def main(flags: Mapping[str, object], environ: Mapping[str, str]) -> int:
    """``bulkhead operator``: resolve settings and run until signalled."""
    try:
        config = settings.resolve(flags, environ)
        _configure_logging(config.log_level)
        asyncio.run(operate(config))
    except (settingtable.SettingsError, kube.ConfigError) as err:
        sys.stderr.write(f"bulkhead operator: {err}\n")
        return EXIT_UNUSABLE
    return EXIT_OK
