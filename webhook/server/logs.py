"""The server's logs: JSON lines on standard error (``webhook.jsonlogs``). Writes to stderr.

The server configures ``webhook.jsonlogs`` on the ``bulkhead`` logger only
(the server library's own logging is left alone). ``ReviewLog`` writes the
one line logged per AdmissionReview: who asked for what, the outcome and
the check ids, the time taken. It never carries the object, environment
values, annotations or the denial text. The line is encoded by
``compactjson`` (``orjson`` when it can), in ASCII as every other log line is.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import IO, Final

from webhook import jsonlogs
from webhook.admission import messages, review
from webhook.server import compactjson

LOGGER_NAME: Final = jsonlogs.LOGGER_NAME


class ReviewLog:
    """The one line per AdmissionReview, written without ``logging``'s per-record machinery.

    It is on the hot path (a ``LogRecord``, handler lookup and formatter cost
    more than the JSON itself); the line has the same shape as every other
    line. ``stream`` is looked up at each write (``None``: ``sys.stderr``).
    """

    def __init__(self, *, level: str, stream: IO[str] | None = None) -> None:
        self._enabled = jsonlogs.LEVELS.get(level, logging.INFO) <= logging.INFO
        self._stream = stream
        self._lock = threading.Lock()
        #: lines written while ``held`` is open, not yet on the stream
        self._held: list[str] | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Lines written inside go to the stream together, in one write, when it closes.

        The event loop judges a batch of reviews at a time; one write for the
        batch instead of one system call per line. The lines are written
        when the block ends, an exception included, so none is lost. Not
        nested, and not for threads: only the event loop's thread, which
        opens it, writes meanwhile.
        """
        self._held = []
        try:
            yield
        finally:
            lines, self._held = self._held, None
            if lines:
                self._emit("".join(lines))

    def _emit(self, text: str) -> None:
        stream = self._stream or sys.stderr
        with self._lock:
            stream.write(text)

    def write(
        self,
        request: review.Request,
        *,
        outcome: str,
        code: int,
        violations: Sequence[messages.Violation],
        seconds: float,
    ) -> None:
        if not self._enabled:
            return
        checks: list[str] = []
        policies: list[str] = []
        if violations:
            checks = sorted({v.finding.check for v in violations})
            policies = sorted({v.policy for v in violations})
        line = {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "level": "info",
            "logger": f"{LOGGER_NAME}.server",
            "msg": "review",
            "uid": request.uid,
            "kind": request.kind,
            "namespace": request.namespace,
            "name": request.name,
            "operation": request.operation,
            "subresource": request.subresource,
            "user": request.username,
            "dryRun": request.dry_run,
            "outcome": outcome,
            "code": code,
            "checks": checks,
            "policies": policies,
            "durationMs": round(seconds * 1000, 3),
        }
        text = compactjson.text(line) + "\n"
        if self._held is not None:
            self._held.append(text)
        else:
            self._emit(text)
