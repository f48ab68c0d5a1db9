"""``POST /validate``: decode the AdmissionReview, delegate to ``admission.decide``, reply.

No I/O beyond reading the request body. The view is thin on purpose: bytes
checks live in ``decoding``, the verdict in ``admission``. Contract:

* every answer is an ``admission.k8s.io/v1`` AdmissionReview echoing the
  request uid (``""`` when the body has none), never a patch;
* an unusable body is refused with its HTTP status (400, 413, 415) and a
  JSON AdmissionReview body that does not allow anything;
* a failure inside the decision is a denial with code 500 that still
  echoes the uid; the worker lives on and the log names only the exception
  type (its text might quote the object).

``POST /noop`` (the ``benchmark`` blueprint, registered only when
``enable_noop_endpoint`` is set) does everything ``/validate`` does except
judging, so a benchmark can tell the decision's cost from the server's.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import time

import flask

from webhook import admission
from webhook.admission import review
from webhook.server import decoding, logs, runtime, settings

blueprint = flask.Blueprint("admission", __name__)
benchmark_blueprint = flask.Blueprint("benchmark", __name__)


def _json(status: int, body: object) -> flask.Response:
    return flask.Response(
        json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json"
    )


def _drain() -> None:
    """Read what is left of the body before refusing the request.

    An unread body makes the server close the connection early, and a client
    still sending may then see a reset instead of the answer. The front caps
    what one request can send, so this reads at most that much.
    """
    stream = flask.request.environ.get("wsgi.input")
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        while stream.read(1024 * 1024):
            pass


def refuse(status: int, message: str, *, uid: str = "") -> flask.Response:
    """An HTTP error whose JSON body is an AdmissionReview that allows nothing."""
    _drain()
    rt = runtime.current()
    rt.metrics.rejected.labels(str(status)).inc()
    rt.log.warning(
        "request refused",
        extra=logs.fields(code=status, uid=uid, reason=message, path=flask.request.path),
    )
    return _json(status, review.response(uid, allowed=False, code=status, message=message))


def _body() -> bytes:
    """The body, read straight from the WSGI environ (werkzeug's wrappers cost more here)."""
    environ = flask.request.environ
    if not decoding.content_type_ok(environ.get("CONTENT_TYPE")):
        raise decoding.BodyError(415, "the content type must be application/json")
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            raise decoding.BodyError(400, "the Content-Length header is not a number")
        if len(declared) > 12 or int(declared) > settings.MAX_BODY_BYTES:
            raise decoding.BodyError(
                413, f"the body is larger than {settings.MAX_BODY_BYTES} bytes"
            )
    data = environ["wsgi.input"].read(settings.MAX_BODY_BYTES + 1)
    return data if isinstance(data, bytes) else bytes(data)


def _decide(rt: runtime.Runtime, request: admission.Request) -> admission.Decision:
    policies = rt.state.policies
    if not policies.loaded:
        return admission.Decision(
            allowed=False,
            code=500,
            message=f"Bulkhead cannot judge {request.label}: no policy set is loaded "
            f"({policies.error}); the request is refused",
        )
    try:
        return admission.decide(
            request,
            policies.policies,
            namespace_labels=rt.state.namespace_labels(request.namespace),
            now=datetime.datetime.now(datetime.UTC),
        )
    except Exception as err:
        rt.log.error(
            "decision failed",
            extra=logs.fields(uid=request.uid, kind=request.kind, exception=type(err).__name__),
        )
        return admission.Decision(
            allowed=False,
            code=500,
            message=f"Bulkhead could not judge {request.label}: internal error "
            f"({type(err).__name__}); the request is refused",
        )


_NOT_JUDGED = admission.Decision(allowed=True, judged=False, note="benchmark no-op")


def _answer(*, judge: bool) -> flask.Response:
    rt = runtime.current()
    started = time.perf_counter()
    try:
        body = decoding.decode(_body())
    except decoding.BodyError as err:
        return refuse(err.status, str(err))
    uid = admission.uid_of(body)
    try:
        request = admission.parse(body)
    except admission.ReviewError as err:
        return refuse(400, str(err), uid=uid)
    decision = _decide(rt, request) if judge else _NOT_JUDGED
    outcome = decision.outcome if judge else "noop"
    if decision.code == 500:
        outcome = "error"
    answer = _json(200, decision.to_review(request.uid))
    seconds = time.perf_counter() - started
    rt.metrics.review(
        outcome=outcome, kind=request.kind, seconds=seconds, violations=decision.violations
    )
    rt.review_log.write(
        request,
        outcome=outcome,
        code=decision.code,
        violations=decision.violations,
        seconds=seconds,
    )
    return answer


@blueprint.post("/validate", provide_automatic_options=False)
def validate() -> flask.Response:
    return _answer(judge=True)


@benchmark_blueprint.post("/noop", provide_automatic_options=False)
def noop() -> flask.Response:
    return _answer(judge=False)
