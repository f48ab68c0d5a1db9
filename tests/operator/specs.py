"""Policy specs the CRD schema must refuse or accept, with the apiserver's reason.

Shared by the cluster test that applies them to the real apiserver
(``test_crd_schema``) and the unit test that runs the same documents through
``policy.compile`` (``tests/unit/operator/test_crds``): whatever the schema
refuses, the compiler refuses too, and whatever the schema accepts here
compiles, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

CLUSTER: Final = "ClusterContainerPolicy"
NAMESPACED: Final = "ContainerPolicy"


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    spec: Any
    kind: str = CLUSTER
    #: A fragment of the apiserver's refusal (``None`` for a case it accepts).
    message: str | None = None

    def document(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": name}
        if self.kind == NAMESPACED:
            metadata["namespace"] = namespace or "default"
        body: dict[str, Any] = {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": self.kind,
            "metadata": metadata,
        }
        if self.spec is not _MISSING:
            body["spec"] = self.spec
        return body


_MISSING: Final[Any] = object()
BASE: Final = {"profile": {"level": "baseline"}}


def _with(**fields: Any) -> dict[str, Any]:
    return {**BASE, **fields}


def _rules(**rules: Any) -> dict[str, Any]:
    return {"rules": rules}


def _selector(selector: dict[str, Any]) -> dict[str, Any]:
    return _with(match={"namespaceSelector": selector})


INVALID: Final[tuple[Case, ...]] = (
    Case("no-spec", _MISSING, message="spec: Required value"),
    Case("empty-spec", {}, message="a policy must set spec.profile or spec.rules"),
    Case(
        "action-unknown", _with(action="Block"), message='spec.action: Unsupported value: "Block"'
    ),
    Case(
        "action-lowercase", _with(action="deny"), message='spec.action: Unsupported value: "deny"'
    ),
    Case("action-number", _with(action=1), message="spec.action: Invalid value"),
    Case(
        "profile-no-level",
        {"profile": {"version": "latest"}},
        message="spec.profile.level: Required value",
    ),
    Case(
        "profile-level-unknown",
        {"profile": {"level": "strict"}},
        message='spec.profile.level: Unsupported value: "strict"',
    ),
    Case(
        "profile-version-bare",
        {"profile": {"level": "baseline", "version": "1.30"}},
        message="spec.profile.version: Invalid value",
    ),
    Case(
        "profile-version-v2",
        {"profile": {"level": "baseline", "version": "v2.0"}},
        message="spec.profile.version: Invalid value",
    ),
    Case(
        "profile-privileged-alone",
        {"profile": {"level": "privileged"}},
        message="profile level privileged enforces nothing",
    ),
    Case("profile-string", {"profile": "restricted"}, message="spec.profile: Invalid value"),
    Case(
        "profile-unknown-field",
        {"profile": {"level": "baseline", "levl": "x"}},
        message='unknown field "spec.profile.levl"',
    ),
    Case(
        "rules-runasnonroot-string",
        _rules(runAsNonRoot="yes"),
        message="spec.rules.runAsNonRoot: Invalid value",
    ),
    Case(
        "rules-privileged-number",
        _rules(privileged=0),
        message="spec.rules.privileged: Invalid value",
    ),
    Case(
        "rules-seccomp-unconfined",
        _rules(seccomp="Unconfined"),
        message='spec.rules.seccomp: Unsupported value: "Unconfined"',
    ),
    Case(
        "rules-seccomp-boolean", _rules(seccomp=True), message="spec.rules.seccomp: Invalid value"
    ),
    Case(
        "rules-capabilities-empty",
        _rules(capabilities={}),
        message="spec.rules.capabilities: Invalid value",
    ),
    Case(
        "rules-capabilities-string",
        _rules(capabilities={"requireDrop": "ALL"}),
        message="spec.rules.capabilities.requireDrop: Invalid value",
    ),
    Case(
        "rules-capabilities-drop-empty-name",
        _rules(capabilities={"requireDrop": [""]}),
        message="spec.rules.capabilities.requireDrop[0]: Invalid value",
    ),
    Case(
        "rules-capabilities-unknown",
        _rules(capabilities={"requireDrop": ["NET_FOO"]}),
        message="every name must be a Linux capability",
    ),
    Case(
        "rules-capabilities-space",
        _rules(capabilities={"allowedAdd": ["net bind"]}),
        message="spec.rules.capabilities.allowedAdd[0]: Invalid value",
    ),
    Case(
        "rules-images-registries-empty",
        _rules(images={"allowedRegistries": []}),
        message="spec.rules.images.allowedRegistries: Invalid value",
    ),
    Case(
        "rules-images-registry-space",
        _rules(images={"allowedRegistries": ["ghcr.io/ acme"]}),
        message="spec.rules.images.allowedRegistries[0]: Invalid value",
    ),
    Case(
        "rules-images-digest-string",
        _rules(images={"requireDigest": "true"}),
        message="spec.rules.images.requireDigest: Invalid value",
    ),
    Case(
        "rules-images-unknown-field",
        _rules(images={"requireSignature": True}),
        message='unknown field "spec.rules.images.requireSignature"',
    ),
    Case(
        "rules-resources-empty", _rules(resources={}), message="spec.rules.resources: Invalid value"
    ),
    Case(
        "rules-resources-gpu",
        _rules(resources={"requireLimits": ["gpu"]}),
        message="spec.rules.resources.requireLimits[0]: Invalid value",
    ),
    Case(
        "rules-resources-max-gpu",
        _rules(resources={"maxLimits": {"gpu": 1}}),
        message="every key must be cpu, memory, ephemeral-storage",
    ),
    Case(
        "rules-resources-max-not-quantity",
        _rules(resources={"maxLimits": {"memory": "lots"}}),
        message="spec.rules.resources.maxLimits.memory: Invalid value",
    ),
    Case(
        "rules-probes-unknown",
        _rules(probes=["health"]),
        message='spec.rules.probes[0]: Unsupported value: "health"',
    ),
    Case(
        "rules-probes-string", _rules(probes="liveness"), message="spec.rules.probes: Invalid value"
    ),
    Case("rules-unknown-rule", _rules(noRoot=True), message='unknown field "spec.rules.noRoot"'),
    Case(
        "match-kind-configmap",
        _with(match={"kinds": ["ConfigMap"]}),
        message='spec.match.kinds[0]: Unsupported value: "ConfigMap"',
    ),
    Case(
        "match-kinds-empty", _with(match={"kinds": []}), message="spec.match.kinds: Invalid value"
    ),
    Case(
        "match-namespace-uppercase",
        _with(match={"namespaces": ["Kube-System"]}),
        message="spec.match.namespaces[0]: Invalid value",
    ),
    Case(
        "match-namespace-empty-string",
        _with(match={"namespaces": [""]}),
        message="spec.match.namespaces[0]: Invalid value",
    ),
    Case(
        "selector-in-without-values",
        _selector({"matchExpressions": [{"key": "a", "operator": "In"}]}),
        message="values must be non-empty for operator In and NotIn",
    ),
    Case(
        "selector-exists-with-values",
        _selector({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
        message="values must be non-empty for operator In and NotIn, and empty for Exists",
    ),
    Case(
        "selector-operator-unknown",
        _selector({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]}),
        message='Unsupported value: "Equals"',
    ),
    Case(
        "selector-no-key",
        _selector({"matchExpressions": [{"operator": "Exists"}]}),
        message="spec.match.namespaceSelector.matchExpressions[0].key: Required value",
    ),
    Case(
        "selector-bad-key",
        _selector({"matchLabels": {"bad key!": "x"}}),
        message="every key must be a valid label key",
    ),
    Case(
        "selector-bad-value",
        _selector({"matchLabels": {"app": "not valid!"}}),
        message="spec.match.namespaceSelector.matchLabels.app: Invalid value",
    ),
    Case(
        "selector-number-value",
        _with(match={"objectSelector": {"matchLabels": {"app": 1}}}),
        message="spec.match.objectSelector.matchLabels.app: Invalid value",
    ),
    Case(
        "exclude-selects-nothing",
        _with(exclude=[{"reason": "because"}]),
        message="an exclusion entry selects nothing",
    ),
    Case(
        "exclude-expires-words",
        _with(exclude=[{"namespaces": ["a"], "expires": "next week"}]),
        message="spec.exclude[0].expires: Invalid value",
    ),
    Case(
        "exclude-check-unknown",
        _with(exclude=[{"checks": ["notACheck"]}]),
        message='spec.exclude[0].checks[0]: Unsupported value: "notACheck"',
    ),
    Case(
        "exclude-object",
        _with(exclude={"namespaces": ["a"]}),
        message='unknown field "spec.exclude.namespaces"',
    ),
    Case(
        "exclude-image-space",
        _with(exclude=[{"images": ["a b"]}]),
        message="spec.exclude[0].images[0]: Invalid value",
    ),
    Case(
        "exclude-container-uppercase",
        _with(exclude=[{"containers": ["Web"]}]),
        message="spec.exclude[0].containers[0]: Invalid value",
    ),
    Case(
        "exclude-username-empty",
        _with(exclude=[{"usernames": [""]}]),
        message="spec.exclude[0].usernames[0]: Invalid value",
    ),
    Case("spec-unknown-field", _with(enforce=True), message='unknown field "spec.enforce"'),
    Case(
        "cp-match-namespaces",
        _with(match={"namespaces": ["other"]}),
        kind=NAMESPACED,
        message="spec.match.namespaces is not allowed in a ContainerPolicy",
    ),
    Case(
        "cp-match-namespace-selector",
        _with(match={"namespaceSelector": {"matchLabels": {"a": "b"}}}),
        kind=NAMESPACED,
        message="spec.match.namespaceSelector is not allowed in a ContainerPolicy",
    ),
    Case(
        "cp-exclude-namespaces",
        _with(exclude=[{"namespaces": ["other"]}]),
        kind=NAMESPACED,
        message="spec.exclude[].namespaces is not allowed in a ContainerPolicy",
    ),
    Case(
        "cp-empty-spec", {}, kind=NAMESPACED, message="a policy must set spec.profile or spec.rules"
    ),
    Case(
        "signatures-without-keys",
        _rules(imageSignatures={"repositories": ["ghcr.io/acme/*"]}),
        message="set keys, keySecrets or both",
    ),
    Case(
        "key-secret-bad-name",
        _rules(imageSignatures={"keySecrets": [{"namespace": "sigstore", "name": "Bad_Name"}]}),
        message="spec.rules.imageSignatures.keySecrets[0].name",
    ),
    Case(
        "key-secret-without-name",
        _rules(imageSignatures={"keySecrets": [{"namespace": "sigstore"}]}),
        message="spec.rules.imageSignatures.keySecrets[0].name: Required value",
    ),
)

VALID: Final[tuple[Case, ...]] = (
    Case(
        "baseline-deny",
        {
            "action": "Deny",
            "profile": {"level": "baseline", "version": "latest"},
            "exclude": [{"namespaces": ["kube-system", "bulkhead-system"], "reason": "platform"}],
        },
    ),
    Case("restricted-warn", {"action": "Warn", "profile": {"level": "restricted"}}),
    Case(
        "restricted-pinned-audit",
        {"action": "Audit", "profile": {"level": "restricted", "version": "v1.25"}},
    ),
    Case(
        "hardening",
        _rules(
            runAsNonRoot=True,
            privileged=False,
            allowPrivilegeEscalation=False,
            readOnlyRootFilesystem=True,
            hostNamespaces=False,
            hostPath={"allowedPrefixes": []},
            hostPorts=False,
            seccomp="RuntimeDefault",
            capabilities={"requireDrop": ["ALL"], "allowedAdd": ["NET_BIND_SERVICE"]},
            literalSecretEnv=False,
        ),
    ),
    Case(
        "supply-chain",
        {
            "match": {
                "namespaceSelector": {
                    "matchExpressions": [
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "NotIn",
                            "values": ["kube-system"],
                        }
                    ]
                }
            },
            "rules": {
                "images": {
                    "requireDigest": True,
                    "forbidLatest": True,
                    "allowedRegistries": ["ghcr.io/acme/", "registry.k8s.io"],
                },
                "resources": {
                    "requireLimits": ["cpu", "memory"],
                    "requireRequests": ["memory"],
                    "maxLimits": {"memory": "4Gi", "cpu": "4"},
                },
                "probes": ["liveness", "readiness"],
            },
        },
    ),
    Case("hostpath-false", _rules(hostPath=False)),
    Case("hostpath-prefixes", _rules(hostPath={"allowedPrefixes": ["/var/log", "/data"]})),
    Case("hostports-allowed", _rules(hostPorts={"allowed": [80, 443]})),
    Case(
        "capabilities-spellings",
        _rules(
            capabilities={"requireDrop": ["all"], "allowedAdd": ["cap_net_bind_service", "Chown"]}
        ),
    ),
    Case("capabilities-add-none", _rules(capabilities={"allowedAdd": []})),
    Case("capabilities-drop-none", _rules(capabilities={"requireDrop": []}, runAsNonRoot=True)),
    Case("resources-max-none", _rules(resources={"maxLimits": {}, "requireLimits": ["memory"]})),
    Case("images-any-valid", _rules(images={})),
    Case(
        "resources-numbers-hugepages",
        _rules(
            resources={
                "requireLimits": ["hugepages-2Mi"],
                "maxLimits": {"memory": "4Gi", "cpu": 2, "ephemeral-storage": "1e9"},
            }
        ),
    ),
    Case("probes-all", _rules(probes=["liveness", "readiness", "startup"])),
    Case(
        "switches-off-and-on",
        _rules(
            seccomp="RuntimeDefaultOrLocalhost",
            automountServiceAccountToken=False,
            literalSecretEnv=False,
            privileged=True,
        ),
    ),
    Case(
        "match-every-part",
        _with(
            match={
                "kinds": ["Pod", "Deployment", "CronJob", "PodTemplate"],
                "namespaces": ["team-*", "prod", "*"],
                "objectSelector": {
                    "matchExpressions": [{"key": "legacy", "operator": "DoesNotExist"}]
                },
            }
        ),
    ),
    Case(
        "namespace-selector-labels",
        _selector(
            {
                "matchLabels": {"app.kubernetes.io/name": "web", "tier": ""},
                "matchExpressions": [
                    {"key": "env", "operator": "Exists"},
                    {"key": "team", "operator": "In", "values": ["a", "b"]},
                ],
            }
        ),
    ),
    Case(
        "exclude-every-selector",
        _with(
            exclude=[
                {
                    "namespaces": ["dev-*"],
                    "usernames": ["system:serviceaccount:ci:*"],
                    "groups": ["admins"],
                    "images": ["ghcr.io/acme/debug:*"],
                    "containers": ["debug-*"],
                    "checks": ["privileged", "pss/hostPathVolumes", "images"],
                    "reason": "debugging",
                    "expires": "2031-01-31",
                }
            ]
        ),
    ),
    Case(
        "exclude-expires-timestamp",
        _with(
            exclude=[
                {"usernames": ["alice"], "expires": "2031-01-31T18:00:00Z"},
                {"groups": ["ops"], "expires": "2031-01-31T18:00:00.5+02:00"},
            ]
        ),
    ),
    Case(
        "privileged-profile-with-rules",
        {"profile": {"level": "privileged"}, "rules": {"runAsNonRoot": True}},
    ),
    Case(
        "cp-object-selector",
        {
            "action": "Warn",
            "rules": {"runAsNonRoot": True},
            "match": {"objectSelector": {"matchLabels": {"app": "web"}}},
            "exclude": [{"usernames": ["alice"]}],
        },
        kind=NAMESPACED,
    ),
    Case("cp-baseline", {"profile": {"level": "baseline"}}, kind=NAMESPACED),
    Case(
        "key-secrets",
        _rules(
            imageSignatures={
                "keySecrets": [
                    {"namespace": "sigstore", "name": "release-signing"},
                    {"namespace": "sigstore", "name": "release-signing", "key": "next.pub"},
                ]
            }
        ),
    ),
    Case(
        "cp-key-secret-in-its-namespace",
        _rules(imageSignatures={"keySecrets": [{"name": "signing"}]}),
        kind=NAMESPACED,
    ),
    Case(
        "cp-kinds-and-containers",
        {
            "rules": {"readOnlyRootFilesystem": True},
            "match": {"kinds": ["Pod"]},
            "exclude": [{"containers": ["istio-proxy"], "checks": ["readOnlyRootFilesystem"]}],
        },
        kind=NAMESPACED,
    ),
)
