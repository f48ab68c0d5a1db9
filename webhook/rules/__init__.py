"""Pure container-security checks over a normalised pod view. No I/O anywhere below here.

``RULES`` is Bulkhead's own checks by id, the keys of a policy's ``spec.rules``:

    allowPrivilegeEscalation: false        # true: off
    automountServiceAccountToken: false    # true: off
    capabilities: {requireDrop: [ALL], allowedAdd: [NET_BIND_SERVICE]}
    hostNamespaces: false                  # true: off
    hostPath: {allowedPrefixes: [/var/log]}   # or false: no hostPath at all; true: off
    hostPorts: {allowed: [80, 443]}        # or false: no host ports; true: off
    images: {allowedRegistries: [ghcr.io/acme/], requireDigest: true, forbidLatest: true}
    ingressTLS: true                       # or {allowedClasses: [nginx]}; false: off (Ingress)
    literalSecretEnv: false                # true: off
    privileged: false                      # true: off
    rbac: {allowedSubjects: [Group:admins], exemptRoles: [system:*]}  # or true; false: off
    probes: [liveness, readiness]          # also startup; []: off; Jobs are never judged
    readOnlyRootFilesystem: true           # false: off
    resources: {requireLimits: [cpu, memory], requireRequests: [memory], maxLimits: {memory: 4Gi}}
    runAsNonRoot: true                     # false: off
    seccomp: RuntimeDefault                # or RuntimeDefaultOrLocalhost
    secretsAsEnv: false                    # true: off
    services: {allowedTypes: [ClusterIP], externalIPs: false, requireLoadBalancerSourceRanges: true}

``services``, ``ingressTLS`` and ``rbac`` judge the kinds they name
(``OBJECT_KINDS``: Service, Ingress, Role, ClusterRole and their bindings);
every other rule judges the pod spec of every pod-bearing kind.

Each check module's docstring states the fields it reads and the values it allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from webhook.rules import (
    capabilities,
    config,
    explicit,
    findings,
    host,
    images,
    ingress_tls,
    nonroot,
    objectview,
    podview,
    privilege,
    probes,
    provenance,
    quantity,
    rbac,
    registry,
    resources,
    rootfs,
    seccomp,
    secretenv,
    secrets_as_env,
    serviceaccount,
    services,
)

__all__ = [
    "OBJECT_KINDS",
    "RULES",
    "capabilities",
    "config",
    "explicit",
    "findings",
    "host",
    "images",
    "ingress_tls",
    "nonroot",
    "objectview",
    "podview",
    "privilege",
    "probes",
    "provenance",
    "quantity",
    "rbac",
    "registry",
    "resources",
    "rootfs",
    "seccomp",
    "secretenv",
    "secrets_as_env",
    "serviceaccount",
    "services",
]

RULES: Final[Mapping[str, registry.AnyRule]] = registry.build(
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
        secrets_as_env.RULE,
        services.RULE,
        ingress_tls.RULE,
        rbac.RULE,
    ]
)

#: The kinds the object rules judge, beside the pod-bearing ones.
OBJECT_KINDS: Final[tuple[str, ...]] = tuple(
    sorted(
        {
            kind
            for rule in RULES.values()
            if isinstance(rule, registry.ObjectRule)
            for kind in rule.kinds
        }
    )
)
