"""``bulkhead serve``: the worker under granian, the TLS front before it. Process and network I/O.

Three processes, one job each:

* this one (the front): binds ``address:port``, terminates TLS with the
  certificate in force, relays each connection to the worker, polls the
  certificate files every ``reload_interval`` and swaps the TLS context in
  place when they change (new handshakes get the new certificate, open
  connections are untouched, nothing is dropped); an unusable new pair is
  logged and the previous one stays;
* granian (``python -m granian``, WSGI, one worker, HTTP/1.1 on a Unix
  socket in a private 0700 directory): a production server running
  ``webhook.server.worker:application``; it respawns a worker that dies;
* the worker: the Flask app, its policies and its own file watcher.

SIGTERM or SIGINT: stop accepting, let granian finish the reviews it has
(it closes idle connections and answers in-flight ones), relay the answers,
then exit 0; whatever is still open after ``shutdown_timeout`` is cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import http.client
import importlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import typing
from collections.abc import Callable, Coroutine
from typing import Any, Final

from webhook import jsonlogs, policyfiles
from webhook.server import front, settings, tls, worker

_LOG: Final = jsonlogs.logger("serve")
_STARTUP_TIMEOUT: Final = 60.0
#: Bytes one request may send before the front answers 413 itself (body limit + headers).
MAX_REQUEST_BYTES: Final = settings.MAX_BODY_BYTES + 256 * 1024
_PR_SET_PDEATHSIG: Final = 1
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1


class ServeError(RuntimeError):
    """The server cannot start; the message says why."""


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _worker_healthy(path: str) -> bool:
    connection = _UnixHTTPConnection(path, timeout=2.0)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _die_with_parent() -> None:
    """In the granian child: get SIGTERM if this serving process dies (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def granian_command(socket_path: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--factory",
        "--uds",
        socket_path,
        "--workers",
        "1",
        "--blocking-threads",
        "1",
        "--runtime-threads",
        "1",
        "--runtime-mode",
        "st",
        "--http",
        "1",
        "--no-ws",
        "--backlog",
        "1024",
        "--respawn-failed-workers",
        "--respawn-interval",
        "0.5",
        "--log-level",
        "warning",
        "--no-access-log",
        "webhook.server.worker:application",
    ]


def _start_worker(config: settings.Settings, socket_path: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env[worker.SETTINGS_ENV] = config.to_json()
    # preexec_fn only sets the parent-death signal, and no thread runs yet at this point
    return subprocess.Popen(
        granian_command(socket_path),
        env=env,
        start_new_session=True,
        preexec_fn=_die_with_parent,  # noqa: PLW1509
    )


def _wait_for_worker(process: subprocess.Popen[bytes], socket_path: str) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise ServeError(f"the worker server exited during start-up (status {code})")
        if os.path.exists(socket_path) and _worker_healthy(socket_path):
            return
        time.sleep(0.05)
    raise ServeError(f"the worker did not answer within {_STARTUP_TIMEOUT:.0f} s")


def _stop_worker(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        _LOG.warning("the worker did not stop in time; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _listener(config: settings.Settings) -> socket.socket:
    family = socket.AF_INET6 if ":" in config.address else socket.AF_INET
    try:
        return socket.create_server(
            (config.address, config.port), family=family, backlog=1024, reuse_port=False
        )
    except OSError as err:
        raise ServeError(f"cannot listen on {config.address}:{config.port}: {err}") from err


def _context(config: settings.Settings) -> ssl.SSLContext:
    return tls.server_context(
        cert_file=config.tls_cert_file,
        key_file=config.tls_private_key_file,
        client_ca_file=config.client_ca_file,
    )


def _tls_files(config: settings.Settings) -> tuple[str, str, str | None]:
    return config.tls_cert_file, config.tls_private_key_file, config.client_ca_file


async def _reload_certificates(config: settings.Settings, relay: front.Front, seen: str) -> None:
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
        relay.use(context)
        _LOG.info(
            "certificate reloaded",
            extra=jsonlogs.fields(subject=facts.subject, notAfter=facts.not_after.isoformat()),
        )


async def _run(
    config: settings.Settings,
    *,
    listener: socket.socket,
    socket_path: str,
    process: subprocess.Popen[bytes],
    context: ssl.SSLContext,
    seen: str,
) -> int:
    loop = asyncio.get_running_loop()
    relay = front.Front(
        upstream=socket_path,
        context=context,
        max_connections=config.max_connections,
        max_request_bytes=MAX_REQUEST_BYTES,
    )
    await relay.start(listener)
    stop = asyncio.Event()
    reason: list[str] = []

    def request_stop(why: str) -> Callable[[], None]:
        def handler() -> None:
            reason.append(why)
            stop.set()

        return handler

    loop.add_signal_handler(signal.SIGTERM, request_stop("SIGTERM"))
    loop.add_signal_handler(signal.SIGINT, request_stop("SIGINT"))
    exited = loop.run_in_executor(None, process.wait)
    exited.add_done_callback(lambda _: request_stop("worker server exited")())
    reloader = loop.create_task(_reload_certificates(config, relay, seen))
    host, port = listener.getsockname()[:2]
    _LOG.info(
        "serving",
        extra=jsonlogs.fields(
            address=host, port=port, clientCertificates=bool(config.client_ca_file)
        ),
    )
    await stop.wait()
    why = reason[0] if reason else "stop"
    _LOG.info("shutting down", extra=jsonlogs.fields(reason=why, open=len(relay.relays)))
    relay.stop_accepting()
    relay.close_idle()
    reloader.cancel()
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = loop.time() + config.shutdown_timeout
    drained = await relay.drained(config.shutdown_timeout)
    if not drained:
        _LOG.warning("connections still open at the deadline; closing them")
        relay.abort_all()
    try:
        await asyncio.wait_for(asyncio.shield(exited), max(0.1, deadline - loop.time()))
    except TimeoutError:
        _LOG.warning("the worker server did not stop in time; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await exited
    worker_code = process.poll()
    crashed = why == "worker server exited"
    _LOG.info("stopped", extra=jsonlogs.fields(workerStatus=worker_code))
    return EXIT_FAILED if crashed else EXIT_OK


Runner = Callable[[Coroutine[Any, Any, int]], int]


def _event_loop_runner() -> Runner:
    """``uvloop.run`` when uvloop is installed (the front is ~20 % faster), else ``asyncio.run``."""
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return asyncio.run
    run = getattr(uvloop, "run", None)
    return typing.cast(Runner, run) if callable(run) else asyncio.run


def _check_cluster_credentials(config: settings.Settings) -> None:
    """``ServeError`` unless ``--kubeconfig`` or the in-cluster account is usable.

    The cache is imported here, not at the top: importing this module (the
    worker does, through the package) must not load the Kubernetes client,
    about 15 MB that only ``watch_cluster`` needs.
    """
    from webhook.policy import cache  # noqa: PLC0415 - see above

    try:
        cache.client_configuration(kubeconfig=config.kubeconfig)
    except cache.ConfigError as err:
        raise ServeError(str(err)) from err


def serve(config: settings.Settings) -> int:
    """Run until SIGTERM/SIGINT; the exit status (0: clean shutdown)."""
    jsonlogs.configure(config.log_level)
    seen = tls.fingerprint(_tls_files(config))
    try:
        context = _context(config)
        tls.describe(config.tls_cert_file)
        policyfiles.compile_profiles(config.profiles, latest_minor=config.pss_latest_minor)
    except (tls.TlsError, policyfiles.PolicyFileError) as err:
        raise ServeError(str(err)) from err
    if config.watch_cluster:  # fail here, clearly, rather than in the worker
        _check_cluster_credentials(config)
    listener = _listener(config)
    with tempfile.TemporaryDirectory(prefix="bulkhead-") as private:
        socket_path = os.path.join(private, "worker.sock")
        process = _start_worker(config, socket_path)
        try:
            _wait_for_worker(process, socket_path)
            run = _event_loop_runner()
            return run(
                _run(
                    config,
                    listener=listener,
                    socket_path=socket_path,
                    process=process,
                    context=context,
                    seen=seen,
                )
            )
        finally:
            listener.close()
            _stop_worker(process, config.shutdown_timeout)
