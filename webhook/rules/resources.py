"""The ``resources`` rule: containers declare and bound what they use. Pure, no I/O.

Policy value (``spec.rules.resources``), one or more fields:

    resources:
      requireLimits: [cpu, memory]       # every container sets these limits
      requireRequests: [memory]          # ... and these requests
      maxLimits: {memory: 4Gi, cpu: "2"} # no limit above these

Resource names: ``cpu``, ``memory``, ``ephemeral-storage`` and
``hugepages-<size>`` (``hugepages-2Mi``). Quantities use Kubernetes syntax
(``500m``, ``4Gi``, ``1e3``; see ``quantity``); a maximum must be above zero.

Fields read: ``resources.limits.<name>`` and ``resources.requests.<name>``
of ``initContainers`` and ``containers``. Ephemeral containers cannot carry
resources, so they are never judged.

- A required limit that is unset is a finding at ``...resources.limits.<name>``.
- A required request that is unset is satisfied by a limit of that resource,
  because Kubernetes defaults the request to the limit (for Pods it does so
  before admission; a workload's template gets the same when its pods are
  made, so both are judged alike). Otherwise it is a finding at
  ``...resources.requests.<name>``.
- A limit above ``maxLimits`` is a finding at ``...resources.limits.<name>``.
  An unset limit is not judged by ``maxLimits``; add the resource to
  ``requireLimits`` to forbid unlimited containers.
- A value the rule reads that is not a valid quantity is a finding at its path.

Names that are not identifiers are written as keys: ``limits[ephemeral-storage]``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, Final

from webhook.rules import config, findings, openapi, podview, quantity, registry

ID: Final = "resources"

STANDARD: Final = ("cpu", "memory", "ephemeral-storage")
_HUGEPAGES: Final = "hugepages-"
_FIELDS: Final = ("requireLimits", "requireRequests", "maxLimits")
_CACHE_SIZE: Final = 2048
_NO_BOUND: Final = (0, 1)
_RESOURCE_NAME: Final = r"^(cpu|memory|ephemeral-storage|hugepages-.+)$"
#: A Kubernetes quantity (the apiserver's own pattern for ``resource.Quantity``).
_QUANTITY: Final = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_FIX: Final = (
    "Set resources.requests and resources.limits on every container, within the policy's maximums."
)


@dataclasses.dataclass(frozen=True, slots=True)
class Maximum:
    """The largest limit allowed for one resource, as written and as an exact fraction."""

    name: str
    text: str
    numerator: int
    denominator: int


@dataclasses.dataclass(frozen=True, slots=True)
class LimitCheck:
    """One limit the rule reads: whether it is required and its maximum, if any.

    ``bound`` is the maximum as ``(numerator, denominator)``; ``(0, 1)`` when there is none.
    """

    name: str
    required: bool
    maximum: str | None
    bound: tuple[int, int]


@dataclasses.dataclass(frozen=True, slots=True)
class Params:
    """Resource names whose limits and requests must be set, and limit maximums."""

    require_limits: tuple[str, ...]
    require_requests: tuple[str, ...]
    max_limits: tuple[Maximum, ...]
    limits: tuple[LimitCheck, ...] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        maximums = {maximum.name: maximum for maximum in self.max_limits}
        plan: list[LimitCheck] = []
        for name in dict.fromkeys((*self.require_limits, *maximums)):
            maximum = maximums.get(name)
            plan.append(
                LimitCheck(
                    name=name,
                    required=name in self.require_limits,
                    maximum=maximum.text if maximum else None,
                    bound=(maximum.numerator, maximum.denominator) if maximum else _NO_BOUND,
                )
            )
        object.__setattr__(self, "limits", tuple(plan))


def resource_problem(name: str) -> str | None:
    """Why ``name`` is not a resource the rule can judge, or ``None`` when it is."""
    if name in STANDARD:
        return None
    if name.startswith(_HUGEPAGES):
        size = name[len(_HUGEPAGES) :]
        try:
            if quantity.parse(size) > 0:
                return None
        except quantity.QuantityError:
            pass
        return f'"{name}" needs a page size, e.g. hugepages-2Mi'
    hint = ""
    if name.lower() in STANDARD:
        hint = f'; did you mean "{name.lower()}"?'
    return (
        f'unknown resource "{name}": use cpu, memory, ephemeral-storage or hugepages-<size>{hint}'
    )


def _names(value: object, path: str, *, problems: config.Problems) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for item_path, name in config.string_items(value, path=path, problems=problems):
        reason = resource_problem(name)
        if reason is not None:
            problems.append(registry.Problem(item_path, reason))
        else:
            names[name] = None
    return tuple(names)


def _maximums(value: object, path: str, *, problems: config.Problems) -> tuple[Maximum, ...]:
    if not isinstance(value, Mapping):
        problems.append(
            registry.Problem(
                path,
                f"must be an object of resource names and quantities, e.g. {{memory: 4Gi}}, "
                f"not {config.describe(value)}",
            )
        )
        return ()
    out: list[Maximum] = []
    for key, written in value.items():
        name = str(key)
        item_path = config.child(path, name)
        reason = resource_problem(name)
        if reason is not None:
            problems.append(registry.Problem(item_path, reason))
            continue
        try:
            amount = quantity.of(written)
        except quantity.QuantityError as error:
            problems.append(
                registry.Problem(
                    item_path, f"{config.describe(written)} is not a quantity: {error.reason}"
                )
            )
            continue
        if amount <= 0:
            problems.append(registry.Problem(item_path, "must be greater than zero"))
            continue
        text = written if isinstance(written, str) else str(written)
        out.append(
            Maximum(
                name=name, text=text, numerator=amount.numerator, denominator=amount.denominator
            )
        )
    return tuple(out)


def parse(value: object, path: str) -> Params:
    """Validate ``spec.rules.resources``."""
    problems: config.Problems = []
    spec = config.mapping(value, path=path, allowed=_FIELDS, problems=problems)
    require_limits: tuple[str, ...] = ()
    require_requests: tuple[str, ...] = ()
    max_limits: tuple[Maximum, ...] = ()
    if spec is not None:
        if not any(key in spec for key in _FIELDS):
            problems.append(
                registry.Problem(path, "set requireLimits, requireRequests or maxLimits")
            )
        if "requireLimits" in spec:
            require_limits = _names(
                spec["requireLimits"], f"{path}.requireLimits", problems=problems
            )
        if "requireRequests" in spec:
            require_requests = _names(
                spec["requireRequests"], f"{path}.requireRequests", problems=problems
            )
        if "maxLimits" in spec:
            max_limits = _maximums(spec["maxLimits"], f"{path}.maxLimits", problems=problems)
    config.raise_if_any(problems)
    return Params(
        require_limits=require_limits, require_requests=require_requests, max_limits=max_limits
    )


_VALID: Final = 0
_INVALID: Final = 1
_ABOVE: Final = 2
_MISSING: Final = 3


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _verdict(value: str | int | float, bound: tuple[int, int]) -> int:
    """``_VALID``, ``_INVALID`` or ``_ABOVE`` the maximum ``bound`` (``(0, 1)``: none)."""
    try:
        amount = quantity.of(value)
    except quantity.QuantityError:
        return _INVALID
    numerator, denominator = bound
    if numerator and amount.numerator * denominator > numerator * amount.denominator:
        return _ABOVE
    return _VALID


def _judge(value: Any, bound: tuple[int, int]) -> int:
    if type(value) is str or isinstance(value, int | float):
        return _verdict(value, bound)
    return _INVALID


def _invalid_reason(value: Any) -> str:
    try:
        quantity.of(value)
    except quantity.QuantityError as error:
        return f"{config.describe(value)} is not a valid quantity: {error.reason}"
    return f"{config.describe(value)} is not a valid quantity"  # pragma: no cover


def _finding(
    container: podview.Container, *, section: str, name: str, message: str, fix: str
) -> findings.Finding:
    return container.finding_at(
        ID,
        config.child(container.field("resources", section), name),
        message=f"{container.label} {message}",
        fix=fix,
    )


def _limit_finding(
    container: podview.Container, *, limit: LimitCheck, value: Any, verdict: int
) -> findings.Finding:
    name = limit.name
    if verdict == _INVALID:
        message = f"sets a {name} limit that is not valid: {_invalid_reason(value)}"
        fix = f"Set resources.limits.{name} to a quantity such as 500m or 1Gi."
    elif verdict == _ABOVE:
        message = f"sets a {name} limit of {value}, above the policy's maximum of {limit.maximum}"
        fix = f"Lower resources.limits.{name} to at most {limit.maximum}."
    else:  # _MISSING
        message = f"sets no {name} limit"
        fix = f"Set resources.limits.{name} on the container."
    return _finding(container, section="limits", name=name, message=message, fix=fix)


def _request_finding(
    container: podview.Container, *, params: Params, name: str, limit: Any
) -> findings.Finding | None:
    """The finding for a required request that is unset or not valid (``limit``: its limit)."""
    if limit is None:
        return _finding(
            container,
            section="requests",
            name=name,
            message=f"sets no {name} request (and no {name} limit to default it)",
            fix=f"Set resources.requests.{name} on the container.",
        )
    if any(check.name == name for check in params.limits) or _judge(limit, _NO_BOUND) == _VALID:
        return None  # the limit stands in for the request and is judged (or valid)
    return _finding(
        container,
        section="limits",
        name=name,
        message=f"sets a {name} limit that is not valid: {_invalid_reason(limit)}",
        fix=f"Set resources.limits.{name} to a quantity such as 500m or 1Gi.",
    )


def check(params: Params, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for missing, invalid and too large limits and requests."""
    out: list[findings.Finding] = []
    limit_checks = params.limits
    require_requests = params.require_requests
    for container in pod.containers:
        if container.kind == "ephemeralContainers":
            continue
        resources = container.spec.get("resources")
        if type(resources) is not dict:
            resources = podview.mapping(resources, container, "resources")
        limits = resources.get("limits")
        if type(limits) is not dict:
            limits = podview.mapping(limits, container, "resources", "limits")
        for limit in limit_checks:
            value = limits.get(limit.name)
            if value is None:
                if limit.required:
                    out.append(_limit_finding(container, limit=limit, value=None, verdict=_MISSING))
                continue
            if type(value) is str:
                verdict = _verdict(value, limit.bound)
            else:
                verdict = _judge(value, limit.bound)
            if verdict != _VALID:
                out.append(_limit_finding(container, limit=limit, value=value, verdict=verdict))
        if not require_requests:
            continue
        requests = resources.get("requests")
        if type(requests) is not dict:
            requests = podview.mapping(requests, container, "resources", "requests")
        for name in require_requests:
            value = requests.get(name)
            if value is None:
                finding = _request_finding(
                    container, params=params, name=name, limit=limits.get(name)
                )
                if finding is not None:
                    out.append(finding)
            elif (
                _verdict(value, _NO_BOUND) if type(value) is str else _judge(value, _NO_BOUND)
            ) != _VALID:
                out.append(
                    _finding(
                        container,
                        section="requests",
                        name=name,
                        message=(
                            f"sets a {name} request that is not valid: {_invalid_reason(value)}"
                        ),
                        fix=f"Set resources.requests.{name} to a quantity such as 500m or 1Gi.",
                    )
                )
    return out


RULE: Final[registry.Rule[Params]] = registry.Rule(
    id=ID,
    title="Containers set resource limits and requests within bounds",
    fields=(
        "spec.{initContainers,containers}[*].resources.limits",
        "spec.{initContainers,containers}[*].resources.requests",
    ),
    fix=_FIX,
    severity="low",
    schema=openapi.obj(
        "Resource names: cpu, memory, ephemeral-storage, hugepages-<size>.",
        {
            "requireLimits": openapi.names(
                "Resources every container must set a limit for.", pattern=_RESOURCE_NAME
            ),
            "requireRequests": openapi.names(
                "Resources every container must request (a limit implies the request).",
                pattern=_RESOURCE_NAME,
            ),
            "maxLimits": {
                "type": "object",
                "description": "The largest limit allowed per resource, as a Kubernetes "
                "quantity above zero (memory: 4Gi, cpu: '2').",
                "additionalProperties": {
                    "x-kubernetes-int-or-string": True,
                    "pattern": _QUANTITY,
                    "description": "A quantity such as 4Gi, 500m or 2 (quote fractions: '0.5').",
                },
                "maxProperties": openapi.MAX_PROPERTIES,
                "x-kubernetes-validations": [
                    openapi.cel(
                        f"self.all(name, name.matches(r'{_RESOURCE_NAME}'))",
                        "every key must be cpu, memory, ephemeral-storage or hugepages-<size>",
                    )
                ],
            },
        },
        minProperties=1,
    ),
    parse=parse,
    check=check,
)
