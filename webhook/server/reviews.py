"""``POST /validate``: decode the AdmissionReview, delegate to ``admission.decide``, reply.

No I/O beyond reading the request body. The endpoint is thin on purpose:
bytes checks live in ``decoding``, the verdict in ``admission``. Contract:

* every answer is an ``admission.k8s.io/v1`` AdmissionReview echoing the
  request uid (``""`` when the body has none), never a patch, and never
  larger than ``bounds.MAX_RESPONSE_BYTES`` (a uid over ``MAX_UID_CHARS``
  is refused);
* an unusable body is refused with its HTTP status (400, 405, 413, 415) and
  a JSON AdmissionReview body that does not allow anything;
* a failure inside the decision is a denial with code 500 that still
  echoes the uid; the worker lives on and the log names only the exception
  type (its text might quote the object).

``POST /noop`` (only when ``enable_noop_endpoint`` is set) does everything
``/validate`` does except judging, so a benchmark can tell the decision's
cost from the server's.

These two paths are answered straight from the WSGI environ (``answer``),
not through Flask's request and response objects, which cost more than the
decision itself; ``app.WebhookApp`` routes them here and every other path
through Flask. ``refuse`` is shared by both, so a refusal looks, counts and
logs the same whichever way it came.
"""

from __future__ import annotations

import contextlib
import datetime
import http
import json
import time
from collections.abc import Mapping
from typing import Any, Final

from webhook import admission, jsonlogs
from webhook.admission import review
from webhook.rules import podview
from webhook.server import bounds, decoding, runtime, settings

#: An HTTP answer: status line, headers, body.
Answer = tuple[str, list[tuple[str, str]], bytes]

#: Kubernetes uids are 36 characters; a longer one is refused, never echoed.
MAX_UID_CHARS: Final = 128
_STATUS: Final = {s.value: f"{s.value} {s.phrase}" for s in http.HTTPStatus}
_CONTENT_TYPE: Final = ("Content-Type", "application/json")
_DUMPS: Final = json.JSONEncoder(separators=(",", ":")).encode


def _json(status: int, body: object, *extra: tuple[str, str]) -> Answer:
    data = _DUMPS(body).encode()
    headers = [_CONTENT_TYPE, ("Content-Length", str(len(data))), *extra]
    return _STATUS.get(status, f"{status} Error"), headers, data


def _drain(environ: Mapping[str, Any]) -> None:
    """Read what is left of the body before refusing the request.

    An unread body makes the server close the connection early, and a client
    still sending may then see a reset instead of the answer. The front caps
    what one request can send, so this reads at most that much.
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        while stream.read(1024 * 1024):
            pass


def refuse(
    rt: runtime.Runtime,
    environ: Mapping[str, Any],
    status: int,
    message: str,
    *,
    uid: str = "",
    headers: tuple[tuple[str, str], ...] = (),
) -> Answer:
    """An HTTP error whose JSON body is an AdmissionReview that allows nothing."""
    _drain(environ)
    rt.metrics.refused(status)
    rt.log.warning(
        "request refused",
        extra=jsonlogs.fields(code=status, uid=uid, reason=message, path=environ.get("PATH_INFO")),
    )
    if len(uid) > MAX_UID_CHARS:
        uid = ""  # never a uid as long as the body: the answer stays small
    refusal = review.response(uid, allowed=False, code=status, message=message)
    return _json(status, refusal, *headers)


def _body(environ: Mapping[str, Any]) -> bytes:
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
        namespace = rt.state.namespace(request.namespace)
        return admission.decide(
            request,
            policies.policies,
            namespace_labels=namespace.labels,
            namespace_complete=namespace.complete,
            now=datetime.datetime.now(datetime.UTC),
        )
    except podview.PodSpecError as err:  # a field the checks read, found unreadable while judging
        return admission.Decision(
            allowed=False, code=400, message=f"Bulkhead cannot read {request.label}: {err}"
        )
    except Exception as err:
        rt.log.error(
            "decision failed",
            extra=jsonlogs.fields(uid=request.uid, kind=request.kind, exception=type(err).__name__),
        )
        return admission.Decision(
            allowed=False,
            code=500,
            message=f"Bulkhead could not judge {request.label}: internal error "
            f"({type(err).__name__}); the request is refused",
        )


_NOT_JUDGED: Final = admission.Decision(allowed=True, judged=False, note="benchmark no-op")
_POST_ONLY: Final = (("Allow", "POST"),)
#: What werkzeug says for a 405, so both paths answer alike.
_NOT_ALLOWED: Final = "The method is not allowed for the requested URL."


def _review(rt: runtime.Runtime, environ: Mapping[str, Any], *, judge: bool) -> Answer:
    started = time.perf_counter()
    if environ.get("REQUEST_METHOD") != "POST":
        return refuse(rt, environ, 405, _NOT_ALLOWED, headers=_POST_ONLY)
    try:
        body = decoding.decode(_body(environ))
    except decoding.BodyError as err:
        return refuse(rt, environ, err.status, str(err))
    try:
        request = admission.parse(body)
    except admission.ReviewError as err:
        return refuse(rt, environ, 400, str(err), uid=admission.uid_of(body))
    if len(request.uid) > MAX_UID_CHARS:
        return refuse(rt, environ, 400, f"request.uid is longer than {MAX_UID_CHARS} characters")
    decision = _decide(rt, request) if judge else _NOT_JUDGED
    outcome = "error" if decision.code == 500 else decision.outcome if judge else "noop"
    data = bounds.encoded_review(decision, request.uid)
    answer = _STATUS[200], [_CONTENT_TYPE, ("Content-Length", str(len(data)))], data
    seconds = time.perf_counter() - started
    rt.metrics.review(
        outcome=outcome, kind=request.kind, seconds=seconds, violations=decision.violations
    )
    if rt.events is not None and judge:
        rt.events.offer(request, decision, rt.state.policies.policies)
    rt.review_log.write(
        request,
        outcome=outcome,
        code=decision.code,
        violations=decision.violations,
        seconds=seconds,
    )
    return answer


def answer(rt: runtime.Runtime, environ: Mapping[str, Any], *, judge: bool) -> Answer:
    """The answer to one request for ``/validate`` (``judge``) or ``/noop``; never raises."""
    try:
        return _review(rt, environ, judge=judge)
    except Exception as err:
        rt.log.error("unexpected error", extra=jsonlogs.fields(exception=type(err).__name__))
        return refuse(rt, environ, 500, "internal error")
