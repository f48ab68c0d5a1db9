"""The Pod Security Standards checks as data: id, level, reason, versioned variants. Pure.

A check has one or more variants, each with the policy minor version from
which it applies (``v1.<minimum>``); at version V a check uses its newest
variant whose minimum is <= V and is absent when its first variant is newer.
A restricted check may override a baseline check: while the restricted one
is active, the baseline one is left out of the restricted level entirely.

``build`` validates the catalogue itself (duplicate ids, bad levels, unsorted
or duplicate variant versions, overrides of unknown or non-baseline checks)
so a mistake fails at import in every test run rather than in a cluster.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Literal

from webhook.rules import findings, podview

Level = Literal["baseline", "restricted"]
Evaluate = Callable[[podview.PodView], list[findings.Finding]]


@dataclasses.dataclass(frozen=True, slots=True)
class Variant:
    """One implementation of a check, in force from policy version ``v1.<minimum>``."""

    minimum: int
    evaluate: Evaluate


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """One Pod Security Standards check.

    ``reason`` is the upstream reason text (``host namespaces``) that starts
    every message of this check; ``overrides`` names the baseline check this
    restricted check replaces while it is active.
    """

    id: str
    level: Level
    reason: str
    variants: tuple[Variant, ...]
    overrides: str | None = None

    @property
    def introduced(self) -> int:
        return self.variants[0].minimum

    def at(self, minor: int) -> Variant | None:
        """The variant in force at policy version ``v1.<minor>``, or ``None`` if absent."""
        chosen: Variant | None = None
        for variant in self.variants:
            if variant.minimum > minor:
                break
            chosen = variant
        return chosen


def build(checks: Iterable[Check]) -> Mapping[str, Check]:
    """Validate the catalogue and return it keyed by id, in byte order of the ids."""
    catalogue: dict[str, Check] = {}
    for check in checks:
        if check.id in catalogue:
            raise ValueError(f"duplicate Pod Security check id {check.id!r}")
        if check.level not in ("baseline", "restricted"):
            raise ValueError(f"check {check.id!r} has unknown level {check.level!r}")
        if not check.variants:
            raise ValueError(f"check {check.id!r} has no variants")
        minimums = [v.minimum for v in check.variants]
        if minimums != sorted(set(minimums)) or minimums[0] < 0:
            raise ValueError(f"check {check.id!r} has unsorted or duplicate versions {minimums}")
        catalogue[check.id] = check
    for check in catalogue.values():
        if check.overrides is None:
            continue
        target = catalogue.get(check.overrides)
        if check.level != "restricted" or target is None or target.level != "baseline":
            raise ValueError(f"check {check.id!r} overrides {check.overrides!r}, which it cannot")
    return dict(sorted(catalogue.items()))
