"""Request bytes to a JSON value, strictly. Pure, no I/O.

The server's first line of defence; everything refused here is answered
with a JSON error body and never reaches the decision:

* a content type other than ``application/json``: 415;
* a body over ``settings.MAX_BODY_BYTES``: 413;
* bytes that are not UTF-8, not JSON, or JSON that Kubernetes itself would
  never produce: duplicate keys in one object (a later key would silently
  win, so Bulkhead could judge a different object than the apiserver
  stores), ``NaN``/``Infinity``, integers outside int64, floats that
  overflow, nesting deeper than ``settings.MAX_JSON_DEPTH``, more than
  ``settings.MAX_JSON_VALUES`` values (checked before decoding, so a body
  of millions of tiny values never costs a worker hundreds of megabytes): 400.

Two readings, one answer. The fast one: ``orjson`` decodes the body, and its
value is kept only when re-encoding it, with no integer beyond 53 bits,
gives back the body's own text (whitespace aside, and the three escapes Go
writes for ``<``, ``>``, ``&`` read as those characters). The text of a
JSON object with a duplicate key is never the encoding of a decoded object,
which holds each key once (quotes inside strings are escaped in both texts,
so both have the same tokens); an integer outside int64 is one ``orjson``
reads as an int up to 2**64 (which the 53-bit encoding refuses) or as a
float past it (which it writes back as another text). Anything else (an
error, a different text: other escapes, numbers written another way, an
integer of more than 53 bits even within int64) is left to the exact
reading below, which says what is wrong, so every refusal and its message
is the exact reading's. A review as the apiserver writes it takes the fast
reading.

The exact reading: the standard library's C decoder does the parsing; the
hooks below add the checks it lacks. Duplicate keys are found by counting rather than by an
``object_pairs_hook`` (whose list of pairs per object costs more than the
rest of the parse): every key in the text is a closing quote followed by
``:``, so with escaped quotes and whitespace removed, ``":`` occurs at least
once per key; a duplicate key makes the decoded value hold fewer keys than
that. When the two counts differ (a duplicate, or a string that merely
looks like a key, such as ``":8080"``), the body is decoded again with the
exact per-object check, which names the key or finds nothing wrong.
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson

from webhook.server import settings

_INT64_MAX: Final = 2**63 - 1
_INT64_MIN: Final = -(2**63)
_MAX_INT_TEXT: Final = len(str(_INT64_MIN))
#: Deleted before measuring nesting: everything except brackets and quotes.
_NOT_STRUCTURE: Final = bytes(i for i in range(256) if chr(i) not in '[]{}"')
#: JSON's whitespace, deleted before counting keys.
_WHITESPACE: Final = b" \t\r\n"
#: How Go's encoder (the apiserver's) writes ``&``, ``<`` and ``>`` in strings; orjson does not.
_GO_ESCAPES: Final = ((b"\\u0026", b"&"), (b"\\u003c", b"<"), (b"\\u003e", b">"))
#: ``_fast`` could not vouch for its reading.
_UNSURE: Final = object()


class BodyError(ValueError):
    """The body cannot be judged; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise BodyError(400, f"duplicate key {key[:100]!r} in one JSON object")
            seen.add(key)
    return obj


def _constant(name: str) -> Any:
    raise BodyError(400, f"{name} is not valid JSON")


def _integer(text: str) -> int:
    if len(text) > _MAX_INT_TEXT:
        raise BodyError(400, "an integer is out of the int64 range")
    value = int(text)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise BodyError(400, "an integer is out of the int64 range")
    return value


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise BodyError(400, "a number overflows a 64-bit float")
    return value


#: The exact decoder: checks every object for duplicate keys as it is built.
_EXACT: Final = json.JSONDecoder(
    object_pairs_hook=_pairs,
    parse_constant=_constant,
    parse_int=_integer,
    parse_float=_float,
)


def _counting_decoder() -> tuple[json.JSONDecoder, list[int]]:
    """A decoder that adds every decoded object's number of keys to ``counted[0]``."""
    counted = [0]

    def objects(obj: dict[str, Any]) -> dict[str, Any]:
        counted[0] += len(obj)
        return obj

    decoder = json.JSONDecoder(
        object_hook=objects, parse_constant=_constant, parse_int=_integer, parse_float=_float
    )
    return decoder, counted


def keys_in_text(raw: bytes) -> int:
    """An upper bound on the object keys in ``raw`` (valid JSON): how often ``":`` occurs.

    Escaped backslashes, then escaped quotes, then whitespace are removed
    first, so every key's closing quote is directly followed by its colon.
    (Removing more would join an opening quote to a colon inside a string,
    as in ``"sha256:…"``, and send every body to the exact decoder.)
    """
    if b"\\" in raw:  # rare outside annotations; the replacements cost more than the test
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    return raw.translate(None, _WHITESPACE).count(b'":')


def content_type_ok(content_type: str | None) -> bool:
    """``application/json``, with or without parameters (``; charset=utf-8``)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json"


def depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in ``raw``, which must be valid JSON.

    Brackets inside strings do not count: escaped backslashes and quotes are
    removed first, so every remaining quote opens or closes a string.
    """
    if raw.count(b"{") + raw.count(b"[") <= settings.MAX_JSON_DEPTH:
        return 0  # cannot nest deeper than the limit; not worth measuring
    structure = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    brackets = b"".join(structure.split(b'"')[::2])
    level = 0
    while brackets:
        brackets = brackets.replace(b"{}", b"").replace(b"[]", b"")
        level += 1
        if level > settings.MAX_JSON_DEPTH:
            break
    return level


def values(raw: bytes) -> int:
    """How many values (object members, array items) ``raw`` holds, at most; exact when large.

    Every value but the first in an array or object is preceded by a comma and
    every member has a colon, so commas plus colons plus one bound the count.
    Counted in the raw bytes first; only when that passes the limit (strings
    full of commas, such as JSON in an annotation) are strings left out.
    """
    rough = raw.count(b",") + raw.count(b":") + 1
    if rough <= settings.MAX_JSON_VALUES:
        return rough
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[::2])
    return outside.count(b",") + outside.count(b":") + 1


def _fast(raw: bytes) -> Any:
    """``orjson``'s reading of ``raw`` when it is the exact reading's (module docstring), else
    ``_UNSURE``."""
    try:
        value = orjson.loads(raw)
        again = orjson.dumps(value, option=orjson.OPT_STRICT_INTEGER)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return _UNSURE
    if again != raw:  # compact JSON without Go's escapes comes back byte for byte
        text = raw.translate(None, _WHITESPACE)
        if b"\\u00" in text:
            for escaped, character in _GO_ESCAPES:
                text = text.replace(escaped, character)
        if again.translate(None, _WHITESPACE) != text:
            return _UNSURE
    return value


def _exact(raw: bytes) -> Any:
    """The standard library's reading of ``raw``, with every check (module docstring)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BodyError(400, f"the body is not UTF-8: {err.reason} at byte {err.start}") from err
    try:
        decoder, counted = _counting_decoder()
        value = decoder.decode(text)
        if counted[0] != keys_in_text(raw):
            value = _EXACT.decode(text)  # raises BodyError naming a duplicate key, if any
    except RecursionError as err:
        raise BodyError(400, f"JSON nests deeper than {settings.MAX_JSON_DEPTH} levels") from err
    except json.JSONDecodeError as err:
        raise BodyError(400, f"the body is not valid JSON: {err.msg} at {err.pos}") from err
    except ValueError as err:  # int() over Python's digit limit
        if isinstance(err, BodyError):
            raise
        raise BodyError(400, "a number in the body is out of range") from err
    return value


def decode(raw: bytes) -> Any:
    """The JSON value in ``raw``; ``BodyError`` (400) says what is wrong with it."""
    if len(raw) > settings.MAX_BODY_BYTES:
        raise BodyError(413, f"the body is larger than {settings.MAX_BODY_BYTES} bytes")
    # a body holds at most one value per byte: a short one cannot pass the limit
    if len(raw) >= settings.MAX_JSON_VALUES and values(raw) > settings.MAX_JSON_VALUES:
        raise BodyError(400, f"the body holds more than {settings.MAX_JSON_VALUES} JSON values")
    value = _fast(raw)
    if value is _UNSURE:
        value = _exact(raw)
    if depth(raw) > settings.MAX_JSON_DEPTH:
        raise BodyError(400, f"JSON nests deeper than {settings.MAX_JSON_DEPTH} levels")
    return value
