"""Name and image patterns: exact strings, or globs where ``*`` is the only wildcard. Pure, no I/O.

The grammar, for every pattern a policy writes (``match.namespaces``, and in
``spec.exclude`` ``namespaces``, ``usernames``, ``groups``, ``containers``
and ``images``):

    pattern := piece ("*" piece)*      piece: any characters but "*", matched literally

``*`` matches any run of characters, including none; every other character
(``?``, ``[``, ``.``, ``\\`` included) matches only itself; matching is case
sensitive and anchored at both ends. A pattern without ``*`` is compared
exactly. What ``*`` may cross depends on what is matched:

* Names (namespaces, usernames, groups, containers): the value is the name
  exactly as the apiserver sends it, and ``*`` may cross any character
  (``system:serviceaccount:ci:*`` matches every service account of ``ci``).
* Images: the value is the image's normalised reference
  ``registry/repository[:tag][@digest]`` (``nginx`` is
  ``docker.io/library/nginx:latest``), never the form written in the pod, and
  an image that cannot be parsed matches no pattern. The pattern is
  normalised by the same rules first: its first ``/``-separated part is a
  registry only if it contains ``.`` or ``:`` or is ``localhost`` (``*``
  counts for nothing there), otherwise ``docker.io/`` is put in front, and
  ``library/`` as well when it names one path segment; the registry is
  lower-cased (``index.docker.io`` is ``docker.io``); and a pattern whose last
  path segment has no ``:``, ``@`` or ``*`` gets the implied ``:latest``.
  ``*`` never crosses ``/``: it stands within one path segment (it may cross
  ``.``, ``:``, ``@`` and ``-``). So ``nginx*`` is
  ``docker.io/library/nginx*`` and matches ``nginx:1.27`` but never
  ``nginx.evil.example.com/miner:1``; ``ghcr.io/acme/*`` matches
  ``ghcr.io/acme/app:1`` and ``ghcr.io/acme/app@sha256:...`` but not
  ``ghcr.io/acme/team/app:1`` (write ``ghcr.io/acme/*/*`` for that).

Matching never backtracks: a glob is split once into its literal pieces; the
first must start the value, the last must end it, and each piece between is
found at its leftmost place after the previous one (which is always the right
choice when ``*`` is the only wildcard). Image patterns are matched one path
segment at a time after checking that the segment counts agree. So a match
costs time linear in the value's length for a given pattern, whatever the
pattern and the value are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from webhook.rules import config, image_references, registry

#: Checks one pattern; returns why it can never match, or ``None`` when it is fine.
Validator = Callable[[str], str | None]
#: The value a pattern is compared with, or ``None`` when nothing can match it.
Subject = Callable[[str], str | None]


@dataclasses.dataclass(frozen=True, slots=True)
class Glob:
    """One pattern with at least one ``*``: its literal pieces, in order."""

    pieces: tuple[str, ...]

    @classmethod
    def of(cls, pattern: str) -> Glob:
        return cls(tuple(pattern.split("*")))

    def matches(self, value: str) -> bool:
        """Whether the whole of ``value`` matches (greedy leftmost pieces, no backtracking)."""
        pieces = self.pieces
        first = pieces[0]
        last = pieces[-1]
        end = len(value) - len(last)
        if end < len(first) or not value.startswith(first) or not value.endswith(last):
            return False
        position = len(first)
        for piece in pieces[1:-1]:
            found = value.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True


Segment = str | Glob


def _segment(text: str) -> Segment:
    return Glob.of(text) if "*" in text else text


def _segment_matches(segment: Segment, value: str) -> bool:
    return segment == value if isinstance(segment, str) else segment.matches(value)


@dataclasses.dataclass(frozen=True, slots=True)
class Patterns:
    """A list of patterns; matches a value when any one of them does.

    ``exact`` holds the patterns without ``*``; ``globs`` the others, each as
    a tuple of segments (one segment for names, one per ``/``-separated path
    segment for images); ``subject`` turns a value into what is compared.
    """

    texts: tuple[str, ...]
    exact: frozenset[str]
    globs: tuple[tuple[Segment, ...], ...]
    separator: str | None = None
    subject: Subject | None = dataclasses.field(default=None, compare=False)

    def matches(self, value: str) -> bool:
        subject = value if self.subject is None else self.subject(value)
        if subject is None:
            return False
        if subject in self.exact:
            return True
        if not self.globs:
            return False
        if self.separator is None:
            return any(_segment_matches(glob[0], subject) for glob in self.globs)
        parts = subject.split(self.separator)
        return any(
            len(glob) == len(parts)
            and all(_segment_matches(s, p) for s, p in zip(glob, parts, strict=True))
            for glob in self.globs
        )

    def matches_any(self, values: Iterable[str]) -> bool:
        return any(self.matches(value) for value in values)

    def __str__(self) -> str:
        return ", ".join(self.texts)


def of(texts: Iterable[str]) -> Patterns:
    """The ``Patterns`` for already-validated name patterns (``*`` crosses anything)."""
    written = tuple(texts)
    return Patterns(
        texts=written,
        exact=frozenset(t for t in written if "*" not in t),
        globs=tuple((_segment(t),) for t in dict.fromkeys(written) if "*" in t),
    )


def normalized_image(image: str) -> str | None:
    """The normalised reference an image pattern is compared with; ``None`` if unparseable."""
    try:
        return image_references.parse(image).normalized
    except image_references.ImageError:
        return None


def image_pattern(pattern: str) -> str:
    """``pattern`` normalised like an image reference (see the module docstring)."""
    first, slash, rest = pattern.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry_part = first.lower()
        if registry_part == "index.docker.io":
            registry_part = image_references.DOCKER_HUB
        path = rest
    else:
        registry_part = image_references.DOCKER_HUB
        path = pattern
        if "/" not in path:
            path = f"library/{path}"
    last = path.rpartition("/")[2]
    if not any(mark in last for mark in ":@*"):
        path = f"{path}:{image_references.LATEST}"
    return f"{registry_part}/{path}"


def images_of(texts: Iterable[str]) -> Patterns:
    """The ``Patterns`` for already-validated image patterns, matched by normalised reference."""
    written = tuple(texts)
    normalized = [image_pattern(t) for t in written]
    return Patterns(
        texts=written,
        exact=frozenset(n for n in normalized if "*" not in n),
        globs=tuple(
            tuple(_segment(s) for s in n.split("/")) for n in dict.fromkeys(normalized) if "*" in n
        ),
        separator="/",
        subject=normalized_image,
    )


def parse(
    value: object,
    path: str,
    *,
    empty: str,
    validate: Validator | None = None,
    build: Callable[[Iterable[str]], Patterns] = of,
) -> Patterns:
    """Read a list of patterns at ``path``; ``registry.ConfigError`` lists every bad item.

    ``empty`` is the reason an empty list is refused; ``validate`` rejects
    patterns that could never match (such as an upper-case namespace);
    ``build`` is ``of`` for names and ``images_of`` for images.
    """
    problems: config.Problems = []
    texts = config.strings(value, path=path, problems=problems, empty=empty)
    if texts is not None and validate is not None:
        for index, text in enumerate(texts):
            reason = validate(text)
            if reason is not None:
                problems.append(registry.Problem(f"{path}[{index}]", reason))
    if problems or texts is None:
        raise registry.ConfigError(problems)
    return build(texts)
