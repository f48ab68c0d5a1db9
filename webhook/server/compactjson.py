"""Compact JSON in ASCII for answers and log lines, by ``orjson`` when it can. Pure, no I/O.

``orjson`` is several times cheaper than the standard library's encoder, but
writes UTF-8 and refuses a lone surrogate. Where it writes ASCII, it writes
the same JSON as the standard library's compact encoder (a few floats are
spelt otherwise: ``1e-7`` for ``1e-07``); anything else (a name with
characters outside ASCII, a lone surrogate, an integer past 64 bits) is
written by the standard library's, which escapes them, so every answer and
every log line stays ASCII whatever the names in a review hold.
"""

from __future__ import annotations

import json
from typing import Final

import orjson

#: ``json.dumps`` with separators builds a new encoder on every call; this one is built once.
_ENCODE: Final = json.JSONEncoder(separators=(",", ":")).encode


def dumps(value: object) -> bytes:
    """``value`` as compact JSON in ASCII (module docstring)."""
    try:
        encoded = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _ENCODE(value).encode()
    return encoded if encoded.isascii() else _ENCODE(value).encode()


def text(value: object) -> str:
    """``dumps`` as a string (a log line)."""
    return dumps(value).decode("ascii")
