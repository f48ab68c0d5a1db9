"""Bulkhead's own checks as data: id, title, fields, fix, severity, schema, docs, parser, check.

Pure, no I/O. A rule's id is its key under a policy's ``spec.rules``, its name in messages,
docs and metrics, and the name of its test table. ``parse`` turns the value an
admin wrote under ``spec.rules.<id>`` into the rule's parameters (or ``None``
when the value switches the rule off, such as ``privileged: true``); it raises
``ConfigError`` naming the exact field. ``check`` is a small pure function from
those parameters and a pod view to findings. ``severity`` (high, medium, low)
says how much a violation weakens the cluster's isolation: high when it
opens a way to the node or to secrets (privileged, host namespaces and
paths, privilege escalation, literal secrets), medium when it widens what a
compromised container can do, low for hygiene (probes, limits, a writable
root filesystem). Reports use it (SARIF ``security-severity``); it never
changes a verdict, which is the policy's ``action``. ``schema`` is the
OpenAPI fragment of the value (built with ``openapi``; ``value_schema``
adds the title and the fields read to its description), from which the
CRD schema of ``spec.rules`` is generated; ``doc`` is the rule module's
docstring (the values it allows and the fields it reads), from which the
rules reference (``docs/rules.md``) is generated.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Generic, Literal, TypeVar

from webhook.rules import findings, podview

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
class Rule(Generic[Params]):
    """One check of Bulkhead's own, keyed by ``id`` under ``spec.rules``."""

    id: str
    title: str
    fields: tuple[str, ...]
    fix: str
    severity: Severity
    schema: Mapping[str, Any]
    doc: str | None
    parse: Callable[[object, str], Params | None]
    check: Callable[[Params, podview.PodView], list[findings.Finding]]

    def value_schema(self) -> dict[str, Any]:
        """The OpenAPI schema of ``spec.rules.<id>``, described by title, meaning and fields."""
        described = f"{self.title}. {self.schema['description']} Checks {', '.join(self.fields)}."
        return {**self.schema, "description": described}

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


def build(rules: Iterable[Rule[Any]]) -> Mapping[str, Rule[Any]]:
    """The registry by id; refuses duplicate or malformed ids and rules with no fix or fields."""
    registry: dict[str, Rule[Any]] = {}
    for rule in rules:
        if not _ID_RE.match(rule.id):
            raise ValueError(f"rule id {rule.id!r} is not camelCase")
        if rule.id in registry:
            raise ValueError(f"duplicate rule id {rule.id!r}")
        if not rule.fields or not rule.fix or not rule.title:
            raise ValueError(f"rule {rule.id!r} needs a title, fields and a fix")
        if not rule.doc or not rule.schema.get("description"):
            raise ValueError(f"rule {rule.id!r} needs a docstring and a described schema")
        if rule.severity not in SEVERITIES:
            raise ValueError(f"rule {rule.id!r} has unknown severity {rule.severity!r}")
        registry[rule.id] = rule
    return dict(sorted(registry.items()))
