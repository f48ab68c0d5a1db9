"""The WSGI app granian runs in its worker process. Reads files; starts one watcher thread.

granian imports ``webhook.server.worker:application`` with ``--factory`` in
its worker process. ``application()`` reads the settings the serving
process resolved (JSON in ``SETTINGS_ENV``; the worker never re-reads
flags or ``BULKHEAD_*`` variables, so both processes agree), loads the
policies and checks the certificate once, starts the file watcher and
returns ``create_app(settings, state)``. Importing this module does nothing.
"""

from __future__ import annotations

import os
from typing import Final

import flask

from webhook.server import app, logs, settings, sources, state

#: Where the serving process puts the resolved settings for its worker.
SETTINGS_ENV: Final = "BULKHEAD_INTERNAL_WORKER_SETTINGS"


def build(config: settings.Settings) -> tuple[flask.Flask, sources.Watcher]:
    """The app for ``config`` with policies and certificate loaded, and its (unstarted) watcher."""
    held = state.State()
    policies = sources.PolicySource(config=config, into=held)
    certificate = sources.CertificateSource(config=config, into=held)
    policies.poll()
    certificate.poll()
    watcher = sources.Watcher(
        interval=config.reload_interval, polls=(policies.poll, certificate.poll)
    )
    return app.create_app(config, held), watcher


def application() -> flask.Flask:
    """granian's factory: the worker's app, its watcher already running."""
    config = settings.Settings.from_json(os.environ[SETTINGS_ENV])
    logs.configure(config.log_level)
    built, watcher = build(config)
    watcher.start()
    return built
