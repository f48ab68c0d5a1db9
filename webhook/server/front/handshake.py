"""TLS on an accepted connection, ClientHello bytes that arrived early included. Network I/O.

The loop may deliver the first bytes (the ClientHello) to the connection
before ``start_tls`` has put its TLS protocol in place (uvloop starts
reading right after ``connection_made``); the connection keeps them in
``early`` and they are handed to the TLS protocol once it is connected.
"""

from __future__ import annotations

import asyncio
import ssl
import typing
from typing import TYPE_CHECKING, Final

from webhook import jsonlogs

if TYPE_CHECKING:
    from webhook.server.front import connection

_LOG: Final = jsonlogs.logger("front")


async def secure(conn: connection.Connection, context: ssl.SSLContext) -> asyncio.Transport | None:
    """The TLS transport of ``conn`` with ``context``, or ``None`` (the raw one is aborted)."""
    raw = conn.raw
    assert raw is not None
    securing = asyncio.ensure_future(
        conn.loop.start_tls(
            raw,
            conn,
            context,
            server_side=True,
            ssl_handshake_timeout=conn.limits.handshake_timeout,
        )
    )
    conn.loop.call_soon(_switched, conn)
    try:
        return await securing
    except (OSError, ssl.SSLError, TimeoutError, ConnectionError, RuntimeError) as err:
        _LOG.debug("TLS handshake failed", extra=jsonlogs.fields(error=repr(err)))
        raw.abort()
        return None


def _switched(conn: connection.Connection) -> None:
    """Runs right after ``start_tls`` installed its protocol on the raw transport."""
    conn.switched = True
    if conn.early:
        # after the TLS protocol's connection_made and resume_reading, which start_tls
        # scheduled first, and before any further read
        conn.loop.call_soon(_feed_early, conn)


def _feed_early(conn: connection.Connection) -> None:
    data, conn.early = conn.early, b""
    if conn.raw is None or conn.closed:
        return
    tls_protocol = typing.cast(asyncio.BufferedProtocol, conn.raw.get_protocol())
    view = memoryview(data)
    while view:
        buffer = memoryview(tls_protocol.get_buffer(len(view)))
        count = min(len(buffer), len(view))
        buffer[:count] = view[:count]
        tls_protocol.buffer_updated(count)
        view = view[count:]
