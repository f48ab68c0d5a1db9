"""Composing the Pod Security Standards levels at a policy version. Pure, no I/O.

``baseline`` at version V is every baseline check active at V; ``restricted``
adds every restricted check active at V and leaves out the baseline checks an
active restricted check overrides; ``privileged`` runs nothing.

Versions: an explicit ``v1.N`` means exactly that version whenever Bulkhead
implements it (``NEWEST_MINOR``, v1.37); only a version newer than the newest
Bulkhead knows is clamped down to it, since no check can be newer than the
code. ``latest`` means the newest version Bulkhead knows unless configured
otherwise (``--pss-latest``, which moves ``latest`` and nothing else).
Messages show the version as it was asked for (``restricted:latest``).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from typing import Final, Literal

from webhook.profiles import catalog, confinement, host, identity, privilege, sysctls, volumes
from webhook.rules import findings, podview

CHECKS: Final[Mapping[str, catalog.Check]] = catalog.build(
    (
        *host.CHECKS,
        *privilege.CHECKS,
        *identity.CHECKS,
        *confinement.CHECKS,
        *volumes.CHECKS,
        *sysctls.CHECKS,
    )
)

#: The newest policy version any check knows about.
NEWEST_MINOR: Final = max(v.minimum for c in CHECKS.values() for v in c.variants)
#: What ``latest`` means by default: the newest policy version Bulkhead implements.
DEFAULT_LATEST_MINOR: Final = NEWEST_MINOR

LevelName = Literal["privileged", "baseline", "restricted"]
LEVELS: Final[tuple[LevelName, ...]] = ("privileged", "baseline", "restricted")
_VERSION_RE: Final = re.compile(r"^v1\.(0|[1-9][0-9]*)$")


@dataclasses.dataclass(frozen=True, slots=True)
class Profile:
    """A level at a version, ready to judge pod views."""

    level: LevelName
    version: str
    minor: int
    check_ids: tuple[str, ...]
    evaluators: tuple[catalog.Evaluate, ...] = dataclasses.field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.level}:{self.version}"

    def evaluate(self, pod: podview.PodView) -> list[findings.Finding]:
        """Every finding of every active check, in Pod Security Admission's report order."""
        out: list[findings.Finding] = []
        for evaluate in self.evaluators:
            found = evaluate(pod)
            if found:
                out.extend(found)
        return out


def parse_version(version: str) -> int | None:
    """``v1.N`` -> N, ``latest`` -> None; anything else is a ValueError."""
    if version == "latest":
        return None
    match = _VERSION_RE.match(version)
    if match is None:
        raise ValueError(f"version {version!r} must be 'latest' or 'v1.N' (such as 'v1.35')")
    return int(match.group(1))


def _active(level: LevelName, minor: int) -> list[catalog.Check]:
    if level == "privileged":
        return []
    active = [
        c
        for c in CHECKS.values()
        if c.introduced <= minor and (level == "restricted" or c.level == "baseline")
    ]
    overridden = {c.overrides for c in active if c.overrides is not None}
    kept = [c for c in active if c.id not in overridden]
    baseline = sorted((c for c in kept if c.level == "baseline"), key=lambda c: c.id)
    restricted = sorted((c for c in kept if c.level == "restricted"), key=lambda c: c.id)
    return baseline + restricted


@functools.lru_cache(maxsize=256)
def resolve(
    level: str, version: str = "latest", *, latest_minor: int = DEFAULT_LATEST_MINOR
) -> Profile:
    """The profile for ``level`` at ``version``; ValueError names what is wrong."""
    if level not in LEVELS:
        raise ValueError(f"level {level!r} must be one of {', '.join(LEVELS)}")
    if not 0 <= latest_minor <= NEWEST_MINOR:
        raise ValueError(f"latest must be between v1.0 and v1.{NEWEST_MINOR}")
    pinned = parse_version(version)
    minor = latest_minor if pinned is None else min(pinned, NEWEST_MINOR)
    name: LevelName = (
        "restricted"
        if level == "restricted"
        else ("baseline" if level == "baseline" else "privileged")
    )
    checks = _active(name, minor)
    evaluators: list[catalog.Evaluate] = []
    for check in checks:
        variant = check.at(minor)
        if variant is not None:
            evaluators.append(variant.evaluate)
    return Profile(
        level=name,
        version=version,
        minor=minor,
        check_ids=tuple(c.id for c in checks),
        evaluators=tuple(evaluators),
    )


def parse(text: str, *, latest_minor: int = DEFAULT_LATEST_MINOR) -> Profile:
    """``restricted``, ``restricted:v1.30`` or ``baseline:latest`` -> the profile."""
    level, _, version = text.partition(":")
    return resolve(level, version or "latest", latest_minor=latest_minor)
