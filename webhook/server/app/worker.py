"""A worker process: the Flask app answering complete requests from the front. Socket and file I/O.

The front (``pool``) starts each worker as ``python -c 'from webhook.server.app
import worker; worker.main()'`` with one end of a Unix socket pair as file
descriptor ``frames.FD_ENV`` and the settings the front resolved as JSON in
``frames.SETTINGS_ENV`` (the worker never re-reads flags or ``BULKHEAD_*``
variables, so both processes agree). ``main`` loads the policies and checks
the certificate, starts the file watcher, builds ``create_app(settings,
state)``, says hello and then answers one ``frames.Request`` at a time
through the app's WSGI entry until the front closes the socket.

A worker only ever sees a request the front has read whole, under its
deadlines and limits, so a slow client never holds one. A worker whose peak
memory passes ``worker_memory_mib`` asks to be replaced (``frames.RETIRE``),
which bounds what its caches and the objects it has judged can cost. It has no signal
handling of its own: it runs in its own session (a terminal's Ctrl-C goes
to the front only), ends when the front closes its socket, and the kernel
kills it if the front dies (``PR_SET_PDEATHSIG``).

The worker judges the reviews the front does not judge itself (large ones);
it loads what it judges with as the front does (``reloading.load``): with
``watch_cluster``, its own list and watch of the policy CRs and Namespaces,
and it is not ready until the first lists have loaded.
"""

from __future__ import annotations

import io
import os
import resource
import socket
import sys
from collections.abc import Callable
from typing import Any, Final

from webhook import jsonlogs
from webhook.server import frames, reloading, reviews, settings
from webhook.server.app import factory

_LENGTH_BYTES: Final = 4


def build(config: settings.Settings) -> tuple[factory.WebhookApp, reloading.Watcher]:
    """The app for ``config`` with policies and certificate loaded, and its (unstarted) watcher."""
    held, watcher = reloading.load(config)
    return factory.create_app(config, held), watcher


def environ(request: frames.Request) -> dict[str, Any]:
    """The WSGI environ of ``request`` (the front has already read and checked it)."""
    return {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": request.path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": request.content_type,
        "CONTENT_LENGTH": str(len(request.body)),
        "HTTP_ACCEPT": request.accept,
        "SERVER_NAME": "bulkhead",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _no_write(data: bytes) -> object:
    raise RuntimeError("the app must return its body, not write it")


_DROPPED_HEADERS: Final = frozenset({"content-length", "connection", "transfer-encoding"})


def answer(webhook: factory.WebhookApp, request: frames.Request) -> frames.Reply:
    """Run ``request`` through the app's WSGI entry; the reply with its recorded events."""
    started: list[Any] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        started[:] = [status, headers]
        return _no_write

    chunks = webhook(environ(request), start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    status, headers = started
    rt: reviews.Runtime = webhook.extensions[factory.EXTENSION]
    return frames.Reply(
        status=status,
        headers=tuple((k, v) for k, v in headers if k.lower() not in _DROPPED_HEADERS),
        body=body,
        events=rt.metrics.take(),
    )


def _read_exactly(sock: socket.socket, size: int) -> bytearray | None:
    """``size`` bytes (not copied again: ``marshal`` reads a bytearray), or ``None`` at EOF."""
    buffer = bytearray(size)
    with memoryview(buffer) as view:
        got = 0
        while got < size:
            count = sock.recv_into(view[got:])
            if count == 0:
                return None
            got += count
    return buffer


def _peak_kib() -> int:
    """This process's peak resident memory so far, KiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def serve_socket(
    webhook: factory.WebhookApp, sock: socket.socket, *, memory_limit_mib: int
) -> None:
    """Answer requests from ``sock`` until the front closes it.

    Once this process's peak memory has passed ``memory_limit_mib`` (its
    caches, a large review, fragmentation: whatever the cause), it tells the
    front once, keeps answering what it is sent, and the front replaces it
    once it has nothing left to answer and no other worker is starting.
    """
    sock.sendall(frames.encode_hello())
    retiring = False
    while True:
        head = _read_exactly(sock, _LENGTH_BYTES)
        if head is None:
            return
        length = int.from_bytes(head, "big")
        if length > frames.MAX_FRAME_BYTES:
            raise frames.FrameError(f"a message of {length} bytes is over the limit")
        payload = _read_exactly(sock, length)
        if payload is None:
            return
        request = frames.decode_request(payload)
        del payload  # the body is in the request now; a second copy would double the peak
        reply = answer(webhook, request)
        del request
        sock.sendall(frames.encode_reply(reply))
        if not retiring and _peak_kib() > memory_limit_mib * 1024:
            retiring = True
            jsonlogs.logger("worker").info(
                "worker memory above its share; asking to be replaced",
                extra=jsonlogs.fields(peakMiB=_peak_kib() // 1024, limitMiB=memory_limit_mib),
            )
            sock.sendall(frames.encode_retire())


def main() -> None:
    """The worker process's entry point (see the module docstring)."""
    config = settings.Settings.from_json(os.environ[frames.SETTINGS_ENV])
    jsonlogs.configure(config.log_level)
    sock = socket.socket(fileno=int(os.environ[frames.FD_ENV]))
    built, watcher = build(config)
    watcher.start()
    reviews.tune_collector()
    try:
        serve_socket(built, sock, memory_limit_mib=config.worker_memory_mib)
    except (OSError, frames.FrameError) as err:
        jsonlogs.logger("worker").error(
            "front connection lost", extra=jsonlogs.fields(error=str(err))
        )
    finally:
        watcher.stop()
        sock.close()
