"""``POST /validate``: decode the AdmissionReview, delegate to ``admission.decide``, reply.

No I/O beyond reading a WSGI request's body and writing the review's log
line; the front (reviews up to ``routes.INLINE_MAX_BYTES``) and the workers'
app (the rest) answer with this same code, each with its own ``Runtime``.
The endpoint is thin on purpose: bytes checks live in ``decoding``, the
verdict in ``admission``. Contract:

* every answer is an ``admission.k8s.io/v1`` AdmissionReview echoing the
  request uid (``""`` when the body has none), never a patch, and never
  larger than ``bounds.MAX_RESPONSE_BYTES`` (a uid over ``MAX_UID_CHARS``
  is refused);
* an unusable body is refused with its HTTP status (400, 405, 413, 415) and
  a JSON AdmissionReview body that does not allow anything;
* a failure inside the decision is a denial with code 500 that still
  echoes the uid; the process lives on and the log names only the exception
  type (its text might quote the object).

``POST /noop`` (only when ``enable_noop_endpoint`` is set) does everything
``/validate`` does except judging, so a benchmark can tell the decision's
cost from the server's.

``answer`` takes a request already read whole (``frames.Request``);
``answer_wsgi`` reads one from a WSGI environ first. In the workers'
app these two paths skip Flask's request and response objects, which cost
more than the decision itself (``factory.WebhookApp`` routes them here and
every other path through Flask). ``refuse`` is shared by all, so a refusal
looks, counts and logs the same whichever way it came.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import gc
import http
import json
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from webhook import admission, jsonlogs
from webhook.admission import review
from webhook.rules import podview
from webhook.server import bounds, decoding, frames, loaded, logs, metrics, settings, verification
from webhook.supplychain import verifier

if TYPE_CHECKING:  # the Kubernetes client is imported only by a webhook watching the cluster
    from webhook.server import events, pullsecrets

#: An HTTP answer: status line, headers, body.
Answer = tuple[str, list[tuple[str, str]], bytes]

#: Kubernetes uids are 36 characters; a longer one is refused, never echoed.
MAX_UID_CHARS: Final = 128
_STATUS: Final = {s.value: f"{s.value} {s.phrase}" for s in http.HTTPStatus}
_CONTENT_TYPE: Final = ("Content-Type", "application/json")
_DUMPS: Final = json.JSONEncoder(separators=(",", ":")).encode


#: The collector's youngest-generation threshold while serving (Python's default is 700).
#: Answering a review allocates many short-lived objects that never form cycles; a
#: hostile review with 170,000 findings made the default rescan them over and over
#: (``benchmarks/decision.py``: 1.0-1.2 s of CPU, 0.8-0.9 s with this threshold).
#: The cost is at most this many objects of garbage awaiting a collection.
COLLECTOR_THRESHOLD: Final = 10_000


def tune_collector() -> None:
    """Set up the garbage collector for serving, once what lives forever is loaded.

    The objects alive now (modules, compiled policies) are frozen out of every
    later collection, and the youngest generation is collected less often.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(COLLECTOR_THRESHOLD, middle, oldest)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    """What answering a review needs: settings, what is loaded, where counts and logs go."""

    settings: settings.Settings
    state: loaded.State
    metrics: metrics.Recorder
    log: logging.Logger
    review_log: logs.ReviewLog
    #: Verifies images for ``imageSignatures`` (``verification``), kept between reviews; the
    #: front has none: it leaves every review to a worker while such a policy is in force.
    verifier: verifier.Verifier | None = None
    #: The cluster's pull Secrets, with ``--registry-pull-secrets`` (``verification``)
    pull_secrets: pullsecrets.PullSecretCache | None = None
    #: posts PolicyViolation Events (only when watching the cluster: ``emitter``)
    events: events.Emitter | None = None


def emitter(config: settings.Settings) -> events.Emitter | None:
    """A started PolicyViolation Events emitter when watching the cluster, else ``None``.

    Imported only then: it brings in the Kubernetes client.
    """
    if not config.watch_cluster:
        return None
    from webhook.server import events  # noqa: PLC0415 - see above

    return events.start(config.kubeconfig)


def _json(status: int, body: object, *extra: tuple[str, str]) -> Answer:
    return _STATUS.get(status, f"{status} Error"), [_CONTENT_TYPE, *extra], _DUMPS(body).encode()


def drain(environ: Mapping[str, Any]) -> None:
    """Read what is left of a WSGI request's body before refusing the request.

    An unread body makes a WSGI server close the connection early, and a
    client still sending may then see a reset instead of the answer. The
    front caps what one request can send, so this reads at most that much.
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        while stream.read(1024 * 1024):
            pass


def refuse(
    rt: Runtime,
    path: str,
    status: int,
    message: str,
    *,
    uid: str = "",
    headers: tuple[tuple[str, str], ...] = (),
) -> Answer:
    """An HTTP error whose JSON body is an AdmissionReview that allows nothing."""
    rt.metrics.refused(status)
    rt.log.warning(
        "request refused",
        extra=jsonlogs.fields(code=status, uid=uid, reason=message, path=path),
    )
    if len(uid) > MAX_UID_CHARS:
        uid = ""  # never a uid as long as the body: the answer stays small
    refusal = review.response(uid, allowed=False, code=status, message=message)
    return _json(status, refusal, *headers)


def _body(environ: Mapping[str, Any]) -> bytes:
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


def _decide(rt: Runtime, request: admission.Request) -> admission.Decision:
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
        now = datetime.datetime.now(datetime.UTC)
        evidence = verification.evidence(
            rt.verifier,
            rt.metrics,
            request,
            policies.policies,
            namespace_labels=namespace.labels,
            now=now,
            timeout=rt.settings.registry_timeout,
            pull_secrets=rt.pull_secrets,
        )
        return admission.decide(
            request,
            policies.policies,
            namespace_labels=namespace.labels,
            namespace_complete=namespace.complete,
            now=now,
            evidence=evidence,
            cap=rt.settings.findings_per_policy,
            isolation=rt.state.isolation,
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


_NOT_JUDGED: Final = admission.SKIPPED  # the benchmark no-op endpoint
_POST_ONLY: Final = (("Allow", "POST"),)
#: What werkzeug says for a 405, so both paths answer alike.
_NOT_ALLOWED: Final = "The method is not allowed for the requested URL."


def _review(rt: Runtime, request: frames.Request, *, judge: bool) -> Answer:
    started = time.perf_counter()
    if request.method != "POST":
        return refuse(rt, request.path, 405, _NOT_ALLOWED, headers=_POST_ONLY)
    if not decoding.content_type_ok(request.content_type):
        return refuse(rt, request.path, 415, "the content type must be application/json")
    try:
        body = decoding.decode(request.body)
    except decoding.BodyError as err:
        return refuse(rt, request.path, err.status, str(err))
    try:
        parsed = admission.parse(body)
    except admission.ReviewError as err:
        return refuse(rt, request.path, 400, str(err), uid=admission.uid_of(body))
    if len(parsed.uid) > MAX_UID_CHARS:
        return refuse(
            rt, request.path, 400, f"request.uid is longer than {MAX_UID_CHARS} characters"
        )
    decision = _decide(rt, parsed) if judge else _NOT_JUDGED
    outcome = "error" if decision.code == 500 else decision.outcome if judge else "noop"
    answer = _STATUS[200], [_CONTENT_TYPE], bounds.encoded_review(decision, parsed.uid)
    seconds = time.perf_counter() - started
    rt.metrics.review(
        outcome=outcome, kind=parsed.kind, seconds=seconds, violations=decision.violations
    )
    if rt.events is not None and judge:
        rt.events.offer(parsed, decision, rt.state.policies.policies)
    rt.review_log.write(
        parsed,
        outcome=outcome,
        code=decision.code,
        violations=decision.violations,
        seconds=seconds,
    )
    return answer


def answer(rt: Runtime, request: frames.Request, *, judge: bool) -> Answer:
    """The answer to a request read whole, for ``/validate`` (``judge``) or ``/noop``; never raises.

    The headers carry no ``Content-Length``: whoever sends the body adds it.
    """
    try:
        return _review(rt, request, judge=judge)
    except Exception as err:
        rt.log.error("unexpected error", extra=jsonlogs.fields(exception=type(err).__name__))
        return refuse(rt, request.path, 500, "internal error")


def answer_wsgi(rt: Runtime, environ: Mapping[str, Any], *, judge: bool) -> Answer:
    """``answer`` for a WSGI request; the body is read here, at most ``MAX_BODY_BYTES``."""
    path = str(environ.get("PATH_INFO", ""))
    method = str(environ.get("REQUEST_METHOD", ""))
    content_type = str(environ.get("CONTENT_TYPE") or "")
    body = b""
    if method == "POST" and decoding.content_type_ok(content_type):
        try:
            body = _body(environ)
        except decoding.BodyError as err:
            drain(environ)
            return refuse(rt, path, err.status, str(err))
    else:
        drain(environ)
    request = frames.Request(
        method=method, path=path, content_type=content_type, accept="", body=body
    )
    return answer(rt, request, judge=judge)
