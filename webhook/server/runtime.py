"""The objects one app's views share, reached through ``flask.current_app``. No I/O.

``create_app`` stores one ``Runtime`` in ``app.extensions``; Flask views call
``current()`` instead of reaching for module globals, so two apps in one
process (as in tests) never share state. The review paths, which bypass
Flask, get the same ``Runtime`` from ``app.WebhookApp`` as an argument.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Final

import flask

from webhook.server import logs, metrics, settings, state

if TYPE_CHECKING:  # the Kubernetes client is imported only by a webhook watching the cluster
    from webhook.server import events

EXTENSION: Final = "bulkhead"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    settings: settings.Settings
    state: state.State
    metrics: metrics.Recorder
    log: logging.Logger
    review_log: logs.ReviewLog
    #: posts PolicyViolation Events (only when watching the cluster)
    events: events.Emitter | None = None


def current() -> Runtime:
    found = flask.current_app.extensions.get(EXTENSION)
    if not isinstance(found, Runtime):
        raise RuntimeError("this app was not made by webhook.server.create_app")
    return found
