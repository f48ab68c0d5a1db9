"""The WSGI app granian runs in its worker process. Reads files; starts one watcher thread.

granian imports ``webhook.server.worker:application`` with ``--factory`` in
its worker process. ``application()`` reads the settings the serving
process resolved (JSON in ``SETTINGS_ENV``; the worker never re-reads
flags or ``BULKHEAD_*`` variables, so both processes agree), loads the
policies and checks the certificate once, starts the file watcher and
returns ``create_app(settings, state)``. Importing this module does nothing.

With ``watch_cluster`` (no policy files, no profiles) the policies come from
the cluster instead: ``webhook.policy.cache`` lists and watches the policy
CRs and Namespaces on its own threads and feeds the same ``State`` (which
has exactly the cache's ``Sink`` methods); the worker is not ready until
the first lists have loaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import flask

from webhook import jsonlogs
from webhook.server import app, settings, sources, state

if TYPE_CHECKING:
    from webhook.policy import cache

#: Where the serving process puts the resolved settings for its worker.
SETTINGS_ENV: Final = "BULKHEAD_INTERNAL_WORKER_SETTINGS"


def watch_cluster(config: settings.Settings, into: state.State) -> cache.PolicyCache:
    """Start feeding ``into`` from the cluster's policy objects (``watch_cluster`` mode).

    The cache is imported here, not at the top: it brings in the Kubernetes
    client (about 15 MB of the worker's memory), which only this mode needs.
    """
    from webhook.policy import cache  # noqa: PLC0415 - see above

    api = cache.Api(cache.client_configuration(kubeconfig=config.kubeconfig))
    feed = cache.PolicyCache(api=api, sink=into, latest_minor=config.pss_latest_minor)
    feed.start()
    return feed


def build(config: settings.Settings) -> tuple[flask.Flask, sources.Watcher]:
    """The app for ``config`` with policies and certificate loaded, and its (unstarted) watcher.

    In ``watch_cluster`` mode the policy cache is started here (its threads
    load the policies) and the watcher polls only the certificate.
    """
    held = state.State()
    certificate = sources.CertificateSource(config=config, into=held)
    polls: list[Callable[[], None]] = [certificate.poll]
    if config.watch_cluster:
        watch_cluster(config, held)
    else:
        policies = sources.PolicySource(config=config, into=held)
        policies.poll()
        polls.insert(0, policies.poll)
    certificate.poll()
    watcher = sources.Watcher(interval=config.reload_interval, polls=polls)
    return app.create_app(config, held), watcher


def application() -> flask.Flask:
    """granian's factory: the worker's app, its watcher already running."""
    config = settings.Settings.from_json(os.environ[SETTINGS_ENV])
    jsonlogs.configure(config.log_level)
    built, watcher = build(config)
    watcher.start()
    return built
