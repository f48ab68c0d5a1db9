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
    probes: [liveness, readiness]          # also startup; []: off; Jobs are never judged
    rbac: {allowedSubjects: [Group:admins], allowedRoles: [system:*]}  # or true; false: off
    readOnlyRootFilesystem: true           # false: off
    resources: {requireLimits: [cpu, memory], requireRequests: [memory], maxLimits: {memory: 4Gi}}
    runAsNonRoot: true                     # false: off
    seccomp: RuntimeDefault                # or RuntimeDefaultOrLocalhost
    secretsAsEnv: false                    # true: off
    services: {allowedTypes: [ClusterIP], externalIPs: false, requireLoadBalancerSourceRanges: true}

``services``, ``ingressTLS`` and ``rbac`` judge the kinds they name
(``OBJECT_KINDS``: Service, Ingress, Role, ClusterRole and their bindings);
every other rule judges the pod spec of every pod-bearing kind.

One rule per module, and the module's name is the rule's id in snake_case
(``runAsNonRoot`` lives in ``run_as_non_root``, ``hostPath`` in
``host_path``); each exports ``ID`` and ``RULE``, and its docstring (the
rule's ``doc``) states the values it allows and the fields it reads. The
``RULE`` carries the rest of what describes it: title, fields, fix,
severity and the OpenAPI schema of its value, from which the CRDs and
``docs/rules.md`` are generated. The other modules own what rules share and
are named for it: ``registry`` (what a rule is), ``config`` (reading policy
values), ``openapi`` (schema fragments), ``podview`` (the normalised pod),
``objectview`` (a Service, Ingress or RBAC object as the object rules read
it), ``findings``, ``image_references`` (image reference parsing), ``quantity``
(resource quantities) and ``safe_booleans`` (fields that must be set to
their safe value).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from webhook.rules import (
    allow_privilege_escalation,
    automount_service_account_token,
    capabilities,
    config,
    findings,
    host_namespaces,
    host_path,
    host_ports,
    image_references,
    images,
    ingress_tls,
    literal_secret_env,
    objectview,
    openapi,
    podview,
    privileged,
    probes,
    quantity,
    rbac,
    read_only_root_filesystem,
    registry,
    resources,
    run_as_non_root,
    safe_booleans,
    seccomp,
    secrets_as_env,
    services,
)

__all__ = [
    "OBJECT_KINDS",
    "RULES",
    "allow_privilege_escalation",
    "automount_service_account_token",
    "capabilities",
    "config",
    "findings",
    "host_namespaces",
    "host_path",
    "host_ports",
    "image_references",
    "images",
    "ingress_tls",
    "literal_secret_env",
    "objectview",
    "openapi",
    "podview",
    "privileged",
    "probes",
    "quantity",
    "rbac",
    "read_only_root_filesystem",
    "registry",
    "resources",
    "run_as_non_root",
    "safe_booleans",
    "seccomp",
    "secrets_as_env",
    "services",
]

RULES: Final[Mapping[str, registry.AnyRule]] = registry.build(
    [
        allow_privilege_escalation.RULE,
        automount_service_account_token.RULE,
        capabilities.RULE,
        host_namespaces.RULE,
        host_path.RULE,
        host_ports.RULE,
        images.RULE,
        literal_secret_env.RULE,
        privileged.RULE,
        probes.RULE,
        read_only_root_filesystem.RULE,
        resources.RULE,
        run_as_non_root.RULE,
        seccomp.RULE,
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
