"""The TLS front: HTTPS in, TLS ended with the certificate in force, bytes relayed to the worker.

Network I/O (asyncio). Why a front at all: granian terminates TLS in Rust
but loads its certificate once per worker, so a new certificate means a new
worker, and retiring the old one closes its idle keep-alive connections, a
race that a client which just sent a request on one of them (kube-apiserver
never retries a POST it has written) sees as a failed call. Here the
certificate lives in a Python ``ssl.SSLContext`` that ``use`` swaps for new
handshakes while established connections keep theirs, so a reload never
closes anything.

Every handshake starts on the first context; its SNI callback (OpenSSL calls
it for every ClientHello, with or without a server name) switches the
connection to the context in force now, whose certificate, key and client
CA store then serve that handshake. Contexts disable session tickets, so
every new connection gets a full handshake with the current certificate.
Once the handshake is done the relay connects to the worker's Unix socket
and moves bytes both ways with flow control (a full buffer on one side
pauses reading on the other).

Client and worker connections live apart: when the worker closes an idle
connection (its own keep-alive timeout) the client's stays open and the next
request opens a new worker connection, so the only idle limit a client sees
is ``idle_timeout``, longer than common client idle timeouts (Go's default
is 90 s), and the client always closes first. While stopping, a closed
worker connection closes the client's too.

The front knows nothing of HTTP except one guard: granian reads a whole body
into memory before the app sees it, so once a client has sent more than
``max_request_bytes`` without any answer, the front itself answers 413 and
closes the connection. Limits: at most ``max_connections`` clients (others
are closed at once), a handshake timeout, an idle timeout. Shutdown:
``stop_accepting`` closes the listener; relays end once the worker has
answered what it got.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import typing
from typing import Final

from webhook import jsonlogs
from webhook.admission import review

_LOG: Final = jsonlogs.logger("front")
#: How long a relay keeps trying to reach the worker (a respawning worker comes back).
_CONNECT_PATIENCE: Final = 10.0
_CONNECT_RETRY: Final = 0.05
_SWEEP_EVERY: Final = 5.0


def _too_large_response(limit: int) -> bytes:
    body = json.dumps(
        review.response(
            "", allowed=False, code=413, message=f"the body is larger than {limit} bytes"
        ),
        separators=(",", ":"),
    ).encode()
    head = (
        "HTTP/1.1 413 Payload Too Large\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    return head + body


class Front:
    """Accepts TLS connections on a listening socket and relays them to ``upstream``."""

    def __init__(
        self,
        *,
        upstream: str,
        context: ssl.SSLContext,
        max_connections: int,
        max_request_bytes: int,
        handshake_timeout: float = 10.0,
        idle_timeout: float = 120.0,
    ) -> None:
        self.upstream = upstream
        self.context = context
        self.max_connections = max_connections
        self.max_request_bytes = max_request_bytes
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self.too_large = _too_large_response(max_request_bytes)
        self.relays: set[_Relay] = set()
        self.stopping = False
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def use(self, context: ssl.SSLContext) -> None:
        """Handshakes from now on use ``context``; established connections keep theirs."""
        self.context = context

    def _choose(self, connection: ssl.SSLObject, server_name: str | None, base: object) -> None:
        """The SNI callback, called early in every handshake: switch to the context in force."""
        current = self.context
        if current is not base:
            connection.context = current

    async def start(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        base = self.context
        base.sni_callback = self._choose
        self._server = await loop.create_server(
            lambda: _Relay(self),
            sock=listener,
            ssl=base,
            ssl_handshake_timeout=self.handshake_timeout,
        )
        self._sweeper = loop.create_task(self._sweep())

    async def _sweep(self) -> None:
        """Close client connections idle for longer than ``idle_timeout``."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(_SWEEP_EVERY, self.idle_timeout))
            horizon = loop.time() - self.idle_timeout
            for relay in list(self.relays):
                relay.close_if_idle_since(horizon)

    def stop_accepting(self) -> None:
        self.stopping = True
        if self._server is not None:
            self._server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()

    def opened(self, relay: _Relay) -> bool:
        if self.stopping or len(self.relays) >= self.max_connections:
            return False
        self.relays.add(relay)
        self._idle.clear()
        return True

    def closed(self, relay: _Relay) -> None:
        self.relays.discard(relay)
        if not self.relays:
            self._idle.set()

    async def drained(self, timeout: float) -> bool:
        """Wait until every relay has ended; False when ``timeout`` ran out first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def close_idle(self) -> None:
        """Close client connections that have no worker connection and nothing waiting.

        Used when stopping: the worker itself closes its idle connections and
        finishes the busy ones, and each relay follows its worker connection.
        """
        for relay in list(self.relays):
            relay.close_if_detached()

    def abort_all(self) -> None:
        for relay in list(self.relays):
            relay.abort()


class _Upstream(asyncio.Protocol):
    """The worker's side of one relay."""

    def __init__(self, relay: _Relay) -> None:
        self._relay = relay
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._relay.answer(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._relay.upstream_lost(self)

    def pause_writing(self) -> None:
        self._relay.pause_client()

    def resume_writing(self) -> None:
        self._relay.resume_client()


class _Relay(asyncio.Protocol):
    """The client's side of one relay: made once the TLS handshake is done."""

    def __init__(self, front: Front) -> None:
        self._front = front
        self._loop = asyncio.get_running_loop()
        self._client: asyncio.Transport | None = None
        self._upstream: _Upstream | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._waiting: list[bytes] = []
        self._unanswered = 0
        self._last_active = self._loop.time()
        self._done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._front.opened(self):
            self._done = True
            transport.close()
            return
        # uvloop's TLS transport is duck-typed: it does not subclass asyncio.Transport
        self._client = typing.cast(asyncio.Transport, transport)
        self._connect()

    def _connect(self) -> None:
        if self._connecting is None or self._connecting.done():
            self._connecting = self._loop.create_task(self._open_upstream())

    async def _open_upstream(self) -> None:
        deadline = self._loop.time() + _CONNECT_PATIENCE
        while True:
            try:
                _, upstream = await self._loop.create_unix_connection(
                    lambda: _Upstream(self), self._front.upstream
                )
                break
            except OSError as err:
                if self._done or self._front.stopping or self._loop.time() > deadline:
                    _LOG.warning(
                        "the worker cannot be reached", extra=jsonlogs.fields(error=str(err))
                    )
                    self.abort()
                    return
                await asyncio.sleep(_CONNECT_RETRY)
        if self._done or upstream.transport is None:
            if upstream.transport is not None:
                upstream.transport.abort()
            return
        self._upstream = upstream
        for data in self._waiting:
            upstream.transport.write(data)
        self._waiting.clear()

    # client -> worker --------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._done:
            return
        self._last_active = self._loop.time()
        self._unanswered += len(data)
        if self._unanswered > self._front.max_request_bytes:
            self._refuse_too_large()
            return
        upstream = self._upstream
        if upstream is None or upstream.transport is None:
            self._waiting.append(data)
            self._connect()
        else:
            upstream.transport.write(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._drop_upstream(abort=False)
        self._finish()

    def pause_writing(self) -> None:
        if self._upstream is not None and self._upstream.transport is not None:
            self._upstream.transport.pause_reading()

    def resume_writing(self) -> None:
        if self._upstream is not None and self._upstream.transport is not None:
            self._upstream.transport.resume_reading()

    # worker -> client --------------------------------------------------------

    def answer(self, data: bytes) -> None:
        self._unanswered = 0
        self._last_active = self._loop.time()
        if self._client is not None and not self._done:
            self._client.write(data)

    def upstream_lost(self, upstream: _Upstream) -> None:
        """The worker closed its side of the connection."""
        if upstream is not self._upstream:
            return
        self._upstream = None
        if self._done:
            return
        if self._unanswered == 0 and not self._waiting and not self._front.stopping:
            return  # an idle close: the client keeps its connection, the next request reconnects
        if self._client is not None:
            self._client.close()  # flushes what the worker sent, then closes
        self._finish()

    def pause_client(self) -> None:
        if self._client is not None and not self._done:
            self._client.pause_reading()

    def resume_client(self) -> None:
        if self._client is not None and not self._done:
            self._client.resume_reading()

    # ending ------------------------------------------------------------------

    def close_if_detached(self) -> None:
        if self._upstream is None and (self._connecting is None or self._connecting.done()):
            self.close_if_idle_since(float("inf"))

    def close_if_idle_since(self, horizon: float) -> None:
        if self._unanswered == 0 and not self._waiting and self._last_active <= horizon:
            if self._client is not None:
                self._client.close()
            self._drop_upstream(abort=False)
            self._finish()

    def _refuse_too_large(self) -> None:
        if self._client is not None:
            self._client.write(self._front.too_large)
            self._client.close()
        self._drop_upstream(abort=True)
        self._waiting.clear()
        self._finish()

    def _drop_upstream(self, *, abort: bool) -> None:
        upstream, self._upstream = self._upstream, None
        if upstream is not None and upstream.transport is not None:
            if abort:
                upstream.transport.abort()
            else:
                upstream.transport.close()
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()

    def abort(self) -> None:
        if self._client is not None:
            self._client.abort()
        self._drop_upstream(abort=True)
        self._finish()

    def _finish(self) -> None:
        self._done = True
        self._front.closed(self)
