"""``create_app(settings, state)``: the only way the webhook's WSGI app is made. No I/O.

The app is a Flask app (``WebhookApp``) answering ``POST /validate`` and,
only when ``settings.enable_noop_endpoint`` is set, ``POST /noop`` straight
from the WSGI environ (``reviews.answer_wsgi``: Flask's request and response
objects cost more per review than the decision), and every other path
through Flask: ``GET /readyz`` (whether this worker can judge) and Flask's own
errors (404, 405, an unexpected exception), which are answered with JSON;
an unexpected exception never allows.
Nothing runs at import and nothing is started here: the worker module loads
policies and starts the file watchers before calling this. The app runs in
the front's worker processes (``worker``), which get each request already
read whole; what it counts goes to a ``metrics.Recorder`` the worker ships
back to the front, which serves ``/metrics`` and ``/healthz`` itself.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable
from typing import Any, Final

import flask
import werkzeug.exceptions

from webhook import jsonlogs
from webhook.server import loaded, logs, metrics, reviews, settings, verification

#: Where ``create_app`` keeps the app's ``reviews.Runtime`` (in ``app.extensions``).
EXTENSION: Final = "bulkhead"


class WebhookApp(flask.Flask):
    """Flask, except for the review paths, which ``reviews.answer`` serves directly."""

    def __init__(self, name: str, *, review_paths: dict[str, bool]) -> None:
        super().__init__(name)
        #: path -> whether it judges (``/validate``) or only decodes (``/noop``)
        self.review_paths = review_paths

    def wsgi_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        judge = self.review_paths.get(environ.get("PATH_INFO", ""))
        if judge is None:
            return super().wsgi_app(environ, start_response)
        rt = self.extensions[EXTENSION]
        status, headers, body = reviews.answer_wsgi(rt, environ, judge=judge)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]


def current() -> reviews.Runtime:
    """The ``reviews.Runtime`` of the app handling this request (two apps never share one)."""
    found = flask.current_app.extensions.get(EXTENSION)
    if not isinstance(found, reviews.Runtime):
        raise RuntimeError("this app was not made by webhook.server.create_app")
    return found


def _refusal(status: int, message: str, *headers: tuple[str, str]) -> flask.Response:
    reviews.drain(flask.request.environ)
    answer = reviews.refuse(current(), flask.request.path, status, message, headers=headers)
    return flask.Response(answer[2], status=answer[0], headers=answer[1])


def _http_error(err: werkzeug.exceptions.HTTPException) -> flask.Response:
    allow: tuple[tuple[str, str], ...] = ()
    if isinstance(err, werkzeug.exceptions.MethodNotAllowed) and err.valid_methods:
        allow = (("Allow", ", ".join(sorted(err.valid_methods))),)
    return _refusal(err.code or 500, err.description or err.name, *allow)


def _unexpected(err: Exception) -> flask.Response:
    current().log.error("unexpected error", extra=jsonlogs.fields(exception=type(err).__name__))
    return _refusal(500, "internal error")


def _readyz() -> flask.Response:
    """200 only when the certificate and a policy set are loaded; the body says why not.

    When ready it still reports a failed reload while the last good set
    stays in force (an invalid policy file names the file and the problem).
    """
    readiness = current().state.readiness(now=datetime.datetime.now(datetime.UTC))
    return flask.Response(
        json.dumps(readiness.detail),
        status=200 if readiness.ready else 503,
        mimetype="application/json",
    )


def create_app(settings: settings.Settings, state: loaded.State) -> WebhookApp:
    """A WSGI app answering AdmissionReviews with the policies ``state`` holds.

    Watching the cluster, it also tells it about Warn and Audit decisions
    (``reviews.emitter``).
    """
    paths = {"/validate": True}
    if settings.enable_noop_endpoint:
        paths["/noop"] = False
    app = WebhookApp("webhook.server", review_paths=paths)
    log = jsonlogs.logger("server")
    app.extensions[EXTENSION] = reviews.Runtime(
        settings=settings,
        state=state,
        metrics=metrics.Recorder(),
        log=log,
        review_log=logs.ReviewLog(level=settings.log_level),
        verifier=verification.make_verifier(settings, log),
        pull_secrets=verification.pull_secret_cache(settings),
        events=reviews.emitter(settings),
    )
    app.add_url_rule("/readyz", view_func=_readyz, methods=["GET"])
    app.register_error_handler(werkzeug.exceptions.HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app
