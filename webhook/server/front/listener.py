"""The front's listeners: accepting connections, their limits, stopping. Network I/O.

``Front`` listens on the webhook port (TLS, a ``TlsContexts`` whose current
context serves each new handshake) and the probe port (plain HTTP); every
accepted connection is a ``connection.Connection``, which reads requests
whole under ``Limits`` and hands each complete one to ``handler``.

Capacity: at most ``max_connections`` connections; at the limit, the
connection idle longest (handshaking or between requests) is closed to
admit the new one, and only when every connection is busy with a request
is the new one closed at once. The bodies being read or waiting for an
answer share a budget of ``body_budget_bytes`` (``reserve``/``release``), so
the front's memory has a bound whatever clients do.

Stopping (``begin_stopping``): every answer says ``Connection: close``, what
is idle after ``drain_grace`` is closed, and the listeners stay open, so a
client whose endpoints still list this server is answered, not refused;
``until_quiet`` waits until no new connection has come to the TLS listener
for a while (every client has moved on). Then ``stop_accepting`` closes the
listeners; requests still arriving on open connections are read and
answered, and what is still idle after ``drain_grace`` is closed.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import socket
import ssl
from collections.abc import Callable

from webhook.server.front import connection


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Deadlines (seconds) and sizes (bytes) the front enforces.

    Deadlines, one per phase of a connection: ``handshake_timeout`` from
    accept to a finished TLS handshake; ``header_timeout`` from a request's
    first byte to its last header; ``body_timeout`` from the headers to the
    last body byte (the apiserver sends a review at once; a body that
    trickles is cut); ``idle_timeout`` between requests; ``write_timeout``
    while a client does not read its answer. Sizes: request line and
    headers at most ``max_header_bytes`` in ``max_headers`` lines, a body at
    most ``max_body_bytes``, all bodies being read or answered at most
    ``body_budget_bytes``; at most ``max_connections`` connections.
    """

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


Handler = Callable[[connection.Connection, connection.Incoming], None]


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
        self.connections: collections.OrderedDict[connection.Connection, None] = (
            collections.OrderedDict()
        )
        self.stopping = False
        self.accepting = True
        #: loop time of the latest connection to a TLS listener, or of ``begin_stopping``
        self.last_arrival = 0.0
        self.budget_left = limits.body_budget_bytes
        self._servers: list[asyncio.AbstractServer] = []
        self._empty = asyncio.Event()
        self._empty.set()

    async def listen(self, sock: socket.socket, *, context: TlsContexts | None) -> None:
        """Serve ``sock``; with ``context``, every connection is TLS with its current one."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: connection.Connection(self, context), sock=sock, backlog=1024
        )
        self._servers.append(server)

    def admit(self, client: connection.Connection) -> bool:
        if not self.accepting:
            return False
        if client.tls is not None:
            self.last_arrival = asyncio.get_running_loop().time()
        if len(self.connections) >= self.limits.max_connections:
            victim = next((c for c in self.connections if c.evictable), None)
            if victim is None:
                return False
            victim.close()
            if self.on_evicted is not None:
                self.on_evicted()
        self.connections[client] = None
        self._empty.clear()
        return True

    def active(self, client: connection.Connection) -> None:
        if client in self.connections:
            self.connections.move_to_end(client)

    def forget(self, client: connection.Connection) -> None:
        self.connections.pop(client, None)
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

    def begin_stopping(self) -> None:
        """Answer with ``Connection: close`` from now on; close what is idle after the grace.

        The listeners stay open (``until_quiet``, ``stop_accepting``): a new
        connection's requests are answered like any other.
        """
        self.stopping = True
        loop = asyncio.get_running_loop()
        self.last_arrival = loop.time()
        loop.call_later(self.limits.drain_grace, self._close_idle)

    async def until_quiet(self, quiet: float, timeout: float) -> bool:
        """Wait until no connection has come to a TLS listener for ``quiet`` seconds.

        Once every answer closes its connection, each review a client sends
        needs a new connection, so quiet means no client still routes here.
        False when ``timeout`` ran out first.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (until := self.last_arrival + quiet) > loop.time():
            if until > deadline:
                await asyncio.sleep(max(0.0, deadline - loop.time()))
                return False
            await asyncio.sleep(until - loop.time())
        return True

    def stop_accepting(self) -> None:
        """Close the listeners; idle connections get ``drain_grace`` before they are closed.

        Closing a keep-alive connection races with a client that is sending a
        request on it at that moment, and the apiserver does not retry a POST
        that failed that way. During the grace every request is still answered
        (with ``Connection: close``, so the client closes first); only what is
        still idle (or handshaking) at its end is closed by the server.
        """
        self.stopping = True
        self.accepting = False
        for server in self._servers:
            server.close()
        asyncio.get_running_loop().call_later(self.limits.drain_grace, self._close_idle)

    def _close_idle(self) -> None:
        for client in list(self.connections):
            if client.evictable:
                client.close()

    async def drained(self, timeout: float) -> bool:
        """Wait until every connection has ended; False when ``timeout`` ran out first."""
        try:
            await asyncio.wait_for(self._empty.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def abort_all(self) -> None:
        for client in list(self.connections):
            client.abort()


class TlsContexts:
    """The TLS context new handshakes use; ``use`` swaps it (open connections keep theirs)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.current = context

    def use(self, context: ssl.SSLContext) -> None:
        self.current = context
