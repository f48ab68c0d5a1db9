"""The ``ingressTLS`` rule: an Ingress serves every host over TLS. Pure, no I/O.

Policy value (``spec.rules.ingressTLS``):

    ingressTLS: true                            # enforce TLS for every host
    ingressTLS: {allowedClasses: [nginx]}       # and only these ingress classes
    ingressTLS: false                           # not checked

Kind judged: ``Ingress``. Fields read:

- ``spec.rules[i].host`` must be covered by a host of some ``spec.tls[j].hosts``:
  the same name, or a wildcard ``*.example.com`` covering exactly one more
  label (``a.example.com``, not ``a.b.example.com``), compared without regard
  to case, as in a TLS certificate. A rule with no host answers every name,
  and so does ``spec.defaultBackend``; they are covered only by a ``tls`` entry
  that lists no hosts (the controller's default certificate). Otherwise the
  traffic reaches the cluster unencrypted.
- with ``allowedClasses``, ``spec.ingressClassName`` (or the older
  ``kubernetes.io/ingress.class`` annotation) must be one of them; an Ingress
  that names no class is a finding too, since the cluster's default class
  would serve it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Final

from webhook.rules import config, findings, objectview, openapi, registry

ID: Final = "ingressTLS"
CLASS_ANNOTATION: Final = "kubernetes.io/ingress.class"

_FIX: Final = (
    "Add a spec.tls entry whose hosts cover every spec.rules[].host (with the Secret "
    "holding its certificate), and name an allowed spec.ingressClassName."
)


@dataclasses.dataclass(frozen=True, slots=True)
class Params:
    #: ``None``: any class
    allowed_classes: frozenset[str] | None = None


def parse(value: object, path: str) -> Params | None:
    """Read ``spec.rules.ingressTLS``: true, false (off) or ``{allowedClasses: [...]}``."""
    problems: config.Problems = []
    spec = config.switch_or_fields(
        value,
        path=path,
        allowed=("allowedClasses",),
        enforces="TLS for every host",
        problems=problems,
    )
    if spec is False:
        return None
    classes: frozenset[str] | None = None
    if isinstance(spec, Mapping) and "allowedClasses" in spec:
        at = config.child(path, "allowedClasses")
        written = config.string_items(spec["allowedClasses"], path=at, problems=problems)
        if isinstance(spec["allowedClasses"], list) and not spec["allowedClasses"]:
            problems.append(registry.Problem(at, "must name at least one ingress class"))
        classes = frozenset(item for _, item in written)
    config.raise_if_any(problems)
    return Params(allowed_classes=classes)


def covers(tls_host: str, host: str) -> bool:
    """Whether a TLS host (maybe a ``*.`` wildcard) covers ``host``, as a certificate would."""
    tls_host, host = tls_host.lower(), host.lower()
    if tls_host == host:
        return True
    if not tls_host.startswith("*."):
        return False
    first, dot, rest = host.partition(".")
    return bool(first) and bool(dot) and rest == tls_host[2:]


def _tls_hosts(ingress: objectview.ObjectView) -> tuple[list[str], bool]:
    """Every host named under ``spec.tls`` and whether some entry names none."""
    hosts: list[str] = []
    default = False
    for index, entry in enumerate(objectview.objects(ingress.spec.get("tls"), "spec.tls")):
        named = objectview.strings(entry.get("hosts"), f"spec.tls[{index}].hosts")
        hosts.extend(named)
        default = default or not named
    return hosts, default


def _covered(host: str, tls_hosts: Sequence[str]) -> bool:
    return any(covers(name, host) for name in tls_hosts)


def check(params: Params, ingress: objectview.ObjectView) -> list[findings.Finding]:
    """Findings for every host served without TLS and for a class outside the allowed ones."""
    spec = ingress.spec
    out: list[findings.Finding] = []
    tls_hosts, default_cert = _tls_hosts(ingress)
    for index, rule in enumerate(objectview.objects(spec.get("rules"), "spec.rules")):
        host = objectview.string(rule.get("host"), f"spec.rules[{index}].host")
        if host:
            if not _covered(host, tls_hosts):
                out.append(
                    ingress.finding(
                        ID,
                        f"spec.rules[{index}].host",
                        message=f"{ingress.label} serves host {host} without TLS: "
                        "no spec.tls entry covers it",
                        fix=_FIX,
                    )
                )
        elif not default_cert:
            out.append(
                ingress.finding(
                    ID,
                    f"spec.rules[{index}]",
                    message=f"{ingress.label} has a rule for every host name without TLS: "
                    "no spec.tls entry without hosts covers it",
                    fix=_FIX,
                )
            )
    if spec.get("defaultBackend") is not None and not default_cert:
        out.append(
            ingress.finding(
                ID,
                "spec.defaultBackend",
                message=f"{ingress.label} serves its default backend without TLS: "
                "no spec.tls entry without hosts covers it",
                fix=_FIX,
            )
        )
    if params.allowed_classes is not None:
        out.extend(_class_findings(params.allowed_classes, ingress))
    return out


def _class_findings(
    allowed: frozenset[str], ingress: objectview.ObjectView
) -> list[findings.Finding]:
    shown = ", ".join(sorted(allowed))
    named = objectview.string(ingress.spec.get("ingressClassName"), "spec.ingressClassName")
    path = "spec.ingressClassName"
    if named is None:
        annotation = f"metadata.annotations[{CLASS_ANNOTATION}]"
        named = objectview.string(ingress.annotations.get(CLASS_ANNOTATION), annotation)
        if named is not None:
            path = annotation
    if named is None:
        message = f"{ingress.label} names no ingress class; the policy allows only {shown}"
    elif named not in allowed:
        message = f"{ingress.label} uses ingress class {named}; the policy allows only {shown}"
    else:
        return []
    return [ingress.finding(ID, path, message=message, fix=_FIX)]


RULE: Final[registry.ObjectRule[Params]] = registry.ObjectRule(
    id=ID,
    title="Ingresses serve every host over TLS",
    kinds=("Ingress",),
    fields=(
        "spec.rules[*].host",
        "spec.tls[*].hosts",
        "spec.defaultBackend",
        "spec.ingressClassName",
        f"metadata.annotations[{CLASS_ANNOTATION}]",
    ),
    fix=_FIX,
    severity="medium",
    schema=openapi.either(
        "true: every spec.rules[].host of an Ingress is covered by a spec.tls entry; false: "
        "not checked; {allowedClasses: [nginx]}: also only these ingress classes. Either a "
        "boolean or an object, so the schema leaves it open and the operator reports a bad "
        "value in status."
    ),
    parse=parse,
    check=check,
)
