"""``bulkhead serve``: the front's process, its worker processes, reloads and shutdown. I/O.

One process runs the front (on uvloop when installed): it listens on
``address:port`` with TLS (the webhook port) and on ``address:probe_port``
without (``/healthz``, ``/readyz``, ``/metrics``), reads every request whole
under the front's deadlines and limits (``listener``, ``connection``), and
answers it as ``routes`` says: small reviews judged in its own loop with
what it loaded (``reloading.load``), the rest by ``workers`` worker
processes (``pool``; each runs the Flask app of ``create_app``). The front
polls the certificate files every ``reload_interval`` and swaps the TLS
context for new handshakes when they change (open connections keep theirs,
so nothing is dropped; a new context also starts with an empty session
cache, so no session from before a client-CA change can be resumed); an
unusable new pair is logged and the previous one stays.

SIGTERM or SIGINT: answer every request with ``Connection: close`` and close
the connections still idle after ``drain_grace``, but keep accepting until no
new connection has come to the webhook port for ``shutdown_quiet`` seconds
(a client whose view of the Service's endpoints still lists this Pod is
answered, not refused); then stop accepting, answer what still arrives on
open connections, stop the workers, exit 0. Whatever is still open
``shutdown_timeout`` seconds after the signal is cut. ``/readyz`` says 503
from the moment shutdown starts.
"""

from __future__ import annotations

import asyncio
import datetime
import importlib
import signal
import socket
import ssl
import typing
from collections.abc import Callable, Coroutine
from typing import Any, Final

from webhook import jsonlogs, policyfiles
from webhook.server import loaded, reloading, reviews, settings, tls
from webhook.server.front import listener, routes

_LOG: Final = jsonlogs.logger("serve")
_STARTUP_TIMEOUT: Final = 60.0
EXIT_OK: Final = 0


class ServeError(RuntimeError):
    """The server cannot start; the message says why."""


def _listening_socket(address: str, port: int) -> socket.socket:
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


async def _reload_certificates(
    config: settings.Settings, contexts: listener.TlsContexts, server: routes.Server, seen: str
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
    held: loaded.State,
    *,
    webhook_socket: socket.socket,
    probe_socket: socket.socket,
    context: ssl.SSLContext,
    not_after: datetime.datetime,
    seen: str,
) -> int:
    loop = asyncio.get_running_loop()
    server = routes.Server(config, held)
    server.not_after = not_after
    try:
        await server.pool.start(_STARTUP_TIMEOUT)
    except TimeoutError as err:
        await server.pool.stop(1.0)
        raise ServeError(f"the workers did not start within {_STARTUP_TIMEOUT:.0f} s") from err
    contexts = listener.TlsContexts(context)
    await server.front.listen(webhook_socket, context=contexts)
    await server.front.listen(probe_socket, context=None)
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
    host, port = webhook_socket.getsockname()[:2]
    _LOG.info(
        "serving",
        extra=jsonlogs.fields(
            address=host,
            port=port,
            probePort=probe_socket.getsockname()[1],
            workers=config.workers,
            clientCertificates=bool(config.client_ca_file),
        ),
    )
    await stop.wait()
    why = reason[0] if reason else "stop"
    _LOG.info(
        "shutting down", extra=jsonlogs.fields(reason=why, open=len(server.front.connections))
    )
    began = loop.time()
    deadline = began + config.shutdown_timeout
    server.front.begin_stopping()
    reloader.cancel()
    quiet = await server.front.until_quiet(config.shutdown_quiet, config.shutdown_timeout)
    server.front.stop_accepting()
    _LOG.info(
        "listeners closed",
        extra=jsonlogs.fields(quiet=quiet, waitedSeconds=round(loop.time() - began, 1)),
    )
    if not await server.front.drained(max(0.0, deadline - loop.time())):
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

    ``webhook.kube`` is imported here, not at the top: it brings in the
    Kubernetes client, about 15 MB that only cluster mode uses.
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
    webhook_socket = _listening_socket(config.address, config.port)
    probe_socket = _listening_socket(config.address, config.probe_port)
    held, watcher = reloading.load(config)  # what the front judges small reviews with
    watcher.start()
    reviews.tune_collector()
    try:
        return _event_loop_runner()(
            _run(
                config,
                held,
                webhook_socket=webhook_socket,
                probe_socket=probe_socket,
                context=context,
                not_after=facts.not_after,
                seen=seen,
            )
        )
    finally:
        watcher.stop()
        webhook_socket.close()
        probe_socket.close()
