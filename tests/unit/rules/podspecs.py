"""Pod specs for the rule tables, and running one rule on them.

Specs are plain dicts as the apiserver sends them. ``TEMPLATE`` builds views
whose paths start at ``spec.template.spec``, as for a Deployment.
"""

from __future__ import annotations

from typing import Any

from webhook import rules
from webhook.rules import findings, podview, registry

DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = f"ghcr.io/acme/app@{DIGEST}"

Spec = dict[str, Any]


def container(name: str = "app", **fields: Any) -> Spec:
    """A container with a pinned image and any extra fields."""
    return {"name": name, "image": IMAGE, **fields}


def pod(
    *containers: Spec,
    init: list[Spec] | None = None,
    ephemeral: list[Spec] | None = None,
    **spec: Any,
) -> Spec:
    """A pod spec with the given containers (one plain ``app`` container by default)."""
    out: Spec = {"containers": list(containers) or [container()], **spec}
    if init is not None:
        out["initContainers"] = init
    if ephemeral is not None:
        out["ephemeralContainers"] = ephemeral
    return out


def view(spec: Spec, *, template: bool = False) -> podview.PodView:
    """The view of a Pod's spec, or of a workload's pod template."""
    if template:
        return podview.read(
            spec, spec_path="spec.template.spec", metadata_path="spec.template.metadata"
        )
    return podview.read(spec)


def run(
    rule_id: str, value: object, spec: Spec, *, template: bool = False
) -> list[findings.Finding]:
    """Findings of one rule, configured as ``spec.rules.<rule_id>: value``, on ``spec``."""
    bound = rules.RULES[rule_id].bind(value, f"spec.rules.{rule_id}")
    assert bound is not None, f"{rule_id}: {value!r} turned the rule off"
    return bound.run(view(spec, template=template))


def paths(found: list[findings.Finding]) -> list[str]:
    return [finding.path for finding in found]


def problems(rule_id: str, value: object) -> list[str]:
    """The paths of every problem ``spec.rules.<rule_id>: value`` has (none: ``[]``)."""
    try:
        rules.RULES[rule_id].parse(value, f"spec.rules.{rule_id}")
    except registry.ConfigError as error:
        return [problem.path for problem in error.problems]
    return []


def reasons(rule_id: str, value: object) -> str:
    """The reasons of a policy value's problems, joined (for asserting on wording)."""
    try:
        rules.RULES[rule_id].parse(value, f"spec.rules.{rule_id}")
    except registry.ConfigError as error:
        return "; ".join(problem.reason for problem in error.problems)
    return ""
