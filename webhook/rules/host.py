"""The ``hostNamespaces``, ``hostPath`` and ``hostPorts`` rules. Pure, no I/O.

They keep pods off the host: its namespaces, its filesystem and its ports.

Policy values:

    hostNamespaces: false        # enforce; true: not checked
    hostPath:
      allowedPrefixes: [/var/log] # hostPath volumes only below these; [] forbids them
    hostPath: false              # no hostPath volumes (true: not checked)
    hostPorts: false             # no container port may set a hostPort (true: not checked)
    hostPorts:
      allowed: [80, 443]         # only these host ports; [] forbids them all
      allowHostNetwork: true     # host-network pods allowed (left out: they are findings)

Fields read:

- ``hostNamespaces``: ``spec.hostNetwork``, ``spec.hostPID`` and
  ``spec.hostIPC`` must be unset or ``false``; one finding per field set.
- ``hostPath``: ``spec.volumes[i].hostPath.path``. A path is allowed when it
  lies under a prefix on path-segment boundaries after removing empty and
  ``.`` segments: ``/var/log`` admits ``/var/log`` and ``/var/log/app``, never
  ``/var/logs``. A path with a ``..`` segment is always a finding (the
  apiserver refuses it, and through a symlink it may leave the prefix), as is
  a relative or empty path. With no prefixes, every hostPath volume is a
  finding at ``spec.volumes[i].hostPath``. Prefixes in the policy must be
  absolute and free of ``..``; ``/`` admits every absolute path.
- ``hostPorts``: ``ports[i].hostPort`` of containers of all three kinds; a
  non-zero value must be in ``allowed`` (ports 1-65535). ``hostNetwork`` pods
  get their ``hostPort`` defaulted by the apiserver, so they are judged too.
  And ``spec.hostNetwork: true`` is itself a finding at ``spec.hostNetwork``
  unless the policy says ``allowHostNetwork: true``: a host-network pod can
  bind any host port without declaring one, so a port allow-list means
  nothing for it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, Final

from webhook.rules import config, findings, podview, registry

NAMESPACES: Final = "hostNamespaces"
PATH: Final = "hostPath"
PORTS: Final = "hostPorts"
#: The fields of the object form of ``hostPorts``.
PORT_FIELDS: Final = ("allowed", "allowHostNetwork")

_NAMESPACE_FIELDS: Final = (
    ("hostNetwork", "the host's network"),
    ("hostPID", "the host's process IDs"),
    ("hostIPC", "the host's IPC"),
)
_MAX_PORT: Final = 65535
_CACHE_SIZE: Final = 1024
_FIX_NAMESPACES: Final = "Remove hostNetwork, hostPID and hostIPC from the pod spec."
_FIX_PATH: Final = (
    "Use an emptyDir, configMap, secret or persistentVolumeClaim volume instead of hostPath, "
    "or a host path under an allowed prefix."
)
_FIX_NO_PATH: Final = (
    "Use an emptyDir, configMap, secret or persistentVolumeClaim volume instead of hostPath."
)
_FIX_PORTS: Final = (
    "Remove hostPort and expose the container through a Service, or use an allowed host port."
)


# -- hostNamespaces --------------------------------------------------------------------


def check_namespaces(params: bool, pod: podview.PodView) -> list[findings.Finding]:
    """One finding per host namespace the pod shares."""
    spec = pod.spec
    out: list[findings.Finding] = []
    for key, what in _NAMESPACE_FIELDS:
        if spec.get(key) is True:
            out.append(
                pod.finding(
                    NAMESPACES,
                    key,
                    message=f"the pod shares {what} ({key}: true)",
                    fix=f"Remove {key} from the pod spec (or set it to false).",
                )
            )
    return out


# -- hostPath --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class PathParams:
    """Allowed host path prefixes, normalised (``/var/log``); empty: no hostPath volumes."""

    prefixes: tuple[str, ...]
    _below: tuple[str, ...] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        below = tuple(prefix.rstrip("/") + "/" for prefix in self.prefixes)
        object.__setattr__(self, "_below", below)

    def admits(self, normalized: str) -> bool:
        """Whether a normalised absolute path is a prefix or lies below one."""
        return normalized in self.prefixes or normalized.startswith(self._below)

    def text(self) -> str:
        """The prefixes for messages."""
        return ", ".join(self.prefixes)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def normalize(path: str) -> str | None:
    """An absolute path without empty and ``.`` segments: ``//var/./log/`` -> ``/var/log``.

    ``None`` when the path is not absolute or has a ``..`` segment.
    """
    if not path.startswith("/"):
        return None
    parts = [part for part in path.split("/") if part and part != "."]
    if ".." in parts:
        return None
    return "/" + "/".join(parts)


def parse_path(value: object, path: str) -> PathParams | None:
    """Validate ``spec.rules.hostPath``: ``false``, ``true`` (off) or ``{allowedPrefixes}``."""
    if value is False:
        return PathParams(prefixes=())
    if value is True:
        return None
    problems: config.Problems = []
    if not isinstance(value, Mapping):
        raise registry.ConfigError.at(
            path,
            "must be false (no hostPath volumes), true (not checked) or an object with "
            f"allowedPrefixes, not {config.describe(value)}",
        )
    spec = config.fields(value, path, allowed=("allowedPrefixes",), problems=problems)
    prefixes: list[str] = []
    if spec is not None:
        if "allowedPrefixes" not in spec:
            problems.append(
                registry.Problem(
                    f"{path}.allowedPrefixes",
                    "must be set: a list of host path prefixes ([] forbids hostPath volumes)",
                )
            )
        else:
            items = config.strings(
                spec["allowedPrefixes"], f"{path}.allowedPrefixes", problems=problems
            )
            for item_path, text in items:
                normalized = normalize(text)
                if normalized is None:
                    problems.append(
                        registry.Problem(
                            item_path,
                            f'"{text}" must be an absolute path without ".." segments',
                        )
                    )
                elif normalized not in prefixes:
                    prefixes.append(normalized)
    config.raise_if_any(problems)
    return PathParams(prefixes=tuple(prefixes))


def _path_problem(host_path: Any, params: PathParams) -> str | None:
    """What is wrong with a hostPath volume's path, or ``None`` when it is allowed."""
    if not isinstance(host_path, str) or not host_path:
        return "has no host path"
    normalized = normalize(host_path)
    if normalized is not None:
        return None if params.admits(normalized) else f'mounts the host path "{host_path}"'
    if not host_path.startswith("/"):
        return f'uses the relative host path "{host_path}"'
    return f'uses the host path "{host_path}", which contains ".."'


def check_path(params: PathParams, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for hostPath volumes outside the allowed prefixes."""
    volumes = pod.spec.get("volumes")
    if not volumes:
        return []
    out: list[findings.Finding] = []
    for index, volume in enumerate(podview.objects(volumes, pod, "volumes")):
        source = volume.get("hostPath")
        if source is None:
            continue
        if params.prefixes:
            if type(source) is not dict:
                source = podview.mapping(source, pod, f"volumes[{index}]", "hostPath")
            problem = _path_problem(source.get("path"), params)
            if problem is None:
                continue
            field: tuple[str, ...] = ("hostPath", "path")
            message = f"{problem}; the policy allows only paths under {params.text()}"
            fix = _FIX_PATH
        else:
            field = ("hostPath",)
            message = "is a hostPath volume; the policy allows none"
            fix = _FIX_NO_PATH
        name = volume.get("name")
        out.append(
            pod.finding(
                PATH,
                f"volumes[{index}]",
                *field,
                message=f'volume "{name if isinstance(name, str) else ""}" {message}',
                fix=fix,
            )
        )
    return out


# -- hostPorts -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class PortParams:
    """Host ports containers may use (empty: none) and whether host networking is allowed."""

    allowed: frozenset[int]
    allow_host_network: bool = False


def parse_ports(value: object, path: str) -> PortParams | None:
    """Validate ``spec.rules.hostPorts``: ``false``, ``true`` (off) or an object.

    The object: ``allowed`` (required) and ``allowHostNetwork`` (default false).
    """
    if value is False:
        return PortParams(allowed=frozenset())
    if value is True:
        return None
    if not isinstance(value, Mapping):
        raise registry.ConfigError.at(
            path,
            "must be false (no host ports), true (not checked) or an object with allowed, "
            f"not {config.describe(value)}",
        )
    problems: config.Problems = []
    spec = config.fields(value, path, allowed=PORT_FIELDS, problems=problems)
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
    return PortParams(allowed=frozenset(allowed), allow_host_network=allow_host_network)


def check_ports(params: PortParams, pod: podview.PodView) -> list[findings.Finding]:
    """Findings for host networking (unless allowed) and host ports that are not allowed."""
    allowed = params.allowed
    out: list[findings.Finding] = []
    if pod.spec.get("hostNetwork") is True and not params.allow_host_network:
        out.append(
            pod.finding(
                PORTS,
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
                    PORTS,
                    f"ports[{index}]",
                    "hostPort",
                    message=(
                        f"{container.label} binds host port {host_port}; the policy allows "
                        f"{allowed_text}"
                    ),
                    fix=_FIX_PORTS,
                )
            )
    return out


NAMESPACES_RULE: Final[registry.Rule[bool]] = registry.Rule(
    id=NAMESPACES,
    title="No shared host namespaces",
    fields=("spec.hostNetwork", "spec.hostPID", "spec.hostIPC"),
    fix=_FIX_NAMESPACES,
    severity="high",
    parse=config.switch(on=False, enforces="no pod may share the host's namespaces"),
    check=check_namespaces,
)

PATH_RULE: Final[registry.Rule[PathParams]] = registry.Rule(
    id=PATH,
    title="hostPath volumes only under allowed prefixes",
    fields=("spec.volumes[*].hostPath.path",),
    fix=_FIX_PATH,
    severity="high",
    parse=parse_path,
    check=check_path,
)

PORTS_RULE: Final[registry.Rule[PortParams]] = registry.Rule(
    id=PORTS,
    title="Host ports only from an allowed list",
    fields=(
        "spec.hostNetwork",
        "spec.{initContainers,containers,ephemeralContainers}[*].ports[*].hostPort",
    ),
    fix=_FIX_PORTS,
    severity="medium",
    parse=parse_ports,
    check=check_ports,
)
