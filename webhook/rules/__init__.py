"""Pure container-security checks over a normalised pod view. No I/O anywhere below here.

``RULES`` is Bulkhead's own checks by id, the keys of a policy's ``spec.rules``:

    allowPrivilegeEscalation: false        # true: off
    automountServiceAccountToken: false    # true: off
    capabilities: {requireDrop: [ALL], allowedAdd: [NET_BIND_SERVICE]}
    hostNamespaces: false                  # true: off
    hostPath: {allowedPrefixes: [/var/log]}   # or false: no hostPath at all; true: off
    hostPorts: {allowed: [80, 443]}        # or false: no host ports; true: off
    images: {allowedRegistries: [ghcr.io/acme/], requireDigest: true, forbidLatest: true}
    literalSecretEnv: false                # true: off
    privileged: false                      # true: off
    probes: [liveness, readiness]          # also startup; []: off; Jobs are never judged
    readOnlyRootFilesystem: true           # false: off
    resources: {requireLimits: [cpu, memory], requireRequests: [memory], maxLimits: {memory: 4Gi}}
    runAsNonRoot: true                     # false: off
    seccomp: RuntimeDefault                # or RuntimeDefaultOrLocalhost

Each check module's docstring states the fields it reads and the values it allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from webhook.rules import (
    capabilities,
    config,
    explicit,
    findings,
    host,
    images,
    nonroot,
    podview,
    privilege,
    probes,
    provenance,
    quantity,
    registry,
    resources,
    rootfs,
    seccomp,
    secretenv,
    serviceaccount,
)

__all__ = [
    "RULES",
    "capabilities",
    "config",
    "explicit",
    "findings",
    "host",
    "images",
    "nonroot",
    "podview",
    "privilege",
    "probes",
    "provenance",
    "quantity",
    "registry",
    "resources",
    "rootfs",
    "seccomp",
    "secretenv",
    "serviceaccount",
]

RULES: Final[Mapping[str, registry.Rule[Any]]] = registry.build(
    [
        nonroot.RULE,
        privilege.PRIVILEGED_RULE,
        privilege.ESCALATION_RULE,
        rootfs.RULE,
        host.NAMESPACES_RULE,
        host.PATH_RULE,
        host.PORTS_RULE,
        seccomp.RULE,
        serviceaccount.RULE,
        capabilities.RULE,
        provenance.RULE,
        resources.RULE,
        probes.RULE,
        secretenv.RULE,
    ]
)
