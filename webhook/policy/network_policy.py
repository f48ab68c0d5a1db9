"""The ``networkPolicy`` check: namespaces where Pods run deny traffic by default. Pure, no I/O.

Policy value (``spec.rules.networkPolicy``):

    networkPolicy: true              # a default-deny NetworkPolicy for Ingress
    networkPolicy: {egress: true}    # ... for Ingress and for Egress
    networkPolicy: false             # off

A NetworkPolicy is *default-deny* for a direction (``Ingress``, ``Egress``)
when all three hold:

- it selects every Pod of its namespace: ``spec.podSelector`` is ``{}`` (no
  ``matchLabels``, no ``matchExpressions``);
- the direction is one of its policy types: listed in ``spec.policyTypes``,
  or, with ``policyTypes`` left out, ``Ingress`` always and ``Egress`` when
  ``spec.egress`` is set (how Kubernetes reads it);
- it has no rule for that direction: ``spec.ingress`` (or ``spec.egress``)
  is absent or empty. A policy with rules of its own is an *allow* policy:
  ``ingress: [{}]`` admits everything, and whether a set of rules still
  restricts enough cannot be told from the rules alone, so only a policy
  with none counts. Allow policies sit beside the default-deny one.

Kinds judged:

- every pod-bearing kind (a Pod, a Deployment's template): a finding at
  ``metadata.namespace`` when the namespace has no default-deny NetworkPolicy
  for a required direction. At admission the webhook knows the cluster's
  NetworkPolicies from its watch (``Isolation``); until that has loaded it
  cannot tell, and says so (a finding, never a silent pass). Offline,
  ``bulkhead check`` knows the NetworkPolicies of its input.
- ``NetworkPolicy``: deleting the last default-deny NetworkPolicy of a
  namespace for a required direction, or changing it so it no longer denies
  by default, is a finding. "A namespace where Pods run" is approximated by
  every namespace the policy applies to: the webhook keeps no Pod cache (its
  memory would grow with the cluster's Pods), so an empty namespace is
  protected too. Deleting the namespace itself is never refused, and its
  NetworkPolicies go with it (the namespace controller's deletions of a
  namespace being deleted are not judged, ``Isolation.terminating``).

``check`` and ``check_change`` only read the evidence handed in; the webhook's
cluster cache, the audit and ``bulkhead check`` each build it with
``denied_directions`` and ``Isolation``.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Iterable, Mapping
from typing import Any, Final

from webhook.rules import config, findings, objectview, openapi, registry

ID: Final = "networkPolicy"
KIND: Final = "NetworkPolicy"
DIRECTIONS: Final = ("Ingress", "Egress")
_RULE_KEYS: Final[Mapping[str, str]] = {"Ingress": "ingress", "Egress": "egress"}

FIX: Final = (
    "Apply a default-deny NetworkPolicy in the namespace: podSelector: {}, "
    "policyTypes: [Ingress] (and Egress when the policy requires it), and no "
    "ingress or egress rules; allow the traffic Pods need with further "
    "NetworkPolicies beside it."
)


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """A policy's ``spec.rules.networkPolicy``: the directions that must be denied by default."""

    directions: tuple[str, ...] = ("Ingress",)


def parse(value: object, path: str) -> Settings | None:
    """Read ``spec.rules.networkPolicy``: true, false (off) or ``{egress: bool}``."""
    problems: config.Problems = []
    spec = config.switch_or_fields(
        value,
        path=path,
        allowed=("egress",),
        enforces="a default-deny NetworkPolicy for Ingress",
        problems=problems,
    )
    if spec is False:
        return None
    egress = False
    if isinstance(spec, Mapping) and "egress" in spec:
        egress = config.boolean(spec["egress"], config.child(path, "egress"), problems=problems)
    config.raise_if_any(problems)
    return Settings(directions=DIRECTIONS if egress else ("Ingress",))


def _selects_all(spec: Mapping[str, Any]) -> bool:
    selector = spec.get("podSelector")
    if selector is None:
        return True  # the API requires it; read as {} offline, like the apiserver's default
    if not isinstance(selector, Mapping):
        return False
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def denied_directions(obj: Mapping[str, Any]) -> frozenset[str]:
    """The directions NetworkPolicy ``obj`` denies by default (see the module's definition).

    A field of the wrong type makes the policy deny nothing: only what
    certainly isolates counts.
    """
    spec = obj.get("spec")
    if not isinstance(spec, Mapping) or not _selects_all(spec):
        return frozenset()
    listed = spec.get("policyTypes")
    if listed is None:
        types_ = ["Ingress", *(["Egress"] if spec.get("egress") else [])]
    elif isinstance(listed, list):
        types_ = [t for t in listed if isinstance(t, str)]
    else:
        return frozenset()
    denied: set[str] = set()
    for direction in types_:
        key = _RULE_KEYS.get(direction)
        if key is None:
            continue
        rules_ = spec.get(key)
        if rules_ is None or (isinstance(rules_, list) and not rules_):
            denied.add(direction)
    return frozenset(denied)


def _name_of(obj: Mapping[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return "", ""
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


#: namespace -> NetworkPolicy name -> the directions it denies by default (never empty).
Denying = Mapping[str, Mapping[str, frozenset[str]]]
_NONE: Final[Denying] = types.MappingProxyType({})


@dataclasses.dataclass(frozen=True, slots=True)
class Isolation:
    """What is known of the cluster's default-deny NetworkPolicies.

    ``known`` is false until they have been listed (the check then cannot
    tell and says so); ``denying`` holds only the default-deny ones;
    ``terminating`` names namespaces being deleted.
    """

    known: bool
    denying: Denying = dataclasses.field(default_factory=lambda: _NONE)
    terminating: frozenset[str] = frozenset()

    def names(self, namespace: str, direction: str) -> tuple[str, ...]:
        """The default-deny NetworkPolicies of ``namespace`` for ``direction``, sorted."""
        found = self.denying.get(namespace, {})
        return tuple(sorted(name for name, denied in found.items() if direction in denied))

    def replaced(self, namespace: str, name: str, obj: Mapping[str, Any] | None) -> Isolation:
        """This isolation once NetworkPolicy ``namespace/name`` becomes ``obj`` (``None``: gone)."""
        denied = denied_directions(obj) if obj is not None else frozenset()
        return dataclasses.replace(
            self, denying=with_entry(self.denying, namespace=namespace, name=name, denied=denied)
        )


def with_entry(denying: Denying, *, namespace: str, name: str, denied: frozenset[str]) -> Denying:
    """``denying`` with NetworkPolicy ``namespace/name`` denying ``denied`` (empty: nothing).

    Copies only that namespace's entry and the outer table's references, so a
    watch event or a judged deletion costs microseconds with thousands of
    namespaces.
    """
    entry = {key: value for key, value in denying.get(namespace, {}).items() if key != name}
    if denied:
        entry[name] = denied
    table = dict(denying)
    if entry:
        table[namespace] = types.MappingProxyType(entry)
    else:
        table.pop(namespace, None)
    return types.MappingProxyType(table)


def freeze(table: Mapping[str, Mapping[str, frozenset[str]]]) -> Denying:
    """``table`` as an immutable ``Denying``."""
    return types.MappingProxyType(
        {ns: types.MappingProxyType(dict(by_name)) for ns, by_name in table.items() if by_name}
    )


#: Nothing loaded yet: every check fails closed with a message saying so.
UNKNOWN: Final = Isolation(known=False)


def of_objects(objects: Iterable[Mapping[str, Any]], *, default_namespace: str) -> Isolation:
    """The isolation NetworkPolicy documents give (``bulkhead check``'s input)."""
    table: dict[str, dict[str, frozenset[str]]] = {}
    for obj in objects:
        denied = denied_directions(obj)
        if denied:
            namespace, name = _name_of(obj)
            table.setdefault(namespace or default_namespace, {})[name] = denied
    return Isolation(known=True, denying=freeze(table))


def _missing(settings: Settings, namespace: str, isolation: Isolation) -> list[str]:
    return [d for d in settings.directions if not isolation.names(namespace, d)]


def _shown(directions: Iterable[str]) -> str:
    return " and ".join(directions)


_EXPOSURE: Final[Mapping[str, str]] = {
    "Ingress": "accept traffic from anywhere",
    "Egress": "may send traffic anywhere",
}


def _exposed(directions: Iterable[str]) -> str:
    """What Pods can do without a default deny in ``directions``."""
    return " and ".join(_EXPOSURE[d] for d in directions)


def check(settings: Settings, namespace: str, isolation: Isolation) -> list[findings.Finding]:
    """A finding when ``namespace`` lacks a default-deny NetworkPolicy for a required direction."""
    if not isolation.known:
        return [
            findings.Finding(
                ID,
                "metadata.namespace",
                f"Bulkhead has not loaded the cluster's NetworkPolicies yet, so it cannot "
                f'tell whether namespace "{namespace}" denies {_shown(settings.directions)} '
                "traffic by default; retry in a few seconds",
                FIX,
            )
        ]
    missing = _missing(settings, namespace, isolation)
    if not missing:
        return []
    return [
        findings.Finding(
            ID,
            "metadata.namespace",
            f'namespace "{namespace}" has no default-deny NetworkPolicy for '
            f"{_shown(missing)} (one with podSelector: {{}}, {_shown(missing)} in "
            f"policyTypes and no rules of that direction), so its Pods {_exposed(missing)}",
            FIX,
        )
    ]


def check_change(
    settings: Settings, old: objectview.ObjectView, namespace: str, after: Isolation
) -> list[findings.Finding]:
    """A finding when removing or changing NetworkPolicy ``old`` ends a required default deny.

    ``after`` is the isolation as it would be once the request is done.
    """
    if namespace in after.terminating:
        return []
    denied = denied_directions(old.obj)
    if not denied:
        return []
    if not after.known:
        return [
            findings.Finding(
                ID,
                "metadata.name",
                f"Bulkhead has not loaded the cluster's NetworkPolicies yet, so it cannot "
                f'tell whether {old.label} is the last default deny of namespace "{namespace}"; '
                "retry in a few seconds",
                FIX,
            )
        ]
    lost = [d for d in settings.directions if d in denied and not after.names(namespace, d)]
    if not lost:
        return []
    return [
        findings.Finding(
            ID,
            "metadata.name",
            f"{old.label} is the last default-deny NetworkPolicy for {_shown(lost)} in "
            f'namespace "{namespace}"; without it the namespace\'s Pods {_exposed(lost)}',
            "Keep it, or first apply another NetworkPolicy with podSelector: {}, "
            f"policyTypes listing {_shown(lost)} and no rules of that direction.",
        )
    ]


#: The OpenAPI schema of ``spec.rules.networkPolicy``.
SCHEMA: Final[openapi.Schema] = openapi.either(
    "true: every namespace where the policy applies needs a default-deny NetworkPolicy "
    "for Ingress (podSelector: {}, Ingress in policyTypes, no ingress rules); "
    "{egress: true}: for Egress too; false: not checked. Judges pod-bearing objects "
    "and deletions or changes of NetworkPolicies."
)

#: What describes the check in the rules reference and reports, as a rule is described.
DESCRIBED: Final = registry.Described(
    id=ID,
    title="Namespaces where Pods run deny traffic by default with a NetworkPolicy",
    fields=(
        "metadata.namespace",
        "NetworkPolicy spec.podSelector",
        "NetworkPolicy spec.policyTypes",
        "NetworkPolicy spec.ingress",
        "NetworkPolicy spec.egress",
    ),
    fix=FIX,
    severity="high",
    schema=SCHEMA,
)
