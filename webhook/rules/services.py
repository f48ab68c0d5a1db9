"""The ``services`` rule: a Service opens only the ports it is allowed to. Pure, no I/O.

Policy value (``spec.rules.services``), every field optional:

    services:
      allowedTypes: [ClusterIP]              # default: every type
      externalIPs: false                     # default false: no spec.externalIPs; true: allowed
      requireLoadBalancerSourceRanges: true  # default true

Kind judged: ``Service``. Fields read:

- ``spec.type`` (unset is ``ClusterIP``) must be one of ``allowedTypes``.
  ``NodePort`` opens a port on every node and ``LoadBalancer`` usually to the
  internet, so a cluster that wants services reached only through an
  ingress allows ``[ClusterIP]``.
- ``spec.externalIPs`` must be empty unless ``externalIPs: true``: whoever may
  create a Service with external IPs can intercept traffic to those
  addresses from every pod and node (CVE-2020-8554).
- a ``LoadBalancer`` Service must restrict its clients, with
  ``spec.loadBalancerSourceRanges`` or the
  ``service.beta.kubernetes.io/load-balancer-source-ranges`` annotation that
  cloud providers read alike, unless ``requireLoadBalancerSourceRanges: false``.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from webhook.rules import config, findings, objectview, openapi, registry

ID: Final = "services"
TYPES: Final = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
SOURCE_RANGES_ANNOTATION: Final = "service.beta.kubernetes.io/load-balancer-source-ranges"
_FIELDS: Final = ("allowedTypes", "externalIPs", "requireLoadBalancerSourceRanges")

_FIX: Final = (
    "Use an allowed spec.type (ClusterIP behind an Ingress or Gateway), remove "
    "spec.externalIPs, and give a LoadBalancer Service spec.loadBalancerSourceRanges "
    "listing the client networks that may reach it."
)


@dataclasses.dataclass(frozen=True, slots=True)
class Params:
    allowed_types: frozenset[str] = frozenset(TYPES)
    external_ips: bool = False
    require_source_ranges: bool = True


def parse(value: object, path: str) -> Params:
    """Read ``spec.rules.services``; every problem is reported with its path."""
    problems: config.Problems = []
    spec = config.mapping(value, path=path, allowed=_FIELDS, problems=problems)
    if spec is None:
        config.raise_if_any(problems)
        return Params()
    allowed = frozenset(TYPES)
    if "allowedTypes" in spec:
        at = config.child(path, "allowedTypes")
        written = config.string_items(spec["allowedTypes"], path=at, problems=problems)
        for item_path, item in written:
            if item not in TYPES:
                problems.append(
                    registry.Problem(item_path, f"unknown type {item!r}: one of {', '.join(TYPES)}")
                )
        if isinstance(spec["allowedTypes"], list) and not spec["allowedTypes"]:
            problems.append(registry.Problem(at, "must name at least one type"))
        allowed = frozenset(item for _, item in written)
    external = False
    if "externalIPs" in spec:
        external = config.boolean(
            spec["externalIPs"], config.child(path, "externalIPs"), problems=problems
        )
    ranges = True
    if "requireLoadBalancerSourceRanges" in spec:
        ranges = config.boolean(
            spec["requireLoadBalancerSourceRanges"],
            config.child(path, "requireLoadBalancerSourceRanges"),
            problems=problems,
        )
    config.raise_if_any(problems)
    return Params(allowed_types=allowed, external_ips=external, require_source_ranges=ranges)


def check(params: Params, service: objectview.ObjectView) -> list[findings.Finding]:
    """Findings for a disallowed type, external IPs and an unrestricted load balancer."""
    spec = service.spec
    out: list[findings.Finding] = []
    kind = objectview.string(spec.get("type"), "spec.type") or "ClusterIP"
    if kind not in params.allowed_types:
        shown = ", ".join(t for t in TYPES if t in params.allowed_types)
        out.append(
            service.finding(
                ID,
                "spec.type",
                message=f"{service.label} has type {kind}; the policy allows only {shown}",
                fix=_FIX,
            )
        )
    external = objectview.strings(spec.get("externalIPs"), "spec.externalIPs")
    if external and not params.external_ips:
        out.append(
            service.finding(
                ID,
                "spec.externalIPs",
                message=f"{service.label} sets externalIPs, which lets it intercept traffic "
                "to those addresses from every pod and node (CVE-2020-8554)",
                fix=_FIX,
            )
        )
    if kind == "LoadBalancer" and params.require_source_ranges:
        ranges = objectview.strings(
            spec.get("loadBalancerSourceRanges"), "spec.loadBalancerSourceRanges"
        )
        annotated = objectview.string(
            service.annotations.get(SOURCE_RANGES_ANNOTATION),
            f"metadata.annotations[{SOURCE_RANGES_ANNOTATION}]",
        )
        if not ranges and not (annotated and annotated.strip()):
            out.append(
                service.finding(
                    ID,
                    "spec.loadBalancerSourceRanges",
                    message=f"{service.label} is a LoadBalancer open to every client address",
                    fix=_FIX,
                )
            )
    return out


RULE: Final[registry.ObjectRule[Params]] = registry.ObjectRule(
    id=ID,
    title="Services open only allowed ports, with no external IPs",
    kinds=("Service",),
    fields=(
        "spec.type",
        "spec.externalIPs",
        "spec.loadBalancerSourceRanges",
        f"metadata.annotations[{SOURCE_RANGES_ANNOTATION}]",
    ),
    fix=_FIX,
    severity="high",
    schema=openapi.obj(
        "Judges Service objects; {} forbids only externalIPs and LoadBalancers open to every "
        "address.",
        {
            "allowedTypes": openapi.array(
                "The Service types allowed (left out: every type).",
                openapi.string("A Service type.", enum=list(TYPES)),
            ),
            "externalIPs": openapi.boolean(
                "true: spec.externalIPs allowed; false (default): refused, since such a "
                "Service can intercept traffic to those addresses (CVE-2020-8554)."
            ),
            "requireLoadBalancerSourceRanges": openapi.boolean(
                "true (default): a LoadBalancer Service must set "
                "spec.loadBalancerSourceRanges (or the "
                "service.beta.kubernetes.io/load-balancer-source-ranges annotation)."
            ),
        },
    ),
    parse=parse,
    check=check,
)
