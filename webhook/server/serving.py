"""``bulkhead serve``: the front's event loop, its worker processes, reloads and shutdown. I/O.

One process runs the front (``front``, on uvloop when installed): it listens
on ``address:port`` with TLS (the webhook port) and on
``address:probe_port`` without (``/healthz``, ``/readyz``, ``/metrics``),
reads every request whole under the front's deadlines and limits, and hands
complete requests to ``workers`` worker processes (``pool``; each runs the
Flask app of ``create_app``). Routes:

=============  ============  ===========================================
path           webhook port  probe port
=============  ============  ===========================================
``/validate``  a worker      404
``/noop``      a worker      404 (and on the webhook port only if enabled)
``/readyz``    a worker      a worker (ahead of queued reviews)
``/healthz``   the front     the front
``/metrics``   404           the front
anything else  a worker      404
=============  ============  ===========================================

A review not answered within ``decision_timeout`` of being read whole is
denied by the front (HTTP 200, ``allowed: false``, code 500, the request's
uid); a worker that judged it that long is replaced. The front polls the
certificate files every ``reload_interval`` and swaps the TLS context for
new handshakes when they change (open
connections keep theirs, so nothing is dropped; a new context also starts
with an empty session cache, so no session from before a client-CA change
can be resumed); an unusable new pair is logged and the previous one stays.

SIGTERM or SIGINT: stop accepting, answer every request still arriving on
open connections (``Connection: close``) and close the connections still idle
after ``drain_grace``, stop the workers, exit 0;
whatever is still open after ``shutdown_timeout`` is cut. ``/readyz`` says
503 from the moment shutdown starts.
"""

from __future__ import annotations

import asyncio
import datetime
import importlib
import os
import re
import signal
import socket
import ssl
import sys
import typing
from collections.abc import Callable, Coroutine
from typing import Any, Final

from webhook import jsonlogs, policyfiles
from webhook.admission import review
from webhook.server import frames, front, metrics, pool, settings, tls, worker

_LOG: Final = jsonlogs.logger("serve")
_STARTUP_TIMEOUT: Final = 60.0
EXIT_OK: Final = 0
MIB: Final = 1024 * 1024
#: Where the uid of an AdmissionReview is, as the apiserver writes it (for the deadline's denial).
_UID: Final = re.compile(rb'"request"\s*:\s*\{\s*"uid"\s*:\s*"([0-9A-Za-z_.:-]{1,128})"')
_WORKER_COMMAND: Final = (
    sys.executable,
    "-c",
    "from webhook.server import worker; worker.main()",
)
_REVIEW_PATHS: Final = frozenset({"/validate", "/noop"})


class ServeError(RuntimeError):
    """The server cannot start; the message says why."""


def _listener(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        return socket.create_server((address, port), family=family, backlog=1024)
    except OSError as err:
        raise ServeError(f"cannot listen on {address}:{port}: {err}") from err


def _context(config: settings.Settings) -> ssl.SSLContext:
    return tls.server_context(
        cert_file=config.tls_cert_file,
        key_file=config.tls_private_key_file,
        client_ca_file=config.client_ca_file,
    )


def _tls_files(config: settings.Settings) -> tuple[str, str, str | None]:
    return config.tls_cert_file, config.tls_private_key_file, config.client_ca_file


def limits(config: settings.Settings) -> front.Limits:
    return front.Limits(
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
    return front.json_answer(200, answer)[2]


class Server:
    """The routes of both ports, the pool behind them and the metrics of both."""

    def __init__(self, config: settings.Settings) -> None:
        self.config = config
        self.policies = 0
        self.reload_failing = False
        self.not_after: datetime.datetime | None = None
        self.metrics = metrics.Metrics(
            policies=lambda: float(self.policies),
            reload_failing=lambda: 1.0 if self.reload_failing else 0.0,
            certificate_seconds_left=self._seconds_left,
            open_connections=lambda: float(len(self.front.connections)),
            busy_workers=lambda: float(self.pool.busy),
        )
        self.front = front.Front(
            handler=self.handle,
            limits=limits(config),
            on_refused=self.metrics.refused,
            on_evicted=self.metrics.evicted.inc,
        )
        env = dict(os.environ)
        env[worker.SETTINGS_ENV] = config.to_json()
        self.pool = pool.Pool(
            command=_WORKER_COMMAND,
            env=env,
            fd_env=worker.FD_ENV,
            size=config.workers,
            decision_timeout=config.decision_timeout,
            on_reply=self._replied,
            on_timeout=self.metrics.timeouts.inc,
        )

    def _seconds_left(self) -> float:
        if self.not_after is None:
            return float("nan")
        return (self.not_after - datetime.datetime.now(datetime.UTC)).total_seconds()

    def _replied(self, reply: frames.Reply) -> None:
        self.metrics.apply(reply.events)
        self.policies = reply.policies
        self.reload_failing = reply.reload_failing

    # routing ---------------------------------------------------------------

    def handle(self, connection: Any, incoming: front.Incoming) -> None:
        request = incoming.request
        path = request.path
        probe = connection.tls is None
        if path == "/healthz":
            connection.respond(*front.json_answer(200, {"status": "ok"}))
            return
        if path == "/readyz" and self.front.stopping:
            connection.respond(
                *front.json_answer(503, {"ready": False, "reasons": ["shutting down"]})
            )
            return
        if probe:
            if path == "/metrics":
                body, content_type = metrics.exposition(self.metrics, request.accept)
                connection.respond("200 OK", (("Content-Type", content_type),), body)
            elif path == "/readyz":
                self._to_worker(connection, request, urgent=True)
            else:
                self.metrics.refused(404)
                connection.respond(*front.refusal(404, f"no {path} on the probe port"))
            return
        if path == "/metrics":
            self.metrics.refused(404)
            connection.respond(*front.refusal(404, "metrics are served on the probe port"))
            return
        self._to_worker(connection, request, urgent=path == "/readyz")

    def _to_worker(self, connection: Any, request: frames.Request, *, urgent: bool) -> None:
        review_path = request.path in _REVIEW_PATHS
        uid = uid_in(request.body) if review_path else ""
        frame = frames.encode_request(request)  # the frame is the only copy of the body kept

        def done(outcome: pool.Outcome, reply: frames.Reply | None) -> None:
            if reply is not None:
                connection.respond(reply.status, reply.headers, reply.body)
            elif outcome is pool.Outcome.TIMEOUT and review_path:
                self.metrics.apply(
                    (("review", "error", "other", self.config.decision_timeout, ()),)
                )
                connection.respond(
                    "200 OK",
                    (("Content-Type", "application/json"),),
                    timeout_denial(uid, self.config.decision_timeout),
                )
            else:
                connection.respond(*front.refusal(500, "the worker judging this request exited"))

        self.pool.submit(frame, done, urgent=urgent)


async def _reload_certificates(
    config: settings.Settings, contexts: front.TlsContexts, server: Server, seen: str
) -> None:
    """Every ``reload_interval``: when the files changed, swap in a new context if it loads."""
    while True:
        await asyncio.sleep(config.reload_interval)
        current = tls.fingerprint(_tls_files(config))
        if current == seen:
            continue
        seen = current
        try:
            context = _context(config)
            facts = tls.describe(config.tls_cert_file)
        except tls.TlsError as err:
            _LOG.warning(
                "certificate reload failed; the previous certificate stays in use",
                extra=jsonlogs.fields(error=str(err)),
            )
            continue
        contexts.use(context)
        server.not_after = facts.not_after
        _LOG.info(
            "certificate reloaded",
            extra=jsonlogs.fields(subject=facts.subject, notAfter=facts.not_after.isoformat()),
        )


async def _run(
    config: settings.Settings,
    *,
    listener: socket.socket,
    probe_listener: socket.socket,
    context: ssl.SSLContext,
    not_after: datetime.datetime,
    seen: str,
) -> int:
    loop = asyncio.get_running_loop()
    server = Server(config)
    server.not_after = not_after
    try:
        await server.pool.start(_STARTUP_TIMEOUT)
    except TimeoutError as err:
        await server.pool.stop(1.0)
        raise ServeError(f"the workers did not start within {_STARTUP_TIMEOUT:.0f} s") from err
    contexts = front.TlsContexts(context)
    await server.front.listen(listener, context=contexts)
    await server.front.listen(probe_listener, context=None)
    stop = asyncio.Event()
    reason: list[str] = []

    def request_stop(why: str) -> Callable[[], None]:
        def handler() -> None:
            reason.append(why)
            stop.set()

        return handler

    loop.add_signal_handler(signal.SIGTERM, request_stop("SIGTERM"))
    loop.add_signal_handler(signal.SIGINT, request_stop("SIGINT"))
    reloader = loop.create_task(_reload_certificates(config, contexts, server, seen))
    host, port = listener.getsockname()[:2]
    _LOG.info(
        "serving",
        extra=jsonlogs.fields(
            address=host,
            port=port,
            probePort=probe_listener.getsockname()[1],
            workers=config.workers,
            clientCertificates=bool(config.client_ca_file),
        ),
    )
    await stop.wait()
    why = reason[0] if reason else "stop"
    _LOG.info(
        "shutting down", extra=jsonlogs.fields(reason=why, open=len(server.front.connections))
    )
    server.front.stop_accepting()
    reloader.cancel()
    if not await server.front.drained(config.shutdown_timeout):
        _LOG.warning("connections still open at the deadline; closing them")
        server.front.abort_all()
    await server.pool.stop(5.0)
    _LOG.info("stopped")
    return EXIT_OK


Runner = Callable[[Coroutine[Any, Any, int]], int]


def _event_loop_runner() -> Runner:
    """``uvloop.run`` when uvloop is installed, else ``asyncio.run``."""
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return asyncio.run
    run = getattr(uvloop, "run", None)
    return typing.cast(Runner, run) if callable(run) else asyncio.run


def _check_cluster_credentials(config: settings.Settings) -> None:
    """``ServeError`` unless ``--kubeconfig`` or the in-cluster account is usable.

    ``webhook.kube`` is imported here, not at the top: the front never needs the
    Kubernetes client, about 15 MB that only the workers' ``watch_cluster`` uses.
    """
    from webhook import kube  # noqa: PLC0415 - see above

    try:
        kube.client_configuration(kubeconfig=config.kubeconfig)
    except kube.ConfigError as err:
        raise ServeError(str(err)) from err


def _refuse_no_policies(config: settings.Settings) -> None:
    """``ServeError`` when the policy files and profiles hold no policy at all.

    Other problems with the files do not stop the start: the worker reports
    them on ``/readyz`` and loads the files once they are fixed.
    """
    try:
        policyfiles.load(config.policy_files, config.profiles, latest_minor=config.pss_latest_minor)
    except policyfiles.NoPoliciesError as err:
        raise ServeError(str(err)) from err
    except policyfiles.PolicyFileError:
        return


def serve(config: settings.Settings) -> int:
    """Run until SIGTERM/SIGINT; the exit status (0: clean shutdown)."""
    jsonlogs.configure(config.log_level)
    seen = tls.fingerprint(_tls_files(config))
    try:
        context = _context(config)
        facts = tls.describe(config.tls_cert_file)
        policyfiles.compile_profiles(config.profiles, latest_minor=config.pss_latest_minor)
    except (tls.TlsError, policyfiles.PolicyFileError) as err:
        raise ServeError(str(err)) from err
    if not config.watch_cluster:
        _refuse_no_policies(config)
    if config.watch_cluster:  # fail here, clearly, rather than in the workers
        _check_cluster_credentials(config)
    listener = _listener(config.address, config.port)
    probe_listener = _listener(config.address, config.probe_port)
    try:
        return _event_loop_runner()(
            _run(
                config,
                listener=listener,
                probe_listener=probe_listener,
                context=context,
                not_after=facts.not_after,
                seen=seen,
            )
        )
    finally:
        listener.close()
        probe_listener.close()
