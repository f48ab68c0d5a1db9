"""A small, independent judge written from the rule docs, to check Bulkhead against.

Owns: the findings (check id, field path) that ``runAsNonRoot``,
``privileged``, ``allowPrivilegeEscalation``, ``capabilities``,
``hostPorts`` and ``images`` (with ``exclude[].images``) must report on a pod
spec, per the rule modules' docstrings and docs/policies.md. It imports
nothing from ``webhook``: image references arrive already normalised by
whoever built them (``Image``), patterns are matched with ``fnmatch`` one
path segment at a time, and every path is spelled here. Pure, no I/O.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

#: Where each kind carries its pod template's spec (README: "every template kind").
SPEC_PATHS: Mapping[str, str] = {
    "Pod": "spec",
    "Deployment": "spec.template.spec",
    "ReplicaSet": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "Job": "spec.template.spec",
    "ReplicationController": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
    "PodTemplate": "template.spec",
}
KINDS_OF_CONTAINERS = ("initContainers", "containers", "ephemeralContainers")

Finding = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class Image:
    """An image reference as written, and what it normalises to (``None``: invalid)."""

    written: str
    normalized: str | None
    registry: str = ""
    repository: str = ""
    tag: str | None = None
    digest: str | None = None


@dataclasses.dataclass(frozen=True)
class Policy:
    """The rule values of one generated policy, as the oracle reads them."""

    allowed_registries: tuple[str, ...] | None
    require_digest: bool
    forbid_latest: bool
    require_drop: frozenset[str]
    allowed_add: frozenset[str] | None
    host_ports: tuple[int, ...] | None
    allow_host_network: bool
    exempt_images: tuple[str, ...] | None

    def document(self) -> dict[str, Any]:
        images: dict[str, Any] = {
            "requireDigest": self.require_digest,
            "forbidLatest": self.forbid_latest,
        }
        if self.allowed_registries is not None:
            images["allowedRegistries"] = list(self.allowed_registries)
        capabilities: dict[str, Any] = {"requireDrop": sorted(self.require_drop)}
        if self.allowed_add is not None:
            capabilities["allowedAdd"] = sorted(self.allowed_add)
        host_ports: object = False
        if self.host_ports is not None:
            host_ports = {"allowed": list(self.host_ports)}
            if self.allow_host_network:
                host_ports["allowHostNetwork"] = True
        spec: dict[str, Any] = {
            "action": "Deny",
            "rules": {
                "runAsNonRoot": True,
                "privileged": False,
                "allowPrivilegeEscalation": False,
                "capabilities": capabilities,
                "hostPorts": host_ports,
                "images": images,
            },
        }
        if self.exempt_images is not None:
            spec["exclude"] = [{"images": list(self.exempt_images)}]
        return {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "differential"},
            "spec": spec,
        }


# -- images -----------------------------------------------------------------------------


def _admitted(prefix: str, image: Image) -> bool:
    """docs: a prefix matches on '/' boundaries; a trailing '/' means strictly below."""
    below = prefix.endswith("/")
    registry, _, path = prefix.rstrip("/").partition("/")
    if registry.lower() != image.registry:
        return False
    if not path:
        return True
    if image.repository == path:
        return not below
    return image.repository.startswith(path + "/")


def _pattern_normalized(pattern: str) -> str:
    """docs/policies.md: an image pattern is normalised like a reference."""
    first, slash, rest = pattern.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        head = "docker.io" if first.lower() == "index.docker.io" else first.lower()
        path = rest
    else:
        head = "docker.io"
        path = pattern if "/" in pattern else "library/" + pattern
    last = path.split("/")[-1]
    if ":" not in last and "@" not in last and "*" not in last:
        path += ":latest"
    return f"{head}/{path}"


def exempted(
    patterns: Sequence[str] | None, image: str | None, images: Mapping[str, Image]
) -> bool:
    """Whether an ``exclude[].images`` entry covers a finding about ``image``."""
    if patterns is None or image is None:
        return False
    known = images.get(image)
    if known is None or known.normalized is None:
        return False
    parts = known.normalized.split("/")
    for pattern in patterns:
        wanted = _pattern_normalized(pattern).split("/")
        if len(wanted) == len(parts) and all(
            fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True)
        ):
            return True
    return False


def _image_finding(policy: Policy, image: Image) -> bool:
    if image.normalized is None:
        return True
    if policy.allowed_registries is not None and not any(
        _admitted(prefix, image) for prefix in policy.allowed_registries
    ):
        return True
    if policy.require_digest and image.digest is None:
        return True
    latest = image.digest is None and image.tag in (None, "latest")
    return policy.forbid_latest and latest


# -- the judge --------------------------------------------------------------------------


def _drops(names: Sequence[Any]) -> set[str]:
    """capabilities docs: ALL in any case; bare names in any case; CAP_x drops nothing."""
    out = set()
    for name in names:
        if isinstance(name, str) and not name.upper().startswith("CAP_"):
            out.add(name.upper())
    return out


def judge(
    policy: Policy, kind: str, spec: Mapping[str, Any], images: Mapping[str, Image]
) -> list[Finding]:
    """Every (check, path) the policy's rules report on ``spec``, exclusions applied."""
    base = SPEC_PATHS[kind]
    found: list[tuple[str, str, str | None]] = []  # check, path, image (None: pod level)
    windows = (spec.get("os") or {}).get("name") == "windows"
    pod_sc = spec.get("securityContext") or {}
    pod_non_root = pod_sc.get("runAsNonRoot")
    if pod_non_root is False:
        found.append(("runAsNonRoot", f"{base}.securityContext.runAsNonRoot", None))
    if pod_sc.get("runAsUser") == 0:
        found.append(("runAsNonRoot", f"{base}.securityContext.runAsUser", None))
    network_allowed = policy.host_ports is not None and policy.allow_host_network
    if spec.get("hostNetwork") is True and not network_allowed:
        found.append(("hostPorts", f"{base}.hostNetwork", None))
    allowed_ports = set(policy.host_ports or ())
    for group in KINDS_OF_CONTAINERS:
        for index, container in enumerate(spec.get(group) or []):
            at = f"{base}.{group}[{index}]"
            image = container["image"]
            sc = container.get("securityContext") or {}

            def report(check: str, field: str, at: str = at, image: str = image) -> None:
                found.append((check, f"{at}.{field}", image))

            own = sc.get("runAsNonRoot")
            if (own is None and pod_non_root is None) or own is False:
                report("runAsNonRoot", "securityContext.runAsNonRoot")
            if sc.get("runAsUser") == 0:
                report("runAsNonRoot", "securityContext.runAsUser")
            if sc.get("privileged") is True:
                report("privileged", "securityContext.privileged")
            if not windows and sc.get("allowPrivilegeEscalation") is not False:
                report("allowPrivilegeEscalation", "securityContext.allowPrivilegeEscalation")
            if not windows:
                caps = sc.get("capabilities") or {}
                dropped = _drops(caps.get("drop") or [])
                if policy.require_drop and "ALL" not in dropped and policy.require_drop - dropped:
                    report("capabilities", "securityContext.capabilities.drop")
                if policy.allowed_add is not None and "ALL" not in policy.allowed_add:
                    for i, name in enumerate(caps.get("add") or []):
                        if name.upper().removeprefix("CAP_") not in policy.allowed_add:
                            report("capabilities", f"securityContext.capabilities.add[{i}]")
            for i, port in enumerate(container.get("ports") or []):
                host_port = port.get("hostPort")
                if host_port not in (None, 0) and host_port not in allowed_ports:
                    report("hostPorts", f"ports[{i}].hostPort")
            if _image_finding(policy, images[image]):
                report("images", "image")
    for index, volume in enumerate(spec.get("volumes") or []):
        if "image" in volume:
            reference = volume["image"]["reference"]
            if _image_finding(policy, images[reference]):
                found.append(("images", f"{base}.volumes[{index}].image.reference", reference))
    return sorted(
        (check, path)
        for check, path, image in found
        if not exempted(policy.exempt_images, image, images)
    )
