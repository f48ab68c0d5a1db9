"""The routes of both ports: what the front answers, judges, or gives a worker. No I/O itself.

=============  ==============================  ===========================
path           webhook port                    probe port
=============  ==============================  ===========================
``/validate``  the front (small), else a       404
               worker
``/noop``      as ``/validate`` (only when     404
               enabled)
``/readyz``    the front, then a worker        the front, then a worker
``/healthz``   the front                       the front
``/metrics``   404                             the front
anything else  a worker                        404
=============  ==============================  ===========================

A review whose body is at most ``INLINE_MAX_BYTES`` is judged in the
front's event loop (``reviews.answer``, tens of microseconds for a usual
Pod): a process hop costs more than the decision. The reviews read in one
loop iteration are judged one after the other once the iteration's reading
is done, and answered after each millisecond of judging and at the end
(``_judge_together``): back to back, the Python work of answering stays
in the processor's caches, where between TLS records and system calls it
would not, and a review costs 30-45 % less CPU under load
(``docs/server.md``); a review read in a burst does not wait for the whole
burst to be judged. A larger one, whose cost
grows with its size, goes to a worker so that it never holds the loop; so
does every review when judging could need a blocking look-up of a
namespace's labels (cluster mode with a ``namespaceSelector`` in force),
every review while a policy with ``imageSignatures`` is in force (verifying
images waits on registries: ``verification``), or while the front has no
policy set loaded. ``/readyz`` is ready only when
the front and a worker both are.

A review a worker has not answered within ``decision_timeout`` of being
read whole is denied by the front (HTTP 200, ``allowed: false``, code 500,
the request's uid); a worker that judged it that long is replaced.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import re
import sys
import time
from typing import Final

from webhook import jsonlogs
from webhook.admission import review
from webhook.server import frames, loaded, logs, metrics, reviews, settings
from webhook.server.front import answers, connection, listener, pool, workers

MIB: Final = 1024 * 1024
#: Reviews up to this size are judged in the front's event loop; larger ones by a worker.
INLINE_MAX_BYTES: Final = 32 * 1024
#: Judging time after which the reviews of a batch judged so far are answered (see
#: ``Server._judge_together``): about five usual Pod reviews under load.
ANSWER_AFTER_SECONDS: Final = 0.001
#: Where the uid of an AdmissionReview is, as the apiserver writes it (for the deadline's denial).
_UID: Final = re.compile(rb'"request"\s*:\s*\{\s*"uid"\s*:\s*"([0-9A-Za-z_.:-]{1,128})"')
_WORKER_COMMAND: Final = (
    sys.executable,
    "-c",
    "from webhook.server.app import worker; worker.main()",
)
_REVIEW_PATHS: Final = frozenset({"/validate", "/noop"})


def limits(config: settings.Settings) -> listener.Limits:
    return listener.Limits(
        handshake_timeout=config.handshake_timeout,
        header_timeout=config.header_timeout,
        body_timeout=config.body_timeout,
        idle_timeout=config.idle_timeout,
        drain_grace=config.drain_grace,
        max_connections=config.max_connections,
        max_body_bytes=settings.MAX_BODY_BYTES,
        body_budget_bytes=config.body_budget_mib * MIB,
    )


def uid_in(body: bytes) -> str:
    """The request uid where the apiserver writes it (first in ``request``), or ``""``."""
    found = _UID.search(body, 0, 64 * 1024)
    return found.group(1).decode() if found else ""


def timeout_denial(uid: str, seconds: float) -> bytes:
    """The answer to a review its worker did not judge in time: denied, with its uid."""
    answer = review.response(
        uid,
        allowed=False,
        code=500,
        message=f"Bulkhead could not judge this request within {seconds:g} s; "
        "it is refused (an object this expensive to judge is refused every time)",
    )
    return answers.json_answer(200, answer)[2]


class Server:
    """The routes of both ports, the pool behind them and the metrics of both.

    ``held`` is what the front itself judges with (``reloading.load``).
    """

    def __init__(self, config: settings.Settings, held: loaded.State) -> None:
        self.config = config
        self.held = held
        judged = (("/validate", True), ("/noop", False))
        #: the review paths the front judges itself: path -> whether it judges
        self.inline = {p: j for p, j in judged if j or config.enable_noop_endpoint}
        self.runtime = reviews.Runtime(
            settings=config,
            state=held,
            metrics=metrics.Recorder(),
            log=jsonlogs.logger("server"),
            review_log=logs.ReviewLog(level=config.log_level),
            events=reviews.emitter(config),
        )
        #: reviews read in this loop iteration, judged together (``_judge_together``)
        self._judging: list[tuple[connection.Connection, frames.Request, bool]] = []
        self.not_after: datetime.datetime | None = None
        self.metrics = metrics.Metrics(
            policies=lambda: float(len(held.policies.policies)),
            reload_failing=lambda: 0.0 if held.policies.error is None else 1.0,
            certificate_expiry=self._expiry,
            open_connections=lambda: float(len(self.front.connections)),
            busy_workers=lambda: float(self.pool.busy),
        )
        self.front = listener.Front(
            handler=self.handle,
            limits=limits(config),
            on_refused=self.metrics.refused,
            on_evicted=self.metrics.evicted.inc,
        )
        env = dict(os.environ)
        env[frames.SETTINGS_ENV] = config.to_json()
        self.pool = pool.Pool(
            command=_WORKER_COMMAND,
            env=env,
            fd_env=frames.FD_ENV,
            size=config.workers,
            decision_timeout=config.decision_timeout,
            on_reply=self._replied,
            on_timeout=self.metrics.timeouts.inc,
        )

    def _expiry(self) -> float:
        return float("nan") if self.not_after is None else self.not_after.timestamp()

    def _replied(self, reply: frames.Reply) -> None:
        self.metrics.apply(reply.events)

    # routing ---------------------------------------------------------------

    def handle(self, client: connection.Connection, incoming: connection.Incoming) -> None:
        request = incoming.request
        path = request.path
        probe = client.tls is None
        judge = None if probe else self.inline.get(path)
        if judge is not None and self._judges_inline(request):
            if not self._judging:
                asyncio.get_running_loop().call_soon(self._judge_together)
            self._judging.append((client, request, judge))
            client.answered_soon = True
            return
        if path == "/healthz":
            client.respond(*answers.json_answer(200, {"status": "ok"}))
            return
        if path == "/readyz" and self.front.stopping:
            client.respond(
                *answers.json_answer(503, {"ready": False, "reasons": ["shutting down"]})
            )
            return
        if path == "/readyz":
            readiness = self.held.readiness(now=datetime.datetime.now(datetime.UTC))
            if not readiness.ready:
                client.respond(*answers.json_answer(503, dict(readiness.detail)))
                return
        if probe:
            if path == "/metrics":
                body, content_type = metrics.exposition(self.metrics, request.accept)
                client.respond("200 OK", (("Content-Type", content_type),), body)
            elif path == "/readyz":
                self._to_worker(client, request, urgent=True)
            else:
                self.metrics.refused(404)
                client.respond(*answers.refusal(404, f"no {path} on the probe port"))
            return
        if path == "/metrics":
            self.metrics.refused(404)
            client.respond(*answers.refusal(404, "metrics are served on the probe port"))
            return
        self._to_worker(client, request, urgent=path == "/readyz")

    def _judge_together(self) -> None:
        """Judge the reviews read in this loop iteration one after the other, answering as it goes.

        Back to back, the decision's code and data stay in the processor's
        caches; between TLS records and system calls they would not. The
        reviews judged so far are answered whenever judging has run for
        ``ANSWER_AFTER_SECONDS``, so a review read in a burst waits for about
        that much of the others' judging, not for the whole burst's.
        """
        batch, self._judging = iter(self._judging), []
        while True:
            answered = []
            started = time.perf_counter()
            with self.runtime.review_log.held():  # these lines in one write, before the answers
                for client, request, judge in batch:  # resumes where the last round stopped
                    answered.append((client, reviews.answer(self.runtime, request, judge=judge)))
                    if time.perf_counter() - started >= ANSWER_AFTER_SECONDS:
                        break
            if not answered:
                return
            self._answer(answered)

    def _answer(self, answered: list[tuple[connection.Connection, reviews.Answer]]) -> None:
        """Send the answers of reviews judged together; their metrics first."""
        self.metrics.apply(self.runtime.metrics.take())
        for client, (status, headers, body) in answered:
            try:
                client.respond(status, tuple(headers), body)
            except Exception as err:  # one broken connection leaves no other unanswered
                self.runtime.log.error(
                    "answer failed", extra=jsonlogs.fields(exception=type(err).__name__)
                )
                client.abort()

    def _judges_inline(self, request: frames.Request) -> bool:
        """Small enough, and nothing that judging it could wait for (see the module docstring)."""
        return (
            len(request.body) <= INLINE_MAX_BYTES
            and self.held.policies.loaded
            and not self.held.may_look_up
            and not self.held.policies.verifies_images
        )

    def _to_worker(
        self, client: connection.Connection, request: frames.Request, *, urgent: bool
    ) -> None:
        review_path = request.path in _REVIEW_PATHS
        uid = uid_in(request.body) if review_path else ""
        frame = frames.encode_request(request)  # the frame is the only copy of the body kept

        def done(outcome: workers.Outcome, reply: frames.Reply | None) -> None:
            if reply is not None:
                client.respond(reply.status, reply.headers, reply.body)
            elif outcome is workers.Outcome.TIMEOUT and review_path:
                self.metrics.apply(
                    (("review", "error", "other", self.config.decision_timeout, ()),)
                )
                client.respond(
                    "200 OK",
                    (("Content-Type", "application/json"),),
                    timeout_denial(uid, self.config.decision_timeout),
                )
            else:
                client.respond(*answers.refusal(500, "the worker judging this request exited"))

        self.pool.submit(frame, done, urgent=urgent)
