"""Kept-alive HTTPS connections to registries, reused between requests. Opens sockets lazily.

A verification is a handful of small requests to one registry; a TLS
handshake for each would cost more than the requests themselves. ``Pool``
hands out an idle connection to a host when it has one and takes it back
after a response that was read whole and does not close the connection. At
most ``MAX_IDLE`` connections are kept per host; the rest are closed.
Thread-safe.
"""

from __future__ import annotations

import http.client
import ssl
import threading
from typing import Final

#: Idle connections kept per host (about the number of images verified at once).
MAX_IDLE: Final = 8


class Pool:
    """Idle connections by host, all made with one TLS context and timeout."""

    def __init__(self, *, context: ssl.SSLContext, timeout: float) -> None:
        self._context = context
        self._timeout = timeout
        self._lock = threading.Lock()
        self._idle: dict[str, list[http.client.HTTPSConnection]] = {}

    def new(self, host: str) -> http.client.HTTPSConnection:
        """A new connection to ``host`` (it connects on its first request)."""
        return http.client.HTTPSConnection(host, timeout=self._timeout, context=self._context)

    def take(self, host: str) -> tuple[http.client.HTTPSConnection, bool]:
        """An idle connection to ``host`` and ``True``, or a new one and ``False``."""
        with self._lock:
            idle = self._idle.get(host)
            if idle:
                return idle.pop(), True
        return self.new(host), False

    def give_back(
        self, host: str, connection: http.client.HTTPSConnection, response: http.client.HTTPResponse
    ) -> None:
        """Keep ``connection`` for reuse if ``response`` was read whole and keeps it open."""
        if response.isclosed() and not response.will_close:
            with self._lock:
                idle = self._idle.setdefault(host, [])
                if len(idle) < MAX_IDLE:
                    idle.append(connection)
                    return
        connection.close()

    def close(self) -> None:
        """Close every idle connection (the pool stays usable)."""
        with self._lock:
            idle = [c for connections in self._idle.values() for c in connections]
            self._idle.clear()
        for connection in idle:
            connection.close()
