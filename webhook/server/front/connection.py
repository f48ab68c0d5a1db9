"""One client connection: TLS, HTTP/1.1 parsing, deadlines, answers in order. Network I/O.

A ``Connection`` belongs to a ``listener.Front``. It ends TLS itself
(``handshake.secure``, with the context in force when the handshake starts),
parses HTTP/1.1 with ``httptools`` and reads each request whole under the
front's ``listener.Limits`` before anything else sees it: only a complete
request reaches the front's handler, so a slow client never holds a worker.
A deadline that passes ends the connection, with a 408 when a request was
under way; a request over a limit is refused (413, 414, 431, 503) and its
connection closed.

HTTP: keep-alive by default on HTTP/1.1, ``Connection: close`` (and HTTP/1.0
without keep-alive) honoured: the answer says ``Connection: close`` and the
connection ends after it. Requests pipelined on one connection are answered
in order, one at a time (reading pauses while one waits for its answer).
``Expect: 100-continue`` is answered.

Deadlines cost no timer work per request: a phase only moves the
connection's deadline, and the one timer, when it fires, either acts (the
deadline has passed) or waits again for the deadline as it is now. A
request that arrives whole in one read never needs the timer moved earlier.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import enum
import ssl
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import httptools

from webhook.server import frames
from webhook.server.front import answers, handshake

if TYPE_CHECKING:
    from webhook.server.front import listener

_MAX_URL_BYTES: Final = 8 * 1024
_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
#: Answer heads kept, by status line and headers (answers share a few); past this, built anew.
_MAX_HEADS: Final = 64
_heads: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}


@dataclasses.dataclass(frozen=True, slots=True)
class Incoming:
    """A complete request and whether its connection may stay open after the answer."""

    request: frames.Request
    keep_alive: bool


class Phase(enum.Enum):
    HANDSHAKE = "handshake"
    IDLE = "idle"
    HEADERS = "headers"
    BODY = "body"
    CLOSED = "closed"


class _Refuse(Exception):  # noqa: N818 - control flow out of the parser's callbacks
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Connection(asyncio.Protocol):
    """One client connection: TLS (optionally), HTTP parsing, deadlines, answers in order."""

    def __init__(self, front: listener.Front, tls: listener.TlsContexts | None) -> None:
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
        #: the one deadline timer: when it fires, and the deadline and what then (``_arm``)
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at = 0.0
        self.deadline = 0.0
        self.on_deadline: Callable[[], Any] | None = None
        self.write_timer: asyncio.TimerHandle | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.pending: collections.deque[tuple[Incoming, int]] = collections.deque()
        #: the request being answered: whether to keep the connection open, bytes reserved
        self.in_flight: tuple[bool, int] | None = None
        #: the request in flight is answered later in this loop iteration: reading goes on
        self.answered_soon = False
        self.must_close = False
        self._reset_request()  # the request being read

    @property
    def evictable(self) -> bool:
        """Handshaking, or between requests with nothing to answer."""
        return (
            self.phase in (Phase.HANDSHAKE, Phase.IDLE)
            and self.in_flight is None
            and not self.pending
        )

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
        """TLS on the accepted connection (``handshake.secure``), then read requests."""
        secured = await handshake.secure(self, context)
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

    @property
    def closed(self) -> bool:
        return self.phase is Phase.CLOSED

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
                return
        if self.phase in (Phase.HEADERS, Phase.BODY):
            self._keep_time()  # a request is still being read: its deadline must be kept

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
        self._arm(self.limits.body_timeout, self._too_slow, keep=False)
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
        self._next()
        # a request waits for its answer: read no more until it is (_await_request), unless it
        # is answered within this loop iteration and nothing else is queued behind it
        waiting = self.in_flight is not None and (self.pending or not self.answered_soon)
        if waiting and self.transport is not None:
            self.transport.pause_reading()

    def _start_request(self) -> None:
        self.phase = Phase.HEADERS
        self._arm(self.limits.header_timeout, self._too_slow, keep=False)

    def _reset_request(self) -> None:
        self.url = b""
        self.headers = 0
        self.head_bytes = 0
        self.content_type = ""
        self.accept = ""
        self.body: list[bytes] = []
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
        if not reading and self.must_close:
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
        self.answered_soon = False
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
        key = (status, headers)
        head = _heads.get(key)
        if head is None:
            lines = [f"HTTP/1.1 {status}"]
            lines.extend(f"{name}: {value}" for name, value in headers)
            lines.append("Content-Length: ")
            head = "\r\n".join(lines).encode("latin-1")
            if len(_heads) < _MAX_HEADS:
                _heads[key] = head
        end = b"\r\nConnection: close\r\n\r\n" if closing else b"\r\n\r\n"
        self.transport.write(b"%s%d%s%s" % (head, len(body), end, body))

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
            self._write(*answers.refusal(status, message), closing=True)
        self.close()

    def _too_slow(self) -> None:
        if self.phase is Phase.HEADERS:
            self._refuse(408, "the request headers did not arrive in time")
        else:
            self._refuse(408, "the request body did not arrive in time")

    def _arm(self, seconds: float, callback: Callable[[], Any], *, keep: bool = True) -> None:
        """Call ``callback`` unless disarmed within ``seconds``.

        ``keep=False``: the caller sees to it that the timer keeps the deadline
        (``_keep_time``) if the phase outlives the current read.
        """
        self.deadline = self.loop.time() + seconds
        self.on_deadline = callback
        if keep:
            self._keep_time()

    def _keep_time(self) -> None:
        """Have the timer fire no later than the deadline."""
        if self.timer is not None:
            if self.timer_at <= self.deadline:
                return  # it fires first, then waits again for what is left (_fire)
            self.timer.cancel()
        self.timer_at = self.deadline
        self.timer = self.loop.call_at(self.deadline, self._fire)

    def _fire(self) -> None:
        self.timer = None
        if self.on_deadline is None:
            return
        if self.loop.time() < self.deadline:
            self._keep_time()  # the deadline moved on since the timer was set
            return
        callback, self.on_deadline = self.on_deadline, None
        callback()

    def _disarm(self) -> None:
        self.on_deadline = None

    def _stop_timer(self) -> None:
        self.on_deadline = None
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
        self._stop_timer()
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
