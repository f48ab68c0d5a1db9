"""Structured logs: one JSON object per line on standard error. Writes to stderr.

``configure`` installs the JSON formatter on the ``bulkhead`` logger (and
nowhere else, so the server library's own logging is left alone).
``ReviewLog`` writes the one line logged per AdmissionReview: who asked for
what, the outcome and the check ids, the time taken. It never carries the
object, environment values, annotations or the denial text.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import IO, Any, Final

from webhook.admission import messages, review

LOGGER_NAME: Final = "bulkhead"
_FIELDS: Final = "bulkhead_fields"
_LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


#: ``json.dumps`` with separators builds a new encoder on every call; this one is built once.
_ENCODE: Final = json.JSONEncoder(separators=(",", ":")).encode


def logger(name: str = "") -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


class JsonFormatter(logging.Formatter):
    """``{"time": ..., "level": ..., "logger": ..., "msg": ..., <fields>}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, _FIELDS, None)
        if isinstance(fields, Mapping):
            line.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            # the exception type only: its text could quote the object under review
            line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, separators=(",", ":"), default=str)


def configure(level: str) -> None:
    """Send the ``bulkhead`` loggers' records to stderr as JSON lines."""
    root = logger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(_LEVELS.get(level, logging.INFO))
    root.propagate = False


def fields(**values: Any) -> dict[str, Any]:
    """``extra=`` for a log call: the values become top-level keys of the JSON line."""
    return {_FIELDS: values}


class ReviewLog:
    """The one line per AdmissionReview, written without ``logging``'s per-record machinery.

    It is on the hot path (a ``LogRecord``, handler lookup and formatter cost
    more than the JSON itself); the line has the same shape as every other
    line. ``stream`` is looked up at each write (``None``: ``sys.stderr``).
    """

    def __init__(self, *, level: str, stream: IO[str] | None = None) -> None:
        self._enabled = _LEVELS.get(level, logging.INFO) <= logging.INFO
        self._stream = stream
        self._lock = threading.Lock()

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
        text = _ENCODE(line) + "\n"
        stream = self._stream or sys.stderr
        with self._lock:
            stream.write(text)
