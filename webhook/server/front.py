"""The front: one event loop that accepts connections and reads whole HTTP requests. Network I/O.

Every client connection (the webhook port with TLS, the probe port without)
is a ``_Connection``: the front ends TLS itself (``loop.start_tls`` with the
context in force when the handshake starts, so a reloaded certificate serves
new handshakes while open connections keep theirs), parses HTTP/1.1 with
``httptools`` and reads each request whole before anything else sees it.
Only a complete request reaches ``handler`` (which gives it to a worker, or
answers itself), so a slow or stalled client never holds a worker.

Deadlines, one per phase (``Limits``); each ends the connection, with a
408 when a request was under way:

* handshake: ``handshake_timeout`` from accept to a finished TLS handshake;
* headers: ``header_timeout`` from a request's first byte to its last header;
* body: ``body_timeout`` from the headers to the last body byte (the
  apiserver sends a review at once; a body that trickles is cut);
* idle: ``idle_timeout`` between requests on a keep-alive connection;
* write: ``write_timeout`` while a client does not read its answer.

Limits: request line and headers at most ``max_header_bytes`` (431) and
``max_headers`` header lines; a body over ``max_body_bytes`` is refused with
413 as soon as its length is known (or as it grows, when chunked) and the
connection closed; the bodies being read or waiting for a worker share a
budget of ``body_budget_bytes`` (503 for a request that does not fit, so the
front's memory has a bound whatever clients do); at most ``max_connections``
connections: at the limit, the connection idle longest (handshaking or
between requests) is closed to admit the new one, and only when every
connection is busy with a request is the new one closed at once.

HTTP: keep-alive by default on HTTP/1.1, ``Connection: close`` (and HTTP/1.0
without keep-alive) honoured: the answer says ``Connection: close`` and the
connection ends after it. Requests pipelined on one connection are answered
in order, one at a time (reading pauses while one is being answered).
``Expect: 100-continue`` is answered. When stopping, every idle connection
is closed, requests under way are read and answered with ``Connection:
close``, and no new connection is accepted.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import enum
import json
import socket
import ssl
import typing
from collections.abc import Callable
from typing import Any, Final

import httptools

from webhook import jsonlogs
from webhook.admission import review
from webhook.server import frames

_LOG: Final = jsonlogs.logger("front")
_STATUS_LINES: Final = {
    200: "200 OK",
    400: "400 Bad Request",
    404: "404 Not Found",
    408: "408 Request Timeout",
    413: "413 Payload Too Large",
    414: "414 URI Too Long",
    431: "431 Request Header Fields Too Large",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}
_MAX_URL_BYTES: Final = 8 * 1024
_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Deadlines (seconds) and sizes (bytes) the front enforces; see the module docstring."""

    handshake_timeout: float = 10.0
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    idle_timeout: float = 120.0
    drain_grace: float = 2.0
    write_timeout: float = 10.0
    max_connections: int = 1024
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    max_body_bytes: int = 7 * 1024 * 1024
    body_budget_bytes: int = 64 * 1024 * 1024


class Phase(enum.Enum):
    HANDSHAKE = "handshake"
    IDLE = "idle"
    HEADERS = "headers"
    BODY = "body"
    CLOSED = "closed"


@dataclasses.dataclass(frozen=True, slots=True)
class Incoming:
    """A complete request and whether its connection may stay open after the answer."""

    request: frames.Request
    keep_alive: bool


def json_answer(status: int, body: object) -> tuple[str, tuple[tuple[str, str], ...], bytes]:
    """A status line, headers and JSON body for an answer the front makes itself."""
    return (
        _STATUS_LINES.get(status, f"{status} Error"),
        (("Content-Type", "application/json"),),
        json.dumps(body, separators=(",", ":")).encode(),
    )


def refusal(status: int, message: str) -> tuple[str, tuple[tuple[str, str], ...], bytes]:
    """An HTTP error whose body is an AdmissionReview that allows nothing."""
    return json_answer(status, review.response("", allowed=False, code=status, message=message))


class _Refuse(Exception):  # noqa: N818 - control flow out of the parser's callbacks
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


Handler = Callable[["_Connection", Incoming], None]


class Front:
    """Accepts connections on listening sockets and reads requests for ``handler``."""

    def __init__(
        self,
        *,
        handler: Handler,
        limits: Limits,
        on_refused: Callable[[int], None] | None = None,
        on_evicted: Callable[[], None] | None = None,
    ) -> None:
        self.handler = handler
        self.limits = limits
        self.on_refused = on_refused
        self.on_evicted = on_evicted
        #: every open connection, least recently active first
        self.connections: collections.OrderedDict[_Connection, None] = collections.OrderedDict()
        self.stopping = False
        self.budget_left = limits.body_budget_bytes
        self._servers: list[asyncio.AbstractServer] = []
        self._empty = asyncio.Event()
        self._empty.set()

    async def listen(self, listener: socket.socket, *, context: TlsContexts | None) -> None:
        """Serve ``listener``; with ``context``, every connection is TLS with its current one."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Connection(self, context), sock=listener, backlog=1024
        )
        self._servers.append(server)

    # connection accounting ---------------------------------------------------

    def admit(self, connection: _Connection) -> bool:
        if self.stopping:
            return False
        if len(self.connections) >= self.limits.max_connections:
            victim = next((c for c in self.connections if c.evictable), None)
            if victim is None:
                return False
            victim.close()
            if self.on_evicted is not None:
                self.on_evicted()
        self.connections[connection] = None
        self._empty.clear()
        return True

    def active(self, connection: _Connection) -> None:
        if connection in self.connections:
            self.connections.move_to_end(connection)

    def forget(self, connection: _Connection) -> None:
        self.connections.pop(connection, None)
        if not self.connections:
            self._empty.set()

    def reserve(self, size: int) -> bool:
        if size > self.budget_left:
            return False
        self.budget_left -= size
        return True

    def release(self, size: int) -> None:
        self.budget_left += size

    def refused(self, status: int) -> None:
        if self.on_refused is not None:
            self.on_refused(status)

    # stopping ----------------------------------------------------------------

    def stop_accepting(self) -> None:
        """Close the listeners; idle connections get ``drain_grace`` before they are closed.

        Closing a keep-alive connection races with a client that is sending a
        request on it at that moment, and the apiserver does not retry a POST
        that failed that way. During the grace every request is still answered
        (with ``Connection: close``, so the client closes first); only what is
        still idle (or handshaking) at its end is closed by the server.
        """
        self.stopping = True
        for server in self._servers:
            server.close()
        asyncio.get_running_loop().call_later(self.limits.drain_grace, self._close_idle)

    def _close_idle(self) -> None:
        for connection in list(self.connections):
            if connection.evictable:
                connection.close()

    async def drained(self, timeout: float) -> bool:
        """Wait until every connection has ended; False when ``timeout`` ran out first."""
        try:
            await asyncio.wait_for(self._empty.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def abort_all(self) -> None:
        for connection in list(self.connections):
            connection.abort()


class TlsContexts:
    """The TLS context new handshakes use; ``use`` swaps it (open connections keep theirs)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.current = context

    def use(self, context: ssl.SSLContext) -> None:
        self.current = context


class _Connection(asyncio.Protocol):
    """One client connection: TLS (optionally), HTTP parsing, deadlines, answers in order."""

    def __init__(self, front: Front, tls: TlsContexts | None) -> None:
        self.front = front
        self.limits = front.limits
        self.tls = tls
        self.loop = asyncio.get_running_loop()
        self.raw: asyncio.Transport | None = None
        self.handshaking: asyncio.Task[None] | None = None
        self.early = b""
        self.switched = False
        self.transport: asyncio.Transport | None = None
        self.phase = Phase.HANDSHAKE
        self.timer: asyncio.TimerHandle | None = None
        self.write_timer: asyncio.TimerHandle | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.pending: collections.deque[tuple[Incoming, int]] = collections.deque()
        #: the request being answered: whether to keep the connection open, bytes reserved
        self.in_flight: tuple[bool, int] | None = None
        self.must_close = False
        # the request being read
        self.url = b""
        self.headers = 0
        self.head_bytes = 0
        self.content_type = ""
        self.accept = ""
        self.body: list[bytes] = []
        self.body_bytes = 0
        self.reserved = 0
        self.expect_continue = False

    @property
    def evictable(self) -> bool:
        """Handshaking, or between requests with nothing to answer."""
        return (
            self.phase in (Phase.HANDSHAKE, Phase.IDLE)
            and self.in_flight is None
            and not self.pending
        )

    # transport events --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.raw is not None:
            return  # start_tls reports the TLS transport through its own result
        # uvloop's transports are duck-typed: they do not subclass asyncio.Transport
        self.raw = typing.cast(asyncio.Transport, transport)
        if not self.front.admit(self):
            self.phase = Phase.CLOSED
            self.raw.abort()
            return
        if self.tls is None:
            self.transport = self.raw
            self._await_request()
            return
        # held here: the loop keeps only a weak reference to a task
        self.handshaking = self.loop.create_task(self._handshake(self.tls.current))

    async def _handshake(self, context: ssl.SSLContext) -> None:
        """TLS on the accepted connection, with ``context`` (the one in force now).

        The loop may deliver the first bytes (the ClientHello) to this
        protocol before ``start_tls`` has put its TLS protocol in place
        (uvloop starts reading right after ``connection_made``); they are
        kept and handed to the TLS protocol once it is connected.
        """
        raw = self.raw
        assert raw is not None
        securing = asyncio.ensure_future(
            self.loop.start_tls(
                raw,
                self,
                context,
                server_side=True,
                ssl_handshake_timeout=self.limits.handshake_timeout,
            )
        )
        self.loop.call_soon(self._switched)
        try:
            secured = await securing
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError, RuntimeError) as err:
            _LOG.debug("TLS handshake failed", extra=jsonlogs.fields(error=repr(err)))
            raw.abort()
            self._closed()
            return
        if secured is None or self.phase is Phase.CLOSED:
            if secured is not None:
                secured.abort()
            self._closed()
            return
        self.transport = secured
        self._await_request()
        early, self.early = self.early, b""
        if early:
            self.data_received(early)

    def _switched(self) -> None:
        """Runs right after ``start_tls`` installed its protocol on the raw transport."""
        self.switched = True
        if self.early:
            # after the TLS protocol's connection_made and resume_reading, which start_tls
            # scheduled first, and before any further read
            self.loop.call_soon(self._feed_early)

    def _feed_early(self) -> None:
        data, self.early = self.early, b""
        if self.raw is None or self.phase is Phase.CLOSED:
            return
        tls_protocol = typing.cast(asyncio.BufferedProtocol, self.raw.get_protocol())
        view = memoryview(data)
        while view:
            buffer = memoryview(tls_protocol.get_buffer(len(view)))
            count = min(len(buffer), len(view))
            buffer[:count] = view[:count]
            tls_protocol.buffer_updated(count)
            view = view[count:]

    def data_received(self, data: bytes) -> None:
        if self.phase is Phase.CLOSED:
            return
        if self.transport is None:
            # raw bytes before the TLS protocol took over, or (once it has) decrypted
            # bytes before the handshake's result reached _handshake: keep them for later
            self.early += data
            if not self.switched and self.raw is not None:
                self.raw.pause_reading()
            if len(self.early) > self.limits.max_header_bytes + self.limits.max_body_bytes:
                self.abort()  # in practice one loop iteration's reads, far less
            return
        if self.phase is Phase.IDLE:
            self._start_request()
        try:
            self.parser.feed_data(data)
        except _Refuse as err:
            self._refuse(err.status, str(err))
            return
        except httptools.HttpParserUpgrade:
            self._refuse(400, "protocol upgrades are not supported")
            return
        except httptools.HttpParserError as err:
            cause = err.__context__
            if isinstance(cause, _Refuse):
                self._refuse(cause.status, str(cause))
            else:
                self._refuse(400, "the request is not valid HTTP/1.1")
            return
        if self.phase is Phase.HEADERS:
            self.head_bytes += len(data)
            if self.head_bytes > self.limits.max_header_bytes:
                self._refuse(431, "the request headers are too large")

    def eof_received(self) -> bool:
        # the client will send no more: answer what is complete, then close
        self.must_close = True
        if self.phase in (Phase.HEADERS, Phase.BODY):
            self._discard_request()
        if self.in_flight is None and not self.pending:
            self.close()
        return self.tls is None  # keep a plain half-closed connection to answer; TLS cannot

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed()

    def pause_writing(self) -> None:
        if self.write_timer is None:
            self.write_timer = self.loop.call_later(self.limits.write_timeout, self.abort)

    def resume_writing(self) -> None:
        if self.write_timer is not None:
            self.write_timer.cancel()
            self.write_timer = None

    # parser callbacks ----------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.phase is not Phase.HEADERS:
            self._start_request()
        self.head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > _MAX_URL_BYTES:
            raise _Refuse(414, "the request target is too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers += 1
        if self.headers > self.limits.max_headers:
            raise _Refuse(431, f"more than {self.limits.max_headers} header lines")
        lowered = name.lower()
        if lowered == b"content-type":
            self.content_type = value.decode("latin-1")
        elif lowered == b"accept":
            self.accept = value.decode("latin-1")
        elif lowered == b"content-length":
            self._declared(value)
        elif lowered == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True

    def _declared(self, value: bytes) -> None:
        text = value.strip()
        if not text.isdigit() or len(text) > 12:
            raise _Refuse(400, "the Content-Length header is not a number")
        length = int(text)
        if length > self.limits.max_body_bytes:
            raise _Refuse(413, f"the body is larger than {self.limits.max_body_bytes} bytes")
        self._reserve(length)

    def _reserve(self, size: int) -> None:
        if not self.front.reserve(size):
            raise _Refuse(503, "the server is reading too many request bodies; retry")
        self.reserved += size

    def on_headers_complete(self) -> None:
        self.phase = Phase.BODY
        self._arm(self.limits.body_timeout, self._too_slow)
        if self.expect_continue and self.transport is not None:
            self.transport.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)
        if self.body_bytes > self.limits.max_body_bytes:
            raise _Refuse(413, f"the body is larger than {self.limits.max_body_bytes} bytes")
        if self.body_bytes > self.reserved:  # chunked: reserve as it grows
            self._reserve(self.body_bytes - self.reserved)
        self.body.append(body)

    def on_message_complete(self) -> None:
        self._disarm()
        parser = self.parser
        request = frames.Request(
            method=parser.get_method().decode("latin-1"),
            path=httptools.parse_url(self.url).path.decode("latin-1") if self.url else "/",
            content_type=self.content_type,
            accept=self.accept,
            body=b"".join(self.body),
        )
        incoming = Incoming(request=request, keep_alive=parser.should_keep_alive())
        self.pending.append((incoming, self.reserved))
        self._reset_request()
        self.phase = Phase.IDLE  # nothing more is being read; the request waits for its answer
        if self.transport is not None:
            self.transport.pause_reading()
        self._next()

    # request flow ----------------------------------------------------------------

    def _start_request(self) -> None:
        self.phase = Phase.HEADERS
        self._arm(self.limits.header_timeout, self._too_slow)

    def _reset_request(self) -> None:
        self.url = b""
        self.headers = 0
        self.head_bytes = 0
        self.content_type = ""
        self.accept = ""
        self.body = []
        self.body_bytes = 0
        self.reserved = 0
        self.expect_continue = False

    def _discard_request(self) -> None:
        self._disarm()
        if self.reserved:
            self.front.release(self.reserved)
        self._reset_request()

    def _await_request(self) -> None:
        """Nothing left to answer: read on (the next request may already be under way)."""
        reading = self.phase in (Phase.HEADERS, Phase.BODY)
        if not reading and (self.must_close or self.front.stopping):
            self.close()
            return
        if not reading:
            self.phase = Phase.IDLE
            self.front.active(self)
            self._arm(self.limits.idle_timeout, self.close)
        if self.transport is not None:
            self.transport.resume_reading()

    def _next(self) -> None:
        if self.in_flight is not None:
            return
        if not self.pending:
            self._await_request()
            return
        incoming, reserved = self.pending.popleft()
        self.in_flight = (incoming.keep_alive, reserved)
        # the handler keeps what it needs of the request (a worker's frame), nothing more
        self.front.handler(self, incoming)

    def respond(self, status: str, headers: tuple[tuple[str, str], ...], body: bytes) -> None:
        """Send the answer to the request in flight, then go on with the next one."""
        current, self.in_flight = self.in_flight, None
        if current is None or self.phase is Phase.CLOSED or self.transport is None:
            if current is not None:
                self.front.release(current[1])
            return
        keep_alive, reserved = current
        self.front.release(reserved)
        closing = not keep_alive or self.must_close or self.front.stopping
        self._write(status, headers, body, closing=closing)
        if closing:
            self.close()
        else:
            self._next()

    def _write(
        self, status: str, headers: tuple[tuple[str, str], ...], body: bytes, *, closing: bool
    ) -> None:
        assert self.transport is not None
        lines = [f"HTTP/1.1 {status}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        lines.append(f"Content-Length: {len(body)}")
        if closing:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.transport.write(head + body)

    def _refuse(self, status: int, message: str) -> None:
        """Answer a request that cannot be read with ``status`` and close the connection."""
        self.front.refused(status)
        self._discard_request()
        self.must_close = True
        for _, reserved in self.pending:
            self.front.release(reserved)
        self.pending.clear()
        if self.in_flight is not None:
            # the answer to the request in flight must come first: close after it
            return
        if self.transport is not None and self.phase is not Phase.CLOSED:
            self._write(*refusal(status, message), closing=True)
        self.close()

    def _too_slow(self) -> None:
        if self.phase is Phase.HEADERS:
            self._refuse(408, "the request headers did not arrive in time")
        else:
            self._refuse(408, "the request body did not arrive in time")

    # timers and ending ---------------------------------------------------------

    def _arm(self, seconds: float, callback: Callable[[], Any]) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def close(self) -> None:
        """Close after flushing what was written."""
        if self.phase is Phase.CLOSED:
            return
        transport = self.transport or self.raw
        self.phase = Phase.CLOSED
        if transport is not None:
            transport.close()
        if self.transport is None and self.raw is not None:
            self.raw.abort()  # still handshaking
        self._closed()

    def abort(self) -> None:
        transport = self.transport or self.raw
        self.phase = Phase.CLOSED
        if transport is not None:
            transport.abort()
        self._closed()

    def _closed(self) -> None:
        self.phase = Phase.CLOSED
        if self.handshaking is not None and not self.handshaking.done():
            self.handshaking.cancel()  # closed while handshaking: start_tls would wait forever
        self._disarm()
        if self.write_timer is not None:
            self.write_timer.cancel()
            self.write_timer = None
        if self.reserved:
            self.front.release(self.reserved)
            self.reserved = 0
        for _, reserved in self.pending:
            self.front.release(reserved)
        self.pending.clear()
        self.front.forget(self)
