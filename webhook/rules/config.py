"""Reading policy values: the one reader of every field of a policy document. Pure, no I/O.

Documents arrive as plain mappings and lists (from YAML, JSON or the
Kubernetes API). Each reader here checks one value's shape, records a
``registry.Problem`` at its exact path when it is wrong and lets the caller
carry on, so one compile reports every problem at once; ``raise_if_any``
then raises a single ``registry.ConfigError``. The policy compiler reads
``spec`` with them, and every rule's ``parse`` reads its value under
``spec.rules.<id>`` with them, so a problem is worded the same way wherever
it is found: ``must be <what>, not <the value>`` (``describe`` names the
value: ``the string "ghcr.io"``, ``a list``), and an unknown key is an
``unknown field`` with the closest valid key suggested.

A rule that is one boolean (``privileged: false`` enforces, ``privileged:
true`` turns the check off) is read by ``switch``.

``null`` is never accepted: the apiserver prunes nulls from policy objects,
so a null only comes from a hand-written file, where it is most likely a
mistake; to turn a rule off, leave it out (or write its "off" value).

Paths use dots for field names (``spec.rules.images.allowedRegistries``),
``[i]`` for list indexes and ``[key]`` for map keys that are not plain
identifiers (``maxLimits[ephemeral-storage]``,
``matchLabels[app.kubernetes.io/name]``).
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Final, TypeVar

from webhook.rules import registry

Problems = list[registry.Problem]
Choice = TypeVar("Choice", bound=str)

_IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SHOWN_TEXT: Final = 40
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RFC3339: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_ONE_DAY: Final = datetime.timedelta(days=1)
#: What ``expiry`` reads, as a JSON Schema pattern: a date or an RFC 3339 timestamp.
EXPIRY_PATTERN: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$"
)


def child(path: str, key: object) -> str:
    """The path of ``key`` below ``path``: ``a.b`` for identifiers, ``a[b.c/d]`` otherwise."""
    text = str(key)
    if _IDENTIFIER.match(text):
        return f"{path}.{text}" if path else text
    return f"{path}[{text}]"


def type_name(value: object) -> str:
    """The JSON/YAML name of a value's type (``string``, ``list``), never the value itself.

    For values of submitted objects, which may hold secrets; a policy's own
    values are named with ``describe``.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def describe(value: object) -> str:
    """A value as an admin would name it in a message: ``the string "yes"``, ``a list``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= _SHOWN_TEXT else value[:_SHOWN_TEXT] + "..."
        return f'the string "{shown}"'
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def suggestion(word: str, choices: Collection[str]) -> str:
    """``'; did you mean "x"?'`` for the closest of ``choices``, or ``''`` when none is close."""
    folded = {choice.lower(): choice for choice in choices}
    exact = folded.get(word.lower())
    if exact is not None:
        return f'; did you mean "{exact}"?'
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def one_of(choices: Collection[str]) -> str:
    """``"A", "B" or "C"`` for a reason text."""
    quoted = [f'"{choice}"' for choice in choices]
    if len(quoted) == 1:
        return quoted[0]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def switch(*, on: bool, enforces: str) -> Callable[[object, str], bool | None]:
    """The parser of a rule that is one boolean.

    ``on`` is the value that enforces the rule (``enforces`` says what it then
    demands); the other boolean turns the rule off (the parser returns ``None``).
    """
    off = not on

    def parse(value: object, path: str) -> bool | None:
        if value is on:
            return True
        if value is off:
            return None
        raise registry.ConfigError.at(
            path,
            f"must be {describe(on)} ({enforces}) or {describe(off)} (not checked), "
            f"not {describe(value)}",
        )

    return parse


def choice(
    value: object, choices: Sequence[Choice], *, path: str, problems: Problems
) -> Choice | None:
    """The one of ``choices`` that ``value`` is; otherwise record a problem and return ``None``.

    The problem names every choice and, for a string, suggests the closest.
    """
    for known in choices:
        if value == known:
            return known
    hint = suggestion(value, choices) if isinstance(value, str) else ""
    problems.append(registry.Problem(path, f"must be {one_of(choices)}{hint}"))
    return None


def mapping(
    value: object, *, path: str, problems: Problems, allowed: Collection[str] | None = None
) -> Mapping[str, Any] | None:
    """``value`` if it is an object; otherwise record a problem and return ``None``.

    With ``allowed``, the problem names the fields that exist, and every key
    of the object outside them is a problem too (``known_keys``).
    """
    if isinstance(value, Mapping):
        if allowed is not None:
            known_keys(value, allowed=allowed, path=path, problems=problems)
        return value
    with_fields = f" with {', '.join(allowed)}" if allowed is not None else ""
    problems.append(
        registry.Problem(path, f"must be an object{with_fields}, not {describe(value)}")
    )
    return None


def known_keys(
    value: Mapping[str, Any], *, allowed: Collection[str], path: str, problems: Problems
) -> None:
    """Record every key of ``value`` outside ``allowed``.

    The reason suggests the closest allowed key, or lists them all when none is close.
    """
    for key in value:
        if key not in allowed:
            hint = suggestion(str(key), allowed) or f"; expected one of {', '.join(allowed)}"
            problems.append(registry.Problem(child(path, key), f"unknown field{hint}"))


def switch_or_fields(
    value: object, *, path: str, allowed: Collection[str], enforces: str, problems: Problems
) -> Mapping[str, Any] | bool | None:
    """A rule value that is ``true`` (enforce with defaults), ``false`` (off) or an object.

    Returns the boolean, or the object as ``mapping`` reads it; anything else is a
    problem at ``path`` naming all three forms (``enforces`` says what true does),
    and ``None``.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, Mapping):
        return mapping(value, path=path, allowed=allowed, problems=problems)
    problems.append(
        registry.Problem(
            path,
            f"must be true ({enforces}), false (not checked) or an object with "
            f"{', '.join(allowed)}, not {describe(value)}",
        )
    )
    return None


def string(value: object, *, path: str, problems: Problems) -> str | None:
    """``value`` if it is a non-empty string; otherwise record a problem and return ``None``."""
    if isinstance(value, str) and value:
        return value
    problems.append(registry.Problem(path, f"must be a non-empty string, not {describe(value)}"))
    return None


def string_items(value: object, *, path: str, problems: Problems) -> list[tuple[str, str]]:
    """The non-empty strings of a list, each with its path; anything else is a problem.

    An empty list is fine (``[]``); a value that is no list is a problem (and ``[]``).
    """
    if not isinstance(value, list | tuple):
        problems.append(registry.Problem(path, f"must be a list, not {describe(value)}"))
        return []
    result: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if string(item, path=item_path, problems=problems) is not None:
            result.append((item_path, item))
    return result


def strings(value: object, *, path: str, problems: Problems, empty: str) -> tuple[str, ...] | None:
    """``value`` if it is a non-empty list of non-empty strings, else ``None`` with problems.

    ``empty`` is the reason given for an empty list (why it is refused).
    Each bad item is reported at its own index.
    """
    before = len(problems)
    items = string_items(value, path=path, problems=problems)
    if len(problems) != before:
        return None
    if not items:
        problems.append(registry.Problem(path, empty))
        return None
    return tuple(item for _, item in items)


def boolean(value: object, path: str, *, problems: Problems) -> bool:
    """``value`` when it is a boolean; otherwise a problem (and ``False``)."""
    if isinstance(value, bool):
        return value
    problems.append(registry.Problem(path, f"must be true or false, not {describe(value)}"))
    return False


def expiry(value: object, path: str, *, problems: Problems) -> datetime.datetime | None:
    """The instant an entry stops applying: a date lasts to the end of that day (UTC)."""
    reason = (
        "must be a date (2027-01-31, in force through that day, UTC) "
        "or an RFC 3339 timestamp (2027-01-31T18:00:00Z)"
    )
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value
    if isinstance(value, datetime.date):
        return _end_of(value)
    if not isinstance(value, str):
        problems.append(registry.Problem(path, f"{reason}, not {describe(value)}"))
        return None
    try:
        if _DATE.match(value):
            return _end_of(datetime.date.fromisoformat(value))
        if _RFC3339.match(value):
            text = value.upper().replace("Z", "+00:00")
            return datetime.datetime.fromisoformat(text)
    except ValueError:
        problems.append(registry.Problem(path, f"{value!r} is not a real date or time"))
        return None
    problems.append(registry.Problem(path, f"{reason}, not {value!r}"))
    return None


def _end_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day + _ONE_DAY, datetime.time(), tzinfo=datetime.UTC)


def raise_if_any(problems: Problems) -> None:
    """Raise one ``ConfigError`` carrying every problem, if there are any."""
    if problems:
        raise registry.ConfigError(problems)
