"""Log records as JSON lines, the one log format of ``bulkhead serve`` and ``bulkhead operator``.

Writes to stderr once configured. ``configure`` installs the formatter on one
logger (the ``bulkhead`` logger by default, leaving the server library's own
logging alone; the operator passes the root logger so kopf and client
libraries log the same way). Each record becomes one object on one line:
``{"time", "level", "logger", "msg", <fields>}``; ``fields`` makes values
top-level keys. An exception is logged by its type only: its text could
quote an object or a Secret.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
from collections.abc import Mapping
from typing import Any, Final

LOGGER_NAME: Final = "bulkhead"
LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_FIELDS: Final = "bulkhead_fields"


def logger(name: str = "") -> logging.Logger:
    """``bulkhead`` or ``bulkhead.<name>``."""
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
        fields_ = getattr(record, _FIELDS, None)
        if isinstance(fields_, Mapping):
            line.update(fields_)
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, separators=(",", ":"), default=str)


def configure(level: str, *, name: str = LOGGER_NAME) -> None:
    """Send logger ``name``'s records ("": the root's, so every logger's) to stderr as JSON."""
    target = logging.getLogger(name or None)
    for handler in list(target.handlers):
        target.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    target.addHandler(handler)
    target.setLevel(LEVELS.get(level, logging.INFO))
    if name:
        target.propagate = False


def fields(**values: Any) -> dict[str, Any]:
    """``extra=`` for a log call: the values become top-level keys of the JSON line."""
    return {_FIELDS: values}
