"""The front on real loopback sockets, one event loop, a handler standing in for the workers."""

from __future__ import annotations

import asyncio
import pathlib
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvloop

from devcluster import pki
from webhook.server import tls
from webhook.server.front import connection, listener

Scenario = Callable[["Harness"], Awaitable[None]]


class Harness:
    """A front on a plain listener (and a TLS one) whose handler answers ``got <body>``."""

    def __init__(
        self, front_: listener.Front, port: int, tls_port: int, contexts: listener.TlsContexts
    ) -> None:
        self.front = front_
        self.contexts = contexts
        self.port = port
        self.tls_port = tls_port
        self.seen: list[bytes] = []
        self.hold: list[Any] = []  # connections whose answer the test sends itself
        self.reading_while_answered: list[bool] = []

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


def _handler(harness: list[Harness]) -> listener.Handler:
    def handle(connection: Any, incoming: connection.Incoming) -> None:
        h = harness[0]
        h.seen.append(incoming.request.body)
        if incoming.request.path == "/hold":
            h.hold.append(connection)
            return
        if incoming.request.path == "/soon":  # answered later in the loop iteration, as routes do
            connection.answered_soon = True

            def answer() -> None:
                h.reading_while_answered.append(connection.transport.is_reading())
                connection.respond("200 OK", (), b"got " + incoming.request.body)

            asyncio.get_running_loop().call_soon(answer)
            return
        connection.respond("200 OK", (), b"got " + incoming.request.body)

    return handle


def _run(tmp_path: pathlib.Path, scenario: Scenario, **limits: Any) -> None:
    authority = pki.CertificateAuthority.generate("bulkhead test CA")
    leaf = authority.issue(common_name="127.0.0.1", ip_addresses=("127.0.0.1",), server=True)
    (tmp_path / "ca.crt").write_bytes(authority.cert_pem)
    (tmp_path / "tls.crt").write_bytes(leaf.cert_pem)
    (tmp_path / "tls.key").write_bytes(leaf.key_pem)
    context = tls.server_context(
        cert_file=str(tmp_path / "tls.crt"), key_file=str(tmp_path / "tls.key")
    )

    async def main() -> None:
        box: list[Harness] = []
        the_front = listener.Front(handler=_handler(box), limits=listener.Limits(**limits))
        plain = socket.create_server(("127.0.0.1", 0))
        secure = socket.create_server(("127.0.0.1", 0))
        await the_front.listen(plain, context=None)
        contexts = listener.TlsContexts(context)
        await the_front.listen(secure, context=contexts)
        box.append(Harness(the_front, plain.getsockname()[1], secure.getsockname()[1], contexts))
        try:
            await asyncio.wait_for(scenario(box[0]), 30)
        finally:
            the_front.stop_accepting()
            the_front.abort_all()

    uvloop.run(main())


def _post(body: bytes, *, extra: str = "", path: str = "/validate") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def _closed(reader: asyncio.StreamReader) -> bool:
    return await asyncio.wait_for(reader.read(), 10) == b""


def test_keep_alive_serves_requests_in_order_and_pipelined(tmp_path: pathlib.Path) -> None:
    async def scenario(h: Harness) -> None:
        reader, writer = await h.open()
        writer.write(_post(b"one") + _post(b"two") + _post(b"three"))
        for expected in (b"got one", b"got two", b"got three"):
            status, headers, body = await _answer(reader)
            assert (status, body) == (200, expected)
            assert "connection" not in headers
        writer.close()

    _run(tmp_path, scenario)


def test_pipelined_requests_behind_one_answered_soon_pause_reading(
    tmp_path: pathlib.Path,
) -> None:
    async def scenario(h: Harness) -> None:
        reader, writer = await h.open()
        writer.write(b"".join(_post(b"%d" % i, path="/soon") for i in range(20)))
        for i in range(20):
            status, _, body = await _answer(reader)
            assert (status, body) == (200, b"got %d" % i)
        # requests queued behind the one in flight: no more is read until they are answered
        assert h.reading_while_answered[0] is False
        writer.close()

    _run(tmp_path, scenario)


def test_connection_close_is_honoured(tmp_path: pathlib.Path) -> None:
    async def scenario(h: Harness) -> None:
        reader, writer = await h.open()
        writer.write(_post(b"x", extra="Connection: close\r\n"))
        status, headers, _ = await _answer(reader)
        assert status == 200
        assert headers["connection"] == "close"
        assert await _closed(reader)

    _run(tmp_path, scenario)


def test_a_trickling_body_is_cut_with_408_and_never_handled(tmp_path: pathlib.Path) -> None:
    async def scenario(h: Harness) -> None:
        reader, writer = await h.open()
        writer.write(_post(b"0123456789")[:-5])
        status, headers, body = await _answer(reader)
        assert status == 408
        assert b'"allowed":false' in body
        assert headers["connection"] == "close"
        assert h.seen == []

    _run(tmp_path, scenario, body_timeout=0.3)


def test_headers_that_never_end_are_cut_with_408(tmp_path: pathlib.Path) -> None:
    async def scenario(h: Harness) -> None:
        reader, writer = await h.open()
        writer.write(b"POST /validate HTTP/1.1\r\nHost: x\r\n")
        status, _, _ = await _answer(reader)
        assert status == 408

    _run(tmp_path, scenario, header_timeout=0.3)


def test_an_idle_connection_is_closed_after_the_idle_timeout(tmp_path: pathlib.Path) -> None:
    async def scenario(h: Harness) -> None:
        reader, _ = await h.open()
        assert await _closed(reader)

    _run(tmp_path, scenario, idle_timeout=0.3)


def test_a_connection_idle_after_an_answer_is_closed_after_the_idle_timeout(
    tmp_path: pathlib.Path,
) -> None:
    async def scenario(h: Harness) -> None:
        reader, writer = await h.open()
        writer.write(_post(b"x"))
        assert (await _answer(reader))[0] == 200
        assert await _closed(reader)

    _run(tmp_path, scenario, idle_timeout=0.3)


@pytest.mark.parametrize(
    ("stalled", "deadline"),
    [
        (b"POST /validate HTTP/1.1\r\nHost: x\r\n", "header_timeout"),
        (_post(b"0123456789")[:-5], "body_timeout"),
    ],
    ids=["headers", "body"],
)
def test_a_request_stalled_after_an_answer_is_cut_long_before_the_idle_timeout(
    tmp_path: pathlib.Path, stalled: bytes, deadline: str
) -> None:
    """Its deadline is shorter than the idle one the connection was waiting under."""

    async def scenario(h: Harness) -> None:
        reader, writer = await h.open()
        writer.write(_post(b"x"))
        assert (await _answer(reader))[0] == 200
        writer.write(stalled)
        status, _, _ = await _answer(reader)  # the scenario fails after 30 s, the idle after 600
        assert status == 408
        assert h.seen == [b"x"]

    _run(tmp_path, scenario, idle_timeout=600, **{deadline: 0.3})


def test_a_declared_body_over_the_limit_is_413_at_once(tmp_path: pathlib.Path) -> None:
    async def scenario(h: Harness) -> None:
        reader, writer = await h.open()
        writer.write(
            b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n"
        )  # and no body: the answer does not wait for it
        status, _, _ = await _answer(reader)
        assert status == 413
        assert await _closed(reader)

    _run(tmp_path, scenario, max_body_bytes=1000)


def test_a_chunked_body_over_the_limit_is_413(tmp_path: pathlib.Path) -> None:
    async def scenario(h: Harness) -> None:
        reader, writer = await h.open()
        chunk = b"x" * 600
        writer.write(
            b"POST /validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"258\r\n"
            + chunk
            + b"\r\n"
            + b"258\r\n"
            + chunk
            + b"\r\n"
        )
        status, _, _ = await _answer(reader)
        assert status == 413
        assert h.seen == []

    _run(tmp_path, scenario, max_body_bytes=1000)


def test_bodies_beyond_the_shared_budget_are_refused_with_503(tmp_path: pathlib.Path) -> None:
    async def scenario(h: Harness) -> None:
        first_reader, first = await h.open()
        first.write(_post(b"a" * 800)[:-400])  # 800 bytes reserved, half sent
        await asyncio.sleep(0.1)
        second_reader, second = await h.open()
        second.write(_post(b"b" * 800))
        status, _, _ = await _answer(second_reader)
        assert status == 503
        first.write(b"a" * 400)
        status, _, body = await _answer(first_reader)
        assert (status, body) == (200, b"got " + b"a" * 800)
        assert h.front.budget_left == 1000  # everything released

    _run(tmp_path, scenario, body_budget_bytes=1000)


def test_at_the_limit_the_longest_idle_connection_makes_room(tmp_path: pathlib.Path) -> None:
    async def scenario(h: Harness) -> None:
        idle = [await h.open() for _ in range(3)]
        await asyncio.sleep(0.1)
        reader, writer = await h.open()
        writer.write(_post(b"new"))
        status, _, body = await _answer(reader)
        assert (status, body) == (200, b"got new")
        assert await _closed(idle[0][0])  # the oldest went
        assert len(h.front.connections) == 3

    _run(tmp_path, scenario, max_connections=3)


def test_connections_busy_with_a_request_are_never_evicted(tmp_path: pathlib.Path) -> None:
    async def scenario(h: Harness) -> None:
        busy = [await h.open() for _ in range(2)]
        for _, writer in busy:
            writer.write(_post(b"wait", path="/hold"))
        await asyncio.sleep(0.2)
        reader, _ = await h.open()
        assert await _closed(reader)  # nothing to evict: the newcomer is closed
        for held in h.hold:
            held.respond("200 OK", (), b"done")
        for busy_reader, _ in busy:
            assert (await _answer(busy_reader))[2] == b"done"

    _run(tmp_path, scenario, max_connections=2)


def test_tls_new_handshakes_use_the_context_swapped_in(tmp_path: pathlib.Path) -> None:
    async def scenario(h: Harness) -> None:
        client = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", h.tls_port, ssl=client, server_hostname="127.0.0.1"
        )
        writer.write(_post(b"secure"))
        assert (await _answer(reader))[2] == b"got secure"
        other = pki.CertificateAuthority.generate("bulkhead test CA")
        leaf = other.issue(common_name="127.0.0.1", ip_addresses=("127.0.0.1",), server=True)
        (tmp_path / "other.crt").write_bytes(leaf.cert_pem)
        (tmp_path / "other.key").write_bytes(leaf.key_pem)
        (tmp_path / "other-ca.crt").write_bytes(other.cert_pem)
        h.contexts.use(
            tls.server_context(
                cert_file=str(tmp_path / "other.crt"), key_file=str(tmp_path / "other.key")
            )
        )
        writer.write(_post(b"still"))  # the open connection keeps its certificate
        assert (await _answer(reader))[2] == b"got still"
        fresh = ssl.create_default_context(cafile=str(tmp_path / "other-ca.crt"))
        reader2, writer2 = await asyncio.open_connection(
            "127.0.0.1", h.tls_port, ssl=fresh, server_hostname="127.0.0.1"
        )
        writer2.write(_post(b"new"))
        assert (await _answer(reader2))[2] == b"got new"
        writer.close()
        writer2.close()

    _run(tmp_path, scenario)


def test_stopping_closes_idle_connections_and_finishes_requests_under_way(
    tmp_path: pathlib.Path,
) -> None:
    async def scenario(h: Harness) -> None:
        idle_reader, _ = await h.open()
        reader, writer = await h.open()
        request = _post(b"late")
        writer.write(request[:-2])
        await asyncio.sleep(0.1)
        h.front.stop_accepting()
        assert await _closed(idle_reader)
        writer.write(request[-2:])
        status, headers, body = await _answer(reader)
        assert (status, body) == (200, b"got late")
        assert headers["connection"] == "close"
        assert await h.front.drained(5)

    _run(tmp_path, scenario)
