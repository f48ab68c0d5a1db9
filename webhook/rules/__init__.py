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

One rule per module, and the module's name is the rule's id in snake_case
(``runAsNonRoot`` lives in ``run_as_non_root``, ``hostPath`` in
``host_path``); each exports ``ID`` and ``RULE``, and its docstring (the
rule's ``doc``) states the values it allows and the fields it reads. The
``RULE`` carries the rest of what describes it: title, fields, fix,
severity and the OpenAPI schema of its value, from which the CRDs and
``docs/rules.md`` are generated. The other modules own what rules share and
are named for it: ``registry`` (what a rule is), ``config`` (reading policy
values), ``openapi`` (schema fragments), ``podview`` (the normalised pod),
``findings``, ``image_references`` (image reference parsing), ``quantity``
(resource quantities) and ``safe_booleans`` (fields that must be set to
their safe value).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

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
    literal_secret_env,
    openapi,
    podview,
    privileged,
    probes,
    quantity,
    read_only_root_filesystem,
    registry,
    resources,
    run_as_non_root,
    safe_booleans,
    seccomp,
)

__all__ = [
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
    "literal_secret_env",
    "openapi",
    "podview",
    "privileged",
    "probes",
    "quantity",
    "read_only_root_filesystem",
    "registry",
    "resources",
    "run_as_non_root",
    "safe_booleans",
    "seccomp",
]

RULES: Final[Mapping[str, registry.Rule[Any]]] = registry.build(
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
    ]
)
