"""Hypothesis strategies: near-compliant pod specs in every template kind, and policies.

Owns: image references built from parts, each with the normalised form the
reference grammar gives it (worked out here, from the parts, not by
Bulkhead's parser), odd spellings included (upper-case registries,
``index.docker.io``, implied ``library/`` and ``:latest``, look-alike
registries, tag and digest, invalid references); capability names in every
spelling the runtimes see; pod specs whose every field is usually the
compliant value and sometimes not, with all three container kinds, pod-level
values containers inherit, host ports and image volumes; and policies over
the rules the oracle knows. Pure, no I/O.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import strategies as st

from tests.property import oracle

SHA: str = "sha256:" + "0123456789abcdef" * 4

#: (registry as written or None for Docker Hub implied, the registry it normalises to)
_REGISTRIES: list[tuple[str | None, str]] = [
    (None, "docker.io"),
    ("docker.io", "docker.io"),
    ("index.docker.io", "docker.io"),
    ("DOCKER.IO", "docker.io"),
    ("ghcr.io", "ghcr.io"),
    ("GHCR.io", "ghcr.io"),
    ("ghcr.io.evil.com", "ghcr.io.evil.com"),
    ("nginx.evil.example.com", "nginx.evil.example.com"),
    ("localhost", "localhost"),
    ("localhost:5000", "localhost:5000"),
    ("registry.k8s.io", "registry.k8s.io"),
]
_PATHS: list[tuple[str, ...]] = [
    ("nginx",),
    ("nginx-unprivileged",),
    ("library", "nginx"),
    ("acme",),
    ("acme", "app"),
    ("acme", "team", "app"),
    ("acme-evil", "app"),
    ("acmex", "app"),
    ("pause",),
]
_TAGS: list[str | None] = [None, "latest", "Latest", "1.27", "v1.2.3"]
_DIGESTS: list[str | None] = [None, SHA]
_SECURITY_KEYS = ("runAsNonRoot", "runAsUser", "privileged", "allowPrivilegeEscalation")
_INVALID: list[str] = [
    "",
    "Acme/App:1",
    "ghcr.io/acme//app:1",
    " nginx:1",
    "nginx:bad tag",
    "nginx@sha256:abc",
    "ghcr.io/acme/app@sha256:" + "ABCDEF0123456789" * 4,
    "ghcr.io/acme/app:" + "t" * 129,
]


def _image(registry: tuple[str | None, str], path: tuple[str, ...], tag: str | None,
           digest: str | None) -> oracle.Image:  # fmt: skip
    written_registry, normalized_registry = registry
    written = (
        "/".join(path) if written_registry is None else f"{written_registry}/" + "/".join(path)
    )
    if tag is not None:
        written += f":{tag}"
    if digest is not None:
        written += f"@{digest}"
    repository = "/".join(path)
    if normalized_registry == "docker.io" and len(path) == 1:
        repository = f"library/{repository}"
    normalized = f"{normalized_registry}/{repository}"
    if tag is not None:
        normalized += f":{tag}"
    elif digest is None:
        normalized += ":latest"
    if digest is not None:
        normalized += f"@{digest}"
    return oracle.Image(written, normalized, normalized_registry, repository, tag, digest)


#: One draw per field: every combination is built once, so an example costs few draws.
_COMPLIANT_IMAGE = _image(("ghcr.io", "ghcr.io"), ("acme", "app"), "1.0", SHA)
images = st.one_of(
    st.just(_COMPLIANT_IMAGE),
    st.sampled_from(
        [
            _image(registry, path, tag, digest)
            for registry, path, tag, digest in itertools.product(
                _REGISTRIES, _PATHS, _TAGS, _DIGESTS
            )
        ]
        + [oracle.Image(text, None) for text in _INVALID]
    ),
)

#: Capability names as a pod may spell them: bare, any case, CAP_-prefixed, ALL variants.
CAPABILITY_NAMES = ["ALL", "all", "All", "CAP_ALL", "cap_all", " ALL", "NET_RAW", "net_raw",
                    "CAP_NET_RAW", "cap_net_raw", "SYS_ADMIN", "CAP_SYS_ADMIN",
                    "NET_BIND_SERVICE", "cap_net_bind_service", "CHOWN", "NOT_A_CAP"]  # fmt: skip
_NAME_LISTS: list[list[str] | None] = [
    None,
    [],
    *([name] for name in CAPABILITY_NAMES),
    *([a, b] for a, b in itertools.combinations(CAPABILITY_NAMES, 2) if "ALL" in a.upper()),
]


def _capabilities(drop: list[str] | None, add: list[str] | None) -> dict[str, Any] | None:
    if drop is None and add is None:
        return None
    return ({} if drop is None else {"drop": drop}) | ({} if add is None else {"add": add})


_CAPABILITIES = st.one_of(
    st.just(_capabilities(["ALL"], None)),
    st.sampled_from(
        [_capabilities(d, a) for d, a in itertools.product(_NAME_LISTS, _NAME_LISTS[:18])]
    ),
)
#: securityContext fields: usually the compliant value (None: left out), sometimes not.
_SECURITY = st.sampled_from(
    [
        {k: v for k, v in zip(_SECURITY_KEYS, values, strict=True) if v is not None}
        for values in itertools.product(
            [None, None, None, True, False],
            [None, None, None, 1000, 0],
            [None, None, None, False, True],
            [False, False, False, True, None],
        )
    ]
)
_PORTS = st.sampled_from([[], [], [], [None], [0], [443], [8080], [443, 8080], [None, 8080]])


@st.composite
def _container(draw: st.DrawFn) -> tuple[dict[str, Any], oracle.Image]:
    """A container without its name, and its image."""
    image = draw(images)
    container: dict[str, Any] = {"image": image.written}
    security = dict(draw(_SECURITY))
    capabilities = draw(_CAPABILITIES)
    if capabilities is not None:
        security["capabilities"] = capabilities
    if security or draw(_BOOLEANS):
        container["securityContext"] = security
    ports = [
        {"containerPort": 8080} | ({} if port is None else {"hostPort": port})
        for port in draw(_PORTS)
    ]
    if ports:
        container["ports"] = ports
    return container, image


_CONTAINER = _container()
_VOLUME = st.one_of(st.none(), images)
_BOOLEANS = st.booleans()
_POD_NON_ROOT = st.sampled_from([True, True, None, False])
_POD_USER = st.sampled_from([None, None, 1000, 0])
_HOST_NETWORK = st.sampled_from([None, None, None, False, True])
_WINDOWS = st.sampled_from([False] * 15 + [True])
_COUNTS = {
    "initContainers": st.integers(0, 1),
    "containers": st.integers(1, 2),
    "ephemeralContainers": st.integers(0, 1),
}
_VOLUME_COUNT = st.integers(0, 2)


@st.composite
def pod_specs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, oracle.Image]]:
    """A pod spec and every image it names, with their normalised forms."""
    used: dict[str, oracle.Image] = {}
    spec: dict[str, Any] = {}
    pod_security: dict[str, Any] = {}
    non_root = draw(_POD_NON_ROOT)
    if non_root is not None:
        pod_security["runAsNonRoot"] = non_root
    user = draw(_POD_USER)
    if user is not None:
        pod_security["runAsUser"] = user
    if pod_security:
        spec["securityContext"] = pod_security
    host_network = draw(_HOST_NETWORK)
    if host_network is not None:
        spec["hostNetwork"] = host_network
    if draw(_WINDOWS):
        spec["os"] = {"name": "windows"}
    for group, count in _COUNTS.items():
        entries = []
        for index in range(draw(count)):
            container, image = draw(_CONTAINER)
            used[image.written] = image
            entries.append({"name": f"{group[0]}{index}", **container})
        if entries:
            spec[group] = entries
    volumes: list[dict[str, Any]] = []
    for index in range(draw(_VOLUME_COUNT)):
        image = draw(_VOLUME)
        if image is None:
            volumes.append({"name": f"v{index}", "emptyDir": {}})
        else:
            used[image.written] = image
            volumes.append({"name": f"v{index}", "image": {"reference": image.written}})
    if volumes:
        spec["volumes"] = volumes
    return spec, used


policies = st.builds(
    oracle.Policy,
    allowed_registries=st.sampled_from(
        [
            None,
            ("ghcr.io/acme/",),
            ("ghcr.io/acme", "docker.io/library/"),
            ("docker.io",),
            ("ghcr.io/",),
            ("GHCR.IO/acme/", "localhost:5000"),
        ]
    ),
    require_digest=st.booleans(),
    forbid_latest=st.booleans(),
    require_drop=st.sampled_from(
        [frozenset({"ALL"}), frozenset({"NET_RAW"}), frozenset({"NET_RAW", "SYS_ADMIN"})]
    ),
    allowed_add=st.sampled_from(
        [None, frozenset(), frozenset({"NET_BIND_SERVICE"}), frozenset({"ALL"})]
    ),
    host_ports=st.sampled_from([None, (443,), (443, 8080)]),
    allow_host_network=st.booleans(),
    exempt_images=st.sampled_from(
        [None, ("nginx*",), ("ghcr.io/acme/*",), ("*", "docker.io/*/*"), ("nginx",)]
    ),
)


def wrap(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` as the pod spec of an object of ``kind``."""
    template = {"metadata": {"labels": {"app": "x"}}, "spec": spec}
    metadata = {"name": "x", "namespace": "team-a"}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": kind, "metadata": metadata, "spec": spec}
    if kind == "PodTemplate":
        return {"apiVersion": "v1", "kind": kind, "metadata": metadata, "template": template}
    if kind == "CronJob":
        job = {"spec": {"template": template}}
        return {
            "apiVersion": "batch/v1",
            "kind": kind,
            "metadata": metadata,
            "spec": {"schedule": "* * * * *", "jobTemplate": job},
        }
    return {"kind": kind, "metadata": metadata, "spec": {"template": template}}
