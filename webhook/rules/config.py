"""Reading the value an admin wrote under ``spec.rules.<id>``. Pure, no I/O.

Owns the shapes every rule's ``parse`` shares: a rule that is one boolean
(``privileged: false`` enforces, ``privileged: true`` turns the check off),
objects with a fixed set of fields, lists of strings and booleans. Readers
record a ``registry.Problem`` at the exact path of a bad value and let the
caller carry on, so one rule value reports all of its problems at once;
``raise_if_any`` then raises a single ``registry.ConfigError``.

``null`` is never accepted: the apiserver prunes nulls from policy objects,
so a null only comes from a hand-written file, where it is most likely a
mistake; to turn a rule off, leave it out (or write its "off" value).

Paths use dots for field names (``spec.rules.images.allowedRegistries``),
``[i]`` for list indexes and ``[key]`` for map keys that are not plain
identifiers (``maxLimits[ephemeral-storage]``), like the policy compiler's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

from webhook.rules import registry

Problems = list[registry.Problem]

_IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SHOWN_TEXT: Final = 40


def child(path: str, key: str) -> str:
    """The path of ``key`` below ``path``: ``a.b`` for identifiers, ``a[b-c]`` otherwise."""
    if _IDENTIFIER.match(key):
        return f"{path}.{key}"
    return f"{path}[{key}]"


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


def fields(
    value: object, path: str, *, allowed: Collection[str], problems: Problems
) -> Mapping[str, Any] | None:
    """``value`` as an object whose keys are all in ``allowed``; ``None`` when it is no object.

    Every unknown key is a problem at its own path, naming the fields that exist.
    """
    expected = ", ".join(allowed)
    if not isinstance(value, Mapping):
        problems.append(
            registry.Problem(path, f"must be an object with {expected}, not {describe(value)}")
        )
        return None
    for key in value:
        if key not in allowed:
            problems.append(
                registry.Problem(
                    child(path, str(key)), f"unknown field; expected one of {expected}"
                )
            )
    return value


def switch_or_fields(
    value: object, path: str, *, allowed: Collection[str], enforces: str, problems: Problems
) -> Mapping[str, Any] | bool | None:
    """A rule value that is ``true`` (enforce with defaults), ``false`` (off) or an object.

    Returns the boolean, or the object as ``fields`` reads it; anything else is a
    problem at ``path`` naming all three forms (``enforces`` says what true does),
    and ``None``.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, Mapping):
        return fields(value, path, allowed=allowed, problems=problems)
    problems.append(
        registry.Problem(
            path,
            f"must be true ({enforces}), false (not checked) or an object with "
            f"{', '.join(allowed)}, not {describe(value)}",
        )
    )
    return None


def strings(value: object, path: str, *, problems: Problems) -> list[tuple[str, str]]:
    """The non-empty strings of a list, each with its path; anything else is a problem."""
    if not isinstance(value, list):
        problems.append(registry.Problem(path, f"must be a list, not {describe(value)}"))
        return []
    result: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if not isinstance(item, str) or not item:
            problems.append(
                registry.Problem(item_path, f"must be a non-empty string, not {describe(item)}")
            )
            continue
        result.append((item_path, item))
    return result


def boolean(value: object, path: str, *, problems: Problems) -> bool:
    """``value`` when it is a boolean; otherwise a problem (and ``False``)."""
    if isinstance(value, bool):
        return value
    problems.append(registry.Problem(path, f"must be true or false, not {describe(value)}"))
    return False


def raise_if_any(problems: Problems) -> None:
    """Raise one ``ConfigError`` carrying every problem, if there are any."""
    if problems:
        raise registry.ConfigError(problems)
