"""Bulkhead's own checks as data: id, title, fields, fix, severity, schema, docs, parser, check.

Pure, no I/O. A rule's id is its key under a policy's ``spec.rules``, its name in messages,
docs and metrics, and the name of its test table. ``parse`` turns the value an
admin wrote under ``spec.rules.<id>`` into the rule's parameters (or ``None``
when the value switches the rule off, such as ``privileged: true``); it raises
``ConfigError`` naming the exact field. ``check`` is a small pure function from
those parameters and a pod view to findings. A ``Rule`` judges the pod spec of
every pod-bearing kind; an ``ObjectRule`` names the other kinds it judges
(``Service``, ``ClusterRole``) and gets a view of the whole object instead.
``severity`` (high, medium, low) says how much a violation weakens the
cluster's isolation: high when it opens a way to the node or to secrets
(privileged, host namespaces and paths, privilege escalation, literal
secrets), medium when it widens what a compromised container can do, low for
hygiene (probes, limits, a writable root filesystem). Reports use it (SARIF
``security-severity``); it never changes a verdict, which is the policy's
``action``. ``schema`` is the OpenAPI fragment of the value (built with
``openapi``; ``value_schema`` adds the title and the fields read to its
description), from which the CRD schema of ``spec.rules`` is generated;
``doc`` is the rule module's docstring (the values it allows and the fields
it reads), from which the rules reference (``docs/rules.md``) is generated.
Both kinds of rule share these descriptive fields through ``Described``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Generic, Literal, TypeVar

from webhook.rules import findings, objectview, podview

Params = TypeVar("Params")

Severity = Literal["high", "medium", "low"]
SEVERITIES: Final[tuple[Severity, ...]] = ("high", "medium", "low")

_ID_RE: Final = re.compile(r"^[a-z][A-Za-z]*$")


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One reason a policy field is unusable: the field path and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class ConfigError(ValueError):
    """A policy value cannot be used; carries every problem found, each with its path."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = tuple(problems)

    @classmethod
    def at(cls, path: str, reason: str) -> ConfigError:
        return cls([Problem(path, reason)])


@dataclasses.dataclass(frozen=True, slots=True)
class BoundCheck:
    """A rule with its parameters fixed: ready to run on pod views."""

    id: str
    run: Callable[[podview.PodView], list[findings.Finding]]


@dataclasses.dataclass(frozen=True, slots=True)
class Described:
    """What describes a rule of either kind: id, title, fields read, fix, severity, schema."""

    id: str
    title: str
    fields: tuple[str, ...]
    fix: str
    severity: Severity
    schema: Mapping[str, Any]

    def value_schema(self) -> dict[str, Any]:
        """The OpenAPI schema of ``spec.rules.<id>``, described by title, meaning and fields."""
        described = f"{self.title}. {self.schema['description']} Checks {', '.join(self.fields)}."
        return {**self.schema, "description": described}


@dataclasses.dataclass(frozen=True, slots=True)
class Rule(Described, Generic[Params]):
    """One check of Bulkhead's own, keyed by ``id`` under ``spec.rules``."""

    parse: Callable[[object, str], Params | None]
    check: Callable[[Params, podview.PodView], list[findings.Finding]]

    def bind(self, value: object, path: str) -> BoundCheck | None:
        """Parse ``value`` (found at ``path``) and fix it as this rule's parameters.

        Returns ``None`` when the value switches the rule off.
        """
        params = self.parse(value, path)
        if params is None:
            return None
        run: Callable[[podview.PodView], list[findings.Finding]] = functools.partial(
            self.check, params
        )
        return BoundCheck(id=self.id, run=run)


@dataclasses.dataclass(frozen=True, slots=True)
class BoundObjectCheck:
    """An object rule with its parameters fixed: ready to run on views of its ``kinds``."""

    id: str
    kinds: frozenset[str]
    run: Callable[[objectview.ObjectView], list[findings.Finding]]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ObjectRule(Described, Generic[Params]):
    """A check of objects that carry no pod spec, keyed by ``id`` under ``spec.rules``.

    ``kinds`` are the kinds it judges; ``fields`` are paths within such an object.
    """

    kinds: tuple[str, ...]
    parse: Callable[[object, str], Params | None]
    check: Callable[[Params, objectview.ObjectView], list[findings.Finding]]

    def bind(self, value: object, path: str) -> BoundObjectCheck | None:
        """Parse ``value`` (found at ``path``); ``None`` when the value switches the rule off."""
        params = self.parse(value, path)
        if params is None:
            return None
        run: Callable[[objectview.ObjectView], list[findings.Finding]] = functools.partial(
            self.check, params
        )
        return BoundObjectCheck(id=self.id, kinds=frozenset(self.kinds), run=run)


AnyRule = Rule[Any] | ObjectRule[Any]


def build(rules: Iterable[AnyRule]) -> Mapping[str, AnyRule]:
    """The registry by id; refuses duplicate or malformed ids and rules with no fix or fields.

    An object rule must name the kinds it judges.
    """
    registry: dict[str, AnyRule] = {}
    for rule in rules:
        if not _ID_RE.match(rule.id):
            raise ValueError(f"rule id {rule.id!r} is not camelCase")
        if rule.id in registry:
            raise ValueError(f"duplicate rule id {rule.id!r}")
        if not rule.fields or not rule.fix or not rule.title:
            raise ValueError(f"rule {rule.id!r} needs a title, fields and a fix")
        if not rule.schema.get("description"):
            raise ValueError(f"rule {rule.id!r} needs a described schema")
        if rule.severity not in SEVERITIES:
            raise ValueError(f"rule {rule.id!r} has unknown severity {rule.severity!r}")
        if isinstance(rule, ObjectRule) and not rule.kinds:
            raise ValueError(f"rule {rule.id!r} judges no kind")
        registry[rule.id] = rule
    return dict(sorted(registry.items()))
