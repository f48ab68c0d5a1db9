"""Objects for the object rules' tables (Service, Ingress, RBAC), and running one rule on them."""

from __future__ import annotations

from typing import Any

from webhook import rules
from webhook.rules import findings, objectview, registry

Obj = dict[str, Any]


def run(rule_id: str, value: object, obj: Obj) -> list[findings.Finding]:
    """Findings of one object rule, configured as ``spec.rules.<rule_id>: value``, on ``obj``."""
    rule = rules.RULES[rule_id]
    assert isinstance(rule, registry.ObjectRule)
    bound = rule.bind(value, f"spec.rules.{rule_id}")
    assert bound is not None, f"{rule_id}: {value!r} turned the rule off"
    assert obj["kind"] in bound.kinds
    return bound.run(objectview.ObjectView(obj["kind"], obj))


def paths(found: list[findings.Finding]) -> list[str]:
    return [finding.path for finding in found]
