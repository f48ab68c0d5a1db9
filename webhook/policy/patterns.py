"""Name patterns: exact strings or globs where ``*`` matches any run of characters. Pure, no I/O.

The only wildcard is ``*`` (any run of characters, including none and
including ``/`` and ``.``); every other character, ``?`` and ``[`` included,
matches itself. A pattern without ``*`` is compared exactly; a pattern with
one is compiled once into an anchored regular expression. A ``Patterns``
value holds one list of them and answers "does any pattern match?".
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable

from webhook.policy import fields
from webhook.rules import registry

#: Checks one pattern; returns why it can never match, or ``None`` when it is fine.
Validator = Callable[[str], str | None]


def glob(pattern: str) -> re.Pattern[str]:
    """The anchored regular expression for ``pattern`` (``*`` = any run of characters)."""
    parts = (re.escape(part) for part in pattern.split("*"))
    return re.compile(".*".join(parts), re.DOTALL)


@dataclasses.dataclass(frozen=True, slots=True)
class Patterns:
    """A list of patterns; matches a value when any one of them does."""

    texts: tuple[str, ...]
    exact: frozenset[str]
    globs: tuple[re.Pattern[str], ...]

    def matches(self, value: str) -> bool:
        if value in self.exact:
            return True
        return any(g.fullmatch(value) is not None for g in self.globs)

    def matches_any(self, values: Iterable[str]) -> bool:
        return any(self.matches(value) for value in values)

    def __str__(self) -> str:
        return ", ".join(self.texts)


def of(texts: Iterable[str]) -> Patterns:
    """The ``Patterns`` for already-validated pattern strings."""
    written = tuple(texts)
    return Patterns(
        texts=written,
        exact=frozenset(t for t in written if "*" not in t),
        globs=tuple(glob(t) for t in dict.fromkeys(written) if "*" in t),
    )


def parse(value: object, path: str, *, empty: str, validate: Validator | None = None) -> Patterns:
    """Read a list of patterns at ``path``; ``registry.ConfigError`` lists every bad item.

    ``empty`` is the reason an empty list is refused; ``validate`` rejects
    patterns that could never match (such as an upper-case namespace).
    """
    problems: fields.Problems = []
    texts = fields.strings(value, path=path, problems=problems, empty=empty)
    if texts is not None and validate is not None:
        for index, text in enumerate(texts):
            reason = validate(text)
            if reason is not None:
                problems.append(registry.Problem(f"{path}[{index}]", reason))
    if problems or texts is None:
        raise registry.ConfigError(problems)
    return of(texts)
