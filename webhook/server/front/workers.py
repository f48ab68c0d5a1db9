"""One worker process as the front sees it, and one request it is given. Socket I/O.

A ``Worker`` is the front's end of one worker's Unix socket pair: it splits
the bytes into ``frames`` and tells its ``pool.Pool`` when the worker says
hello, asks to retire, answers, or is gone. A ``Job`` is one request with
the callback that gets its outcome exactly once.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import enum
import signal
import subprocess
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from webhook import jsonlogs
from webhook.server import frames

if TYPE_CHECKING:
    from webhook.server.front import pool

_LOG: Final = jsonlogs.logger("pool")
_PR_SET_PDEATHSIG: Final = 1


class Outcome(enum.Enum):
    ANSWERED = "answered"
    TIMEOUT = "timeout"
    LOST = "lost"


Callback = Callable[[Outcome, frames.Reply | None], None]


def die_with_parent() -> None:
    """In the worker child: get SIGKILL if the front dies (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Job:
    __slots__ = ("callback", "done", "frame", "timer")

    def __init__(self, frame: tuple[bytes, bytes], callback: Callback) -> None:
        self.frame = frame
        self.callback = callback
        self.timer: asyncio.TimerHandle | None = None
        self.done = False

    def finish(self, outcome: Outcome, reply: frames.Reply | None) -> None:
        """Run the callback, once: a late answer to a request already refused is dropped."""
        if self.done:
            return
        self.done = True
        if self.timer is not None:
            self.timer.cancel()
        self.frame = (b"", b"")  # the body is no longer needed
        self.callback(outcome, reply)


class Worker(asyncio.Protocol):
    """One worker process, seen from the front."""

    def __init__(self, pool: pool.Pool, slot: int) -> None:
        self.pool = pool
        self.slot = slot
        self.process: subprocess.Popen[bytes] | None = None
        self.transport: asyncio.Transport | None = None
        self.reader = frames.Reader()
        self.ready = False
        #: sent, not yet answered, in order; the first is being judged
        self.jobs: collections.deque[Job] = collections.deque()
        #: when the first job started (the previous answer arrived, or it was sent)
        self.started = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.gone = False
        #: asked to be replaced: gets work only when no other worker is idle; goes once idle
        #: while no other slot is starting (``pool.Pool._replace_retiring``)
        self.retiring = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            messages = self.reader.feed(data)
        except frames.FrameError as err:
            _LOG.error("a worker sent a broken message", extra=jsonlogs.fields(error=str(err)))
            self.pool.retire(self)
            return
        for payload in messages:
            try:
                reply = frames.decode_reply(payload)
            except frames.FrameError as err:
                _LOG.error("a worker sent a broken message", extra=jsonlogs.fields(error=str(err)))
                self.pool.retire(self)
                return
            if reply == frames.RETIRE:
                self.pool.worker_retiring(self)
            elif isinstance(reply, str):
                self.ready = True
                self.pool.worker_ready(self)
            else:
                self.pool.answered(self, reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.retire(self)
