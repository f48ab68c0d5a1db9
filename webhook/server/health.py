"""``GET /readyz``: whether this worker can judge. No I/O beyond the response.

200 only when the serving certificate and a policy set are loaded, else 503;
the JSON body says why not (an invalid policy file names the file and the
problem) and, when ready, still reports a failed reload while the last good
set stays in force. The front answers ``/healthz`` and ``/metrics`` itself
and sends ``/readyz`` to a worker ahead of queued reviews.
"""

from __future__ import annotations

import datetime
import json

import flask

from webhook.server import runtime

blueprint = flask.Blueprint("health", __name__)


@blueprint.get("/readyz")
def readyz() -> flask.Response:
    readiness = runtime.current().state.readiness(now=datetime.datetime.now(datetime.UTC))
    return flask.Response(
        json.dumps(readiness.detail),
        status=200 if readiness.ready else 503,
        mimetype="application/json",
    )
