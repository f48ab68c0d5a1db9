"""Reading fields of an already-parsed policy document. Pure, no I/O.

Documents arrive as plain mappings and lists (from YAML, JSON or the
Kubernetes API). These helpers check one value's shape, record a
``registry.Problem`` at its exact path when it is wrong and let the caller
carry on, so one compile reports every problem at once. An unknown key is a
problem too, with the closest valid key suggested.

Paths use dots for field names (``spec.match.kinds``), ``[i]`` for list
indexes and ``[key]`` for map keys that are not plain identifiers
(``matchLabels[app.kubernetes.io/name]``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final, TypeVar

from webhook.rules import registry

Problems = list[registry.Problem]
Choice = TypeVar("Choice", bound=str)

_IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def type_name(value: object) -> str:
    """The JSON/YAML name of a value's type, as an admin would say it."""
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


def child(path: str, key: object) -> str:
    """The path of ``key`` below ``path``: ``a.b`` for identifiers, ``a[b.c/d]`` otherwise."""
    text = str(key)
    if _IDENTIFIER.match(text):
        return f"{path}.{text}" if path else text
    return f"{path}[{text}]"


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

    With ``allowed``, every key of the object outside it is a problem too (``known_keys``).
    """
    if isinstance(value, Mapping):
        if allowed is not None:
            known_keys(value, allowed=allowed, path=path, problems=problems)
        return value
    problems.append(registry.Problem(path, f"must be an object, not {type_name(value)}"))
    return None


def known_keys(
    value: Mapping[str, Any], *, allowed: Collection[str], path: str, problems: Problems
) -> None:
    """Record every key of ``value`` outside ``allowed``, suggesting the closest allowed key."""
    for key in value:
        if key not in allowed:
            problems.append(
                registry.Problem(child(path, key), "unknown field" + suggestion(str(key), allowed))
            )


def string(value: object, *, path: str, problems: Problems) -> str | None:
    """``value`` if it is a non-empty string; otherwise record a problem and return ``None``."""
    if not isinstance(value, str):
        problems.append(registry.Problem(path, f"must be a string, not {type_name(value)}"))
        return None
    if not value:
        problems.append(registry.Problem(path, "must not be empty"))
        return None
    return value


def strings(value: object, *, path: str, problems: Problems, empty: str) -> tuple[str, ...] | None:
    """``value`` if it is a non-empty list of non-empty strings, else ``None`` with problems.

    ``empty`` is the reason given for an empty list (why it is refused).
    Each bad item is reported at its own index.
    """
    if not isinstance(value, list | tuple):
        problems.append(registry.Problem(path, f"must be a list, not {type_name(value)}"))
        return None
    if not value:
        problems.append(registry.Problem(path, empty))
        return None
    before = len(problems)
    items = [string(item, path=f"{path}[{i}]", problems=problems) for i, item in enumerate(value)]
    if len(problems) != before:
        return None
    return tuple(item for item in items if item is not None)
