"""The TLS front against a stand-in worker on a Unix socket (real sockets, one event loop)."""

from __future__ import annotations

import asyncio
import pathlib
import socket
import ssl
from collections.abc import Awaitable, Callable

from tests.server import pki
from webhook.server import front, tls

Scenario = Callable[[front.Front, int, ssl.SSLContext], Awaitable[None]]


async def _echo_worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers every chunk it gets with ``got <n>`` (enough to see bytes flow both ways)."""
    while data := await reader.read(65536):
        writer.write(f"got {len(data)}".encode())
        await writer.drain()
    writer.close()


async def _closing_worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers one chunk, then closes (as a worker does when its keep-alive timeout ends)."""
    data = await reader.read(65536)
    writer.write(f"got {len(data)}".encode())
    await writer.drain()
    writer.close()


def _run(
    tmp_path: pathlib.Path,
    scenario: Scenario,
    *,
    worker: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]] = _echo_worker,
    **limits: int,
) -> None:
    authority = pki.Authority.generate()
    leaf = authority.issue("front")
    for name, data in (
        ("ca.crt", authority.cert_pem),
        ("t.crt", leaf.cert_pem),
        ("t.key", leaf.key_pem),
    ):
        (tmp_path / name).write_bytes(data)
    client = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    upstream = str(tmp_path / "w.sock")

    async def main() -> None:
        stand_in = await asyncio.start_unix_server(worker, upstream)
        relay = front.Front(
            upstream=upstream,
            context=tls.server_context(
                cert_file=str(tmp_path / "t.crt"), key_file=str(tmp_path / "t.key")
            ),
            max_connections=limits.get("max_connections", 10),
            max_request_bytes=limits.get("max_request_bytes", 1_000_000),
        )
        listener = socket.create_server(("127.0.0.1", 0))
        await relay.start(listener)
        try:
            await asyncio.wait_for(scenario(relay, listener.getsockname()[1], client), 20)
        finally:
            relay.stop_accepting()
            relay.abort_all()
            stand_in.close()

    asyncio.run(main())


async def _open(
    port: int, client: ssl.SSLContext
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, ssl=client, server_hostname="127.0.0.1")


def test_bytes_flow_both_ways(tmp_path: pathlib.Path) -> None:
    async def scenario(relay: front.Front, port: int, client: ssl.SSLContext) -> None:
        reader, writer = await _open(port, client)
        writer.write(b"hello")
        assert await reader.read(100) == b"got 5"
        writer.close()
        assert await relay.drained(5)

    _run(tmp_path, scenario)


def test_a_request_over_the_byte_budget_gets_413_from_the_front(tmp_path: pathlib.Path) -> None:
    async def scenario(relay: front.Front, port: int, client: ssl.SSLContext) -> None:
        reader, writer = await _open(port, client)
        writer.write(b"x" * 5000)  # no answer can arrive in between: one write over the budget
        answer = await reader.read()
        assert answer.startswith(b"HTTP/1.1 413 Payload Too Large\r\n")
        assert b'"allowed":false' in answer
        writer.close()

    _run(tmp_path, scenario, max_request_bytes=1000)


def test_connections_over_the_limit_are_closed(tmp_path: pathlib.Path) -> None:
    async def scenario(relay: front.Front, port: int, client: ssl.SSLContext) -> None:
        reader, writer = await _open(port, client)
        writer.write(b"one")
        assert await reader.read(100) == b"got 3"
        try:
            extra_reader, extra_writer = await _open(port, client)
            extra_writer.write(b"two")
            assert await extra_reader.read(100) == b""
        except (ConnectionError, ssl.SSLError):
            pass  # closed during the handshake
        writer.close()

    _run(tmp_path, scenario, max_connections=1)


def test_new_handshakes_use_the_context_swapped_in(tmp_path: pathlib.Path) -> None:
    async def scenario(relay: front.Front, port: int, client: ssl.SSLContext) -> None:
        _, old_writer = await _open(port, client)
        old_serial = pki.serial_of(old_writer.get_extra_info("ssl_object").getpeercert(True))
        authority = pki.Authority.generate("second CA")
        leaf = authority.issue("front")
        (tmp_path / "n.crt").write_bytes(leaf.cert_pem)
        (tmp_path / "n.key").write_bytes(leaf.key_pem)
        (tmp_path / "ca2.crt").write_bytes(authority.cert_pem)
        relay.use(
            tls.server_context(cert_file=str(tmp_path / "n.crt"), key_file=str(tmp_path / "n.key"))
        )
        second = ssl.create_default_context(cafile=str(tmp_path / "ca2.crt"))
        reader, writer = await _open(port, second)
        new_serial = pki.serial_of(writer.get_extra_info("ssl_object").getpeercert(True))
        assert new_serial == leaf.serial != old_serial
        writer.write(b"new")
        assert await reader.read(100) == b"got 3"
        writer.close()
        old_writer.close()

    _run(tmp_path, scenario)


def test_a_worker_closing_an_idle_connection_does_not_close_the_clients(
    tmp_path: pathlib.Path,
) -> None:
    async def scenario(relay: front.Front, port: int, client: ssl.SSLContext) -> None:
        reader, writer = await _open(port, client)
        for size in (3, 4, 5):
            writer.write(b"x" * size)
            assert await reader.read(100) == f"got {size}".encode()
        writer.close()

    _run(tmp_path, scenario, worker=_closing_worker)


def test_when_stopping_a_closed_worker_connection_closes_the_client(
    tmp_path: pathlib.Path,
) -> None:
    async def scenario(relay: front.Front, port: int, client: ssl.SSLContext) -> None:
        reader, writer = await _open(port, client)
        writer.write(b"abc")
        assert await reader.read(100) == b"got 3"
        relay.stop_accepting()
        relay.close_idle()
        assert await reader.read(100) == b""
        assert await relay.drained(5)

    _run(tmp_path, scenario, worker=_closing_worker)
