"""Pod Security checks on host access: namespaces, hostPath volumes, host ports, probe hosts.

Pure, no I/O. Fields and allowed values:

* ``hostNamespaces`` (baseline, v1.0): ``spec.hostNetwork``, ``spec.hostPID``,
  ``spec.hostIPC`` unset or ``false``.
* ``hostPathVolumes`` (baseline, v1.0): ``spec.volumes[*].hostPath`` unset.
* ``hostPorts`` (baseline, v1.0): every container's ``ports[*].hostPort`` unset or ``0``.
* ``hostProbesAndHostLifecycle`` (baseline, v1.34): every container's liveness,
  readiness and startup probe and its postStart and preStop handler: the
  ``httpGet.host`` and ``tcpSocket.host`` unset or ``""``.
"""

from __future__ import annotations

from typing import Final

from webhook.profiles import catalog
from webhook.rules import findings, podview

_NAMESPACE_FIELDS: Final = ("hostNetwork", "hostPID", "hostIPC")


def _host_namespaces(pod: podview.PodView) -> list[findings.Finding]:
    spec = pod.spec
    return [
        pod.finding(
            "hostNamespaces",
            key,
            message=f"host namespaces ({key}=true)",
            fix=f"remove {key} from the pod spec or set it to false",
        )
        for key in _NAMESPACE_FIELDS
        if spec.get(key) is True
    ]


def _host_path_volumes(pod: podview.PodView) -> list[findings.Finding]:
    volumes = pod.spec.get("volumes")
    if not volumes:
        return []
    out: list[findings.Finding] = []
    for index, volume in enumerate(volumes):
        if isinstance(volume, dict) and volume.get("hostPath") is not None:
            out.append(
                pod.finding(
                    "hostPathVolumes",
                    f"volumes[{index}]",
                    "hostPath",
                    message=f'hostPath volumes (volume "{volume.get("name")}")',
                    fix="replace the hostPath volume with a configMap, secret, emptyDir "
                    "or persistentVolumeClaim volume",
                )
            )
    return out


def _host_ports(pod: podview.PodView) -> list[findings.Finding]:
    out: list[findings.Finding] = []
    for container in pod.containers:
        ports = container.spec.get("ports")
        if not ports:
            continue
        for index, port in enumerate(ports):
            if not isinstance(port, dict):
                continue
            host_port = port.get("hostPort")
            if host_port is not None and host_port != 0:
                out.append(
                    container.finding(
                        "hostPorts",
                        f"ports[{index}]",
                        "hostPort",
                        message=f'hostPort (container "{container.name}" uses hostPort '
                        f"{host_port})",
                        fix="remove hostPort (or set it to 0) and expose the port through "
                        "a Service",
                    )
                )
    return out


_PROBES: Final = ("livenessProbe", "readinessProbe", "startupProbe")
_HANDLERS: Final = ("postStart", "preStop")
_HOST_ACTIONS: Final = ("httpGet", "tcpSocket")


def _host_of(handler: object) -> list[tuple[str, str]]:
    """The (action, host) pairs of a probe or lifecycle handler that name a host."""
    hosts: list[tuple[str, str]] = []
    if type(handler) is dict:
        for action in _HOST_ACTIONS:
            target = handler.get(action)
            if type(target) is dict and target.get("host"):
                hosts.append((action, str(target["host"])))
    return hosts


def _names_a_host(handler: object) -> bool:
    """Whether a probe or lifecycle handler names a host at all (the common answer: no)."""
    if type(handler) is not dict:
        return False
    http = handler.get("httpGet")
    if type(http) is dict and http.get("host"):
        return True
    tcp = handler.get("tcpSocket")
    return type(tcp) is dict and bool(tcp.get("host"))


def _probe_finding(
    container: podview.Container, parts: tuple[str, ...], host: str
) -> findings.Finding:
    field = ".".join(parts)
    return container.finding(
        "hostProbesAndHostLifecycle",
        *parts,
        message=f'probe or lifecycle host (container "{container.name}" sets {field}={host!r})',
        fix=f"remove {field}; probes and lifecycle handlers must target the pod itself",
    )


def _host_probes(pod: podview.PodView) -> list[findings.Finding]:
    out: list[findings.Finding] = []
    for container in pod.containers:
        spec = container.spec
        for probe in _PROBES:
            handler = spec.get(probe)
            if handler and _names_a_host(handler):
                for action, host in _host_of(handler):
                    out.append(_probe_finding(container, (probe, action, "host"), host))
        lifecycle = spec.get("lifecycle")
        if lifecycle and type(lifecycle) is dict:
            for name in _HANDLERS:
                handler = lifecycle.get(name)
                if handler and _names_a_host(handler):
                    for action, host in _host_of(handler):
                        out.append(
                            _probe_finding(container, ("lifecycle", name, action, "host"), host)
                        )
    return out


CHECKS: Final[tuple[catalog.Check, ...]] = (
    catalog.Check(
        id="hostNamespaces",
        level="baseline",
        reason="host namespaces",
        variants=(catalog.Variant(0, _host_namespaces),),
    ),
    catalog.Check(
        id="hostPathVolumes",
        level="baseline",
        reason="hostPath volumes",
        variants=(catalog.Variant(0, _host_path_volumes),),
    ),
    catalog.Check(
        id="hostPorts",
        level="baseline",
        reason="hostPort",
        variants=(catalog.Variant(0, _host_ports),),
    ),
    catalog.Check(
        id="hostProbesAndHostLifecycle",
        level="baseline",
        reason="probe or lifecycle host",
        variants=(catalog.Variant(34, _host_probes),),
    ),
)
