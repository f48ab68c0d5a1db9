"""Container image references: parsing and normalisation. Pure, no I/O.

Implements the Docker/OCI reference grammar as container runtimes read it:

    reference  := name [":" tag] ["@" digest]
    name       := [registry "/"] path
    registry   := host [":" port]      host: DNS name, IPv4 or [IPv6]
    path       := component ("/" component)*
    component  := [a-z0-9]+ (("." | "_" | "__" | "-"+) [a-z0-9]+)*
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex

Normalisation, as a runtime pulls: the first path segment is a registry only
if it contains ``.`` or ``:`` or is ``localhost`` (``nginx`` and ``acme/app``
are Docker Hub); Docker Hub is ``docker.io`` (``index.docker.io`` too) and a
one-segment Docker Hub path lives under ``library/``; registry hosts are
compared in lower case (DNS is case-insensitive); no tag and no digest means
the tag ``latest``. So ``nginx`` is ``docker.io/library/nginx:latest``. A
reference with a tag and a digest is pinned by its digest.

Only digests a runtime can verify are valid: ``sha256`` (64 hex digits),
``sha384`` (96) and ``sha512`` (128), in lower case. A repository path in
upper case is invalid (runtimes refuse it), so ``Acme/app`` is not an image.

``Prefix`` is a registry or registry/repository prefix, as policies write
them in ``allowedRegistries``. It matches on ``/`` boundaries only:
``ghcr.io/acme`` admits the repository ``ghcr.io/acme`` itself,
``ghcr.io/acme/x`` and ``ghcr.io/acme/team/y``, never ``ghcr.io/acme-evil/x``
nor ``ghcr.io.evil.com/acme/x``. A trailing ``/`` means "below":
``ghcr.io/acme/`` admits ``ghcr.io/acme/x`` and deeper, never the repository
``ghcr.io/acme`` itself (``ghcr.io/`` still admits every repository of
``ghcr.io``, since all of them lie below the registry).

``parse`` is cached (bounded), since the same images come back pod after pod.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from typing import Final

DOCKER_HUB: Final = "docker.io"
LATEST: Final = "latest"

_MAX_NAME: Final = 255
_MAX_REFERENCE: Final = 1024
_CACHE_SIZE: Final = 4096
_DIGEST_LENGTHS: Final = {"sha256": 64, "sha384": 96, "sha512": 128}
_DOMAIN_COMPONENT: Final = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_REGISTRY: Final = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_COMPONENT: Final = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ALGORITHM: Final = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[+._-][A-Za-z][A-Za-z0-9]*)*")
_HEX: Final = re.compile(r"[0-9a-f]+")


class ImageError(ValueError):
    """An image reference (or prefix) that cannot be used; ``reason`` says why."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(f"{reference!r}: {reason}")
        self.reference = reference
        self.reason = reason


@dataclasses.dataclass(frozen=True, slots=True)
class Reference:
    """A parsed, normalised image reference.

    ``repository`` is the path below the registry (``library/nginx``); ``tag``
    and ``digest`` are ``None`` when not written; ``normalized`` is the full
    form (``docker.io/library/nginx:latest``).
    """

    registry: str
    repository: str
    tag: str | None
    digest: str | None
    normalized: str
    latest: bool = dataclasses.field(init=False)
    """Whether the image floats on ``:latest`` (written or implied) with no digest."""

    def __post_init__(self) -> None:
        floating = self.digest is None and (self.tag is None or self.tag == LATEST)
        object.__setattr__(self, "latest", floating)

    @property
    def name(self) -> str:
        """Registry and repository: ``docker.io/library/nginx``."""
        return f"{self.registry}/{self.repository}"


def _is_registry(segment: str) -> bool:
    return "." in segment or ":" in segment or segment == "localhost"


def _registry(text: str, host: str) -> str:
    if not _REGISTRY.fullmatch(host):
        raise ImageError(text, f'registry "{host}" is not a valid host[:port]')
    host = host.lower()
    return DOCKER_HUB if host == "index.docker.io" else host


def _check_path(text: str, path: str) -> None:
    for component in path.split("/"):
        if _COMPONENT.fullmatch(component):
            continue
        if _COMPONENT.fullmatch(component.lower()):
            raise ImageError(text, f'repository "{path}" must be lower case')
        if not component:
            raise ImageError(text, f'repository "{path}" has an empty path segment')
        raise ImageError(text, f'repository path segment "{component}" is not valid')


def _check_digest(text: str, digest: str) -> None:
    algorithm, colon, hex_digits = digest.partition(":")
    if not colon or not _ALGORITHM.fullmatch(algorithm):
        raise ImageError(text, f'digest "{digest}" must be algorithm:hex, e.g. sha256:<64 hex>')
    length = _DIGEST_LENGTHS.get(algorithm)
    if length is None:
        raise ImageError(
            text, f'digest algorithm "{algorithm}" is not supported (sha256, sha384, sha512)'
        )
    if len(hex_digits) != length or not _HEX.fullmatch(hex_digits):
        raise ImageError(
            text, f"a {algorithm} digest must be {length} lower-case hexadecimal digits"
        )


@functools.lru_cache(maxsize=_CACHE_SIZE)
def parse(text: str) -> Reference:
    """Parse and normalise an image reference; ``ImageError`` when it is not valid."""
    if not text:
        raise ImageError(text, "is empty")
    if len(text) > _MAX_REFERENCE:
        raise ImageError(text[:64] + "...", "is too long")
    remainder, at, digest = text.partition("@")
    if at:
        _check_digest(text, digest)
    tag: str | None = None
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/"):
        tag = remainder[colon + 1 :]
        remainder = remainder[:colon]
        if not _TAG.fullmatch(tag):
            raise ImageError(text, f'tag "{tag}" is not valid')
    if not remainder:
        raise ImageError(text, "has no repository name")
    if len(remainder) > _MAX_NAME:
        raise ImageError(text, f"name is longer than {_MAX_NAME} characters")
    first, slash, rest = remainder.partition("/")
    if slash and _is_registry(first):
        registry = _registry(text, first)
        path = rest
    else:
        registry = DOCKER_HUB
        path = remainder
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    _check_path(text, path)
    normalized = f"{registry}/{path}"
    if tag is not None:
        normalized += f":{tag}"
    elif not at:
        normalized += f":{LATEST}"
    if at:
        normalized += f"@{digest}"
    return Reference(
        registry=registry,
        repository=path,
        tag=tag,
        digest=digest if at else None,
        normalized=normalized,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Prefix:
    """A registry, or a registry and repository prefix, matched on ``/`` boundaries.

    ``below`` (written with a trailing ``/``) admits only repositories strictly
    below ``path``, not the repository ``path`` itself.
    """

    registry: str
    path: str
    below: bool = False

    def admits(self, reference: Reference) -> bool:
        """Whether ``reference`` comes from this registry and lies under this path."""
        if reference.registry != self.registry:
            return False
        path = self.path
        if not path:
            return True
        repository = reference.repository
        if len(repository) == len(path):
            return repository == path and not self.below
        return repository.startswith(path) and repository[len(path)] == "/"

    def __str__(self) -> str:
        if not self.path:
            return f"{self.registry}/" if self.below else self.registry
        return f"{self.registry}/{self.path}" + ("/" if self.below else "")


@dataclasses.dataclass(frozen=True, slots=True)
class PrefixSet:
    """Prefixes indexed by registry: an image is compared only with its own registry's."""

    prefixes: tuple[Prefix, ...]
    _by_registry: Mapping[str, tuple[frozenset[str], tuple[str, ...]]] = dataclasses.field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        exact: dict[str, set[str]] = {}
        below: dict[str, list[str]] = {}
        for prefix in self.prefixes:
            exact.setdefault(prefix.registry, set())
            if not prefix.below or not prefix.path:
                exact[prefix.registry].add(prefix.path)
            below.setdefault(prefix.registry, []).append(f"{prefix.path}/" if prefix.path else "")
        index = {name: (frozenset(exact[name]), tuple(below[name])) for name in exact}
        object.__setattr__(self, "_by_registry", index)

    def admits(self, reference: Reference) -> bool:
        """Whether any prefix admits ``reference``."""
        entry = self._by_registry.get(reference.registry)
        if entry is None:
            return False
        repository = reference.repository
        return repository in entry[0] or repository.startswith(entry[1])

    def __str__(self) -> str:
        return ", ".join(str(prefix) for prefix in self.prefixes)


def parse_prefix(text: str) -> Prefix:
    """Parse ``ghcr.io/acme`` or ``ghcr.io/acme/`` (below only); ``ImageError`` when unusable."""
    stripped = text.rstrip("/")
    if not stripped:
        raise ImageError(text, "is empty")
    if "*" in stripped:
        raise ImageError(text, "wildcards are not supported: prefixes match on '/' boundaries")
    if "@" in stripped:
        raise ImageError(text, "must be a registry or repository prefix, without a digest")
    first, _, path = stripped.partition("/")
    if not _is_registry(first):
        raise ImageError(
            text,
            f'must start with a registry host; "{first}" is not one '
            f"(write docker.io/{stripped} for Docker Hub)",
        )
    if ":" in path:
        raise ImageError(text, "must be a registry or repository prefix, without a tag")
    registry = _registry(text, first)
    if path:
        _check_path(text, path)
    return Prefix(registry=registry, path=path, below=text.endswith("/"))
