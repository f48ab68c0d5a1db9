"""The messages between the front and its worker processes, and their framing. Pure, no I/O.

The front and each worker share one Unix socket pair. Every message is a
4-byte big-endian length followed by that many bytes of ``marshal`` data
(both ends are this same program, so no foreign bytes are ever unmarshalled;
the request body inside is an opaque ``bytes`` value):

* ``Request``, front to worker: one complete HTTP request, already read
  whole by the front under its deadlines and limits;
* ``Reply``, worker to front: the HTTP answer and the metric events the app
  recorded while answering (``metrics.Recorder``);
* ``HELLO``, worker to front, once: the app is built and ready to answer;
* ``RETIRE``, worker to front, once: its memory passed its share; it answers
  what it was sent and exits when the front closes the socket.

``Reader`` splits a byte stream into messages; a length over
``MAX_FRAME_BYTES`` is a broken peer, never something to allocate.
"""

from __future__ import annotations

import dataclasses
import marshal
import struct
from typing import Any, Final

_LENGTH: Final = struct.Struct("!I")
#: No message is larger: a request body is at most 7 MiB, an answer at most 256 KiB.
MAX_FRAME_BYTES: Final = 16 * 1024 * 1024
#: Where the front puts the resolved settings for a worker it starts (JSON).
SETTINGS_ENV: Final = "BULKHEAD_INTERNAL_WORKER_SETTINGS"
#: The file descriptor of the worker's end of its socket pair.
FD_ENV: Final = "BULKHEAD_INTERNAL_WORKER_FD"
HELLO: Final = "hello"
RETIRE: Final = "retire"


class FrameError(ValueError):
    """The peer sent something that is not a message of this protocol."""


@dataclasses.dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as the app needs it."""

    method: str
    path: str
    content_type: str
    accept: str
    body: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Reply:
    """The app's answer: status line, headers (without length or connection), body, events."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    events: tuple[tuple[Any, ...], ...] = ()


def _frame(payload: Any) -> bytes:
    data = marshal.dumps(payload)
    return _LENGTH.pack(len(data)) + data


def encode_request(request: Request) -> tuple[bytes, bytes]:
    """The length prefix and the payload, apart (joined, a 7 MiB body would be copied again)."""
    data = marshal.dumps(
        (request.method, request.path, request.content_type, request.accept, request.body)
    )
    return _LENGTH.pack(len(data)), data


def encode_reply(reply: Reply) -> bytes:
    return _frame((reply.status, reply.headers, reply.body, reply.events))


def encode_hello() -> bytes:
    return _frame(HELLO)


def encode_retire() -> bytes:
    return _frame(RETIRE)


def decode_request(payload: bytes | bytearray) -> Request:
    try:
        method, path, content_type, accept, body = marshal.loads(payload)  # noqa: S302
    except (ValueError, EOFError, TypeError) as err:
        raise FrameError(f"not a request message: {err}") from err
    return Request(method=method, path=path, content_type=content_type, accept=accept, body=body)


def decode_reply(payload: bytes) -> Reply | str:
    """A ``Reply``, or ``HELLO`` or ``RETIRE``."""
    try:
        value = marshal.loads(payload)  # noqa: S302 - written by this program's own worker
        if value in (HELLO, RETIRE):
            return str(value)
        status, headers, body, events = value
    except (ValueError, EOFError, TypeError) as err:
        raise FrameError(f"not a reply message: {err}") from err
    return Reply(
        status=status,
        headers=tuple((str(name), str(value)) for name, value in headers),
        body=body,
        events=tuple(events),
    )


class Reader:
    """Collects bytes and yields each complete message's payload."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        found: list[bytes] = []
        buffer = self._buffer
        start = 0
        while len(buffer) - start >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(buffer, start)
            if length > MAX_FRAME_BYTES:
                raise FrameError(f"a message of {length} bytes is over the limit")
            end = start + _LENGTH.size + length
            if len(buffer) < end:
                break
            found.append(bytes(buffer[start + _LENGTH.size : end]))
            start = end
        if start:
            del buffer[:start]
        return found
