"""``GET /healthz``, ``GET /readyz`` and ``GET /metrics``. No I/O beyond the response.

* ``/healthz``: 200 while the process answers at all (liveness).
* ``/readyz``: 200 only when the serving certificate and a policy set are
  loaded, else 503; the JSON body says why not (an invalid policy file names
  the file and the problem) and, when ready, still reports a failed reload
  while the last good set stays in force.
* ``/metrics``: Prometheus text exposition of the app's registry.
"""

from __future__ import annotations

import datetime
import json

import flask

from webhook.server import metrics, runtime

blueprint = flask.Blueprint("health", __name__)


def _json(status: int, body: object) -> flask.Response:
    return flask.Response(json.dumps(body), status=status, mimetype="application/json")


@blueprint.get("/healthz")
def healthz() -> flask.Response:
    return _json(200, {"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> flask.Response:
    readiness = runtime.current().state.readiness(now=datetime.datetime.now(datetime.UTC))
    return _json(200 if readiness.ready else 503, readiness.detail)


@blueprint.get("/metrics")
def scrape() -> flask.Response:
    body, content_type = metrics.exposition(
        runtime.current().metrics, flask.request.headers.get("Accept", "")
    )
    return flask.Response(body, content_type=content_type)
