"""The ``hostPorts`` rule: host ports only from an allowed list. Pure, no I/O.

Policy value (``spec.rules.hostPorts``):

    hostPorts: false             # no container port may set a hostPort (true: not checked)
    hostPorts:
      allowed: [80, 443]         # only these host ports; [] forbids them all
      allowHostNetwork: true     # host-network pods allowed (left out: they are findings)

Fields read: ``ports[i].hostPort`` of containers of all three kinds; a
non-zero value must be in ``allowed`` (ports 1-65535). ``hostNetwork`` pods
get their ``hostPort`` defaulted by the apiserver, so they are judged too.
And ``spec.hostNetwork: true`` is itself a finding at ``spec.hostNetwork``
unless the policy says ``allowHostNetwork: true``: a host-network pod can
bind any host port without declaring one, so a port allow-list means
nothing for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Final

from webhook.rules import config, findings, openapi, podview, registry

ID: Final = "hostPorts"
#: The fields of the object form of ``hostPorts``.
PORT_FIELDS: Final = ("allowed", "allowHostNetwork")
_MAX_PORT: Final = 65535
_FIX: Final = (
    "Remove hostPort and expose the container through a Service, or use an allowed host port."
)


@dataclasses.dataclass(frozen=True, slots=True)
class Params:
    """Host ports containers may use (empty: none) and whether host networking is allowed."""

    allowed: frozenset[int]
    allow_host_network: bool = False


def parse(value: object, path: str) -> Params | None:
    """Validate ``spec.rules.hostPorts``: ``false``, ``true`` (off) or an object.

    The object: ``allowed`` (required) and ``allowHostNetwork`` (default false).
    """
    if value is False:
        return Params(allowed=frozenset())
    if value is True:
        return None
    if not isinstance(value, Mapping):
        raise registry.ConfigError.at(
            path,
            "must be false (no host ports), true (not checked) or an object with allowed, "
            f"not {config.describe(value)}",
        )
    problems: config.Problems = []
    spec = config.mapping(value, path=path, allowed=PORT_FIELDS, problems=problems)
    allowed: set[int] = set()
    allow_host_network = False
    if spec is not None:
        if "allowHostNetwork" in spec:
            allow_host_network = config.boolean(
                spec["allowHostNetwork"], f"{path}.allowHostNetwork", problems=problems
            )
        ports = spec.get("allowed")
        if not isinstance(ports, list):
            problems.append(
                registry.Problem(
                    f"{path}.allowed",
                    "must be a list of port numbers ([] forbids host ports), "
                    f"not {config.describe(ports)}",
                )
            )
        else:
            for index, port in enumerate(ports):
                if isinstance(port, int) and not isinstance(port, bool) and 0 < port <= _MAX_PORT:
                    allowed.add(port)
                else:
                    problems.append(
                        registry.Problem(
                            f"{path}.allowed[{index}]",
                            f"must be a port number from 1 to 65535, not {config.describe(port)}",
                        )
                    )
    config.raise_if_any(problems)
    return Params(allowed=frozenset(allowed), allow_host_network=allow_host_network)


def check(params: Params, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for host networking (unless allowed) and host ports that are not allowed."""
    allowed = params.allowed
    out: list[findings.Finding] = []
    if pod.spec.get("hostNetwork") is True and not params.allow_host_network:
        out.append(
            pod.finding(
                ID,
                "hostNetwork",
                message=(
                    "the pod uses the host's network (hostNetwork: true), so it can bind any "
                    "host port; the policy does not allow host networking"
                ),
                fix="Remove hostNetwork from the pod spec, or set hostPorts.allowHostNetwork: "
                "true in the policy if this pod must use the host's network.",
            )
        )
    for container in pod.containers:
        ports = container.spec.get("ports")
        if not ports:
            continue
        if type(ports) is not list:
            ports = podview.objects(ports, container, "ports")
        for index, entry in enumerate(ports):
            port = (
                entry
                if type(entry) is dict
                else podview.mapping(entry, container, f"ports[{index}]")
            )
            host_port = port.get("hostPort")
            if host_port is None or host_port == 0:
                continue
            if isinstance(host_port, int) and host_port in allowed:
                continue
            allowed_text = ", ".join(map(str, sorted(allowed))) if allowed else "none"
            out.append(
                container.finding(
                    ID,
                    f"ports[{index}]",
                    "hostPort",
                    message=(
                        f"{container.label} binds host port {host_port}; the policy allows "
                        f"{allowed_text}"
                    ),
                    fix=_FIX,
                )
            )
    return out


RULE: Final[registry.Rule[Params]] = registry.Rule(
    id=ID,
    title="Host ports only from an allowed list",
    fields=(
        "spec.hostNetwork",
        "spec.{initContainers,containers,ephemeralContainers}[*].ports[*].hostPort",
    ),
    fix=_FIX,
    severity="medium",
    schema=openapi.either(
        "false: no container port may set a hostPort; true: not checked; {allowed: [80, 443]}: "
        "only these host ports (1-65535; [] forbids them all). A hostNetwork pod is refused "
        "unless the object form says allowHostNetwork: true. Either a boolean or an object, so "
        "the schema leaves it open and the operator reports a bad value in status."
    ),
    parse=parse,
    check=check,
)
