"""``create_app(settings, state)``: the only way a Flask app is made. No I/O.

The app registers the ``admission`` blueprint (``POST /validate``), the
``health`` blueprint (``/healthz``, ``/readyz``, ``/metrics``) and, only
when ``settings.enable_noop_endpoint`` is set, the ``benchmark`` blueprint
(``POST /noop``). Every error Flask raises itself (404, 405, an unexpected
exception) is answered with JSON; an unexpected exception never allows.
Nothing runs at import and nothing is started here: the worker module loads
policies and starts the file watchers before calling this.
"""

from __future__ import annotations

import flask
import werkzeug.exceptions

from webhook.server import health, logs, metrics, reviews, runtime, settings, state


def _http_error(err: werkzeug.exceptions.HTTPException) -> flask.Response:
    status = err.code or 500
    response = reviews.refuse(status, err.description or err.name)
    if isinstance(err, werkzeug.exceptions.MethodNotAllowed) and err.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(err.valid_methods))
    return response


def _unexpected(err: Exception) -> flask.Response:
    runtime.current().log.error("unexpected error", extra=logs.fields(exception=type(err).__name__))
    return reviews.refuse(500, "internal error")


def create_app(settings: settings.Settings, state: state.State) -> flask.Flask:
    """A Flask app answering AdmissionReviews with the policies ``state`` holds."""
    app = flask.Flask("webhook.server")
    app.extensions[runtime.EXTENSION] = runtime.Runtime(
        settings=settings,
        state=state,
        metrics=metrics.Metrics(state),
        log=logs.logger("server"),
        review_log=logs.ReviewLog(level=settings.log_level),
    )
    app.register_blueprint(reviews.blueprint)
    app.register_blueprint(health.blueprint)
    if settings.enable_noop_endpoint:
        app.register_blueprint(reviews.benchmark_blueprint)
    app.register_error_handler(werkzeug.exceptions.HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app
