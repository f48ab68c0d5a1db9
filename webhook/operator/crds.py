"""The policy CRDs, built from the compiler's own field tables. Pure, no I/O.

``definitions()`` returns the ``CustomResourceDefinition`` objects for
``ClusterContainerPolicy`` (cluster-scoped, ``ccp``) and ``ContainerPolicy``
(namespaced, ``cp``), group ``bulkhead.dev``, version ``v1alpha1``. The
schema is assembled from the same tables the compiler reads
(``compiler.SPEC_FIELDS``, ``MATCH_FIELDS``, ``EXEMPTION_FIELDS``,
``PROFILE_FIELDS``, ``selectors.FIELDS``, ``rules.RULES`` and the policy
vocabulary in ``model``): building fails when a table names a field this
module does not describe, or the other way round, so the CRD and the
compiler cannot drift apart silently. ``crdfiles`` writes the result to
``manifests/crds/``; a unit test fails when the files are stale.

What the schema checks, the apiserver refuses at ``kubectl apply``: types,
enums, patterns, required fields and the cross-field rules written as
``x-kubernetes-validations`` (CEL). What it cannot express (``hostPath`` and
``hostPorts`` take either a boolean or an object, which a structural schema
can only leave open; rules given only "off" values; a ``hostPath`` prefix
with ``..``; a zero quantity) is left to ``policy.compile``, whose verdict
the operator writes to ``status``. The schema never refuses a document the
compiler accepts, with two documented exceptions: the caps on list and map
sizes CEL needs to bound its cost (``MAX_ITEMS`` and friends), and
``maxLimits`` values, which are Kubernetes int-or-string quantities, so a
fraction is written quoted (``cpu: "0.5"``) as in every Kubernetes object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from webhook import policy, profiles, rules
from webhook.policy import compiler, model, selectors
from webhook.rules import capabilities

Schema = dict[str, Any]

GROUP: Final = model.GROUP
VERSION: Final = model.VERSION
#: Longest list the schema admits where a CEL rule walks the items.
MAX_ITEMS: Final = 256
#: Most entries in a name-keyed map (``matchLabels``, ``maxLimits``).
MAX_PROPERTIES: Final = 64
#: Most requirements in one label selector's ``matchExpressions``.
MAX_SELECTOR_ITEMS: Final = 64
#: Most names in a capability list (41 capabilities, ALL, and spellings of them).
MAX_CAPABILITIES: Final = 64

_DNS_LABEL: Final = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
#: A namespace or container name pattern, as ``compiler._dns_label_pattern`` accepts it.
NAME_PATTERN: Final = rf"^({_DNS_LABEL}|[-a-z0-9]*\*[-a-z0-9*]*)$"
#: ``latest`` or ``v1.N``, as ``profiles.parse_version`` accepts it.
VERSION_PATTERN: Final = r"^(latest|v1\.(0|[1-9][0-9]*))$"
#: A date (in force through that day, UTC) or an RFC 3339 timestamp.
EXPIRES_PATTERN: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$"
)
_LABEL_VALUE: Final = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
_LABEL_KEY: Final = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
#: A Kubernetes quantity (the apiserver's own pattern for ``resource.Quantity``).
QUANTITY_PATTERN: Final = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_RESOURCE_NAME: Final = r"^(cpu|memory|ephemeral-storage|hugepages-.+)$"
_NO_WHITESPACE: Final = r"^\S+$"

PROBES: Final = ("liveness", "readiness", "startup")
SECCOMP_MODES: Final = ("RuntimeDefault", "RuntimeDefaultOrLocalhost")
LABEL_OPERATORS: Final = selectors.OPERATORS


class DriftError(AssertionError):
    """The compiler's field tables and this schema disagree."""


def _checked(what: str, built: Mapping[str, Schema], expected: Sequence[str]) -> dict[str, Schema]:
    """``built`` in the compiler's field order; raises when the two name different fields."""
    missing = [name for name in expected if name not in built]
    extra = [name for name in built if name not in expected]
    if missing or extra:
        raise DriftError(
            f"{what}: the compiler knows {missing or 'no'} fields the schema lacks, "
            f"the schema has {extra or 'no'} fields the compiler does not know"
        )
    return {name: built[name] for name in expected}


# -- small schema builders ---------------------------------------------------------------


def _boolean(description: str) -> Schema:
    return {"type": "boolean", "description": description}


def _string(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def _list(description: str, items: Schema, *, min_items: int = 1, **extra: Any) -> Schema:
    schema: Schema = {"type": "array", "description": description, "items": items}
    if min_items:
        schema["minItems"] = min_items
    schema.update(extra)
    return schema


def _names(description: str, *, pattern: str | None = None) -> Schema:
    """A non-empty list of non-empty strings (``fields.strings``)."""
    item: Schema = {"type": "string", "minLength": 1}
    if pattern is not None:
        item["pattern"] = pattern
    return _list(description, item)


def _object(
    description: str,
    properties: Mapping[str, Schema],
    *,
    required: Sequence[str] = (),
    validations: Sequence[Mapping[str, str]] = (),
    **extra: Any,
) -> Schema:
    schema: Schema = {"type": "object", "description": description, "properties": dict(properties)}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    if validations:
        schema["x-kubernetes-validations"] = [dict(rule) for rule in validations]
    return schema


def _rule(rule: str, message: str, **extra: str) -> dict[str, str]:
    return {"rule": rule, "message": message, **extra}


def _cel_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(f"'{value}'" for value in values) + "]"


# -- label selectors ---------------------------------------------------------------------


def _label_selector(description: str) -> Schema:
    expression = _object(
        "A requirement on one label.",
        _checked(
            "label selector expression",
            {
                "key": _string(
                    "The label key the requirement applies to.", minLength=1, maxLength=317
                ),
                "operator": _string(
                    "How the key relates to the values: In, NotIn, Exists or DoesNotExist.",
                    enum=list(LABEL_OPERATORS),
                ),
                "values": _list(
                    "Label values. Required and non-empty for In and NotIn; "
                    "must be left out (or empty) for Exists and DoesNotExist.",
                    _string("A label value.", maxLength=63, pattern=_LABEL_VALUE),
                    min_items=0,
                ),
            },
            selectors.EXPRESSION_FIELDS,
        ),
        required=("key", "operator"),
        validations=(
            _rule(
                "self.operator in ['In', 'NotIn'] ? "
                "(has(self.values) && size(self.values) > 0) : "
                "(!has(self.values) || size(self.values) == 0)",
                "values must be non-empty for operator In and NotIn, "
                "and empty for Exists and DoesNotExist",
            ),
            _rule(
                f"self.key.matches(r'{_LABEL_KEY}')",
                "key must be a valid label key ([prefix/]name, the name at most 63 characters)",
                fieldPath=".key",
            ),
        ),
    )
    return _object(
        description,
        _checked(
            "label selector",
            {
                "matchLabels": {
                    "type": "object",
                    "description": "Labels that must all be present with exactly these values.",
                    "additionalProperties": _string(
                        "A label value.", maxLength=63, pattern=_LABEL_VALUE
                    ),
                    "maxProperties": MAX_PROPERTIES,
                    "x-kubernetes-validations": [
                        _rule(
                            f"self.all(key, key.matches(r'{_LABEL_KEY}'))",
                            "every key must be a valid label key "
                            "([prefix/]name, the name at most 63 characters)",
                        )
                    ],
                },
                "matchExpressions": _list(
                    "Requirements that must all hold.",
                    expression,
                    min_items=0,
                    maxItems=MAX_SELECTOR_ITEMS,
                ),
            },
            selectors.FIELDS,
        ),
    )


# -- spec.profile ------------------------------------------------------------------------


def _profile() -> Schema:
    return _object(
        "A built-in Pod Security Standard to enforce, judged exactly as upstream "
        "Pod Security Admission judges it.",
        _checked(
            "spec.profile",
            {
                "level": _string(
                    "The standard: baseline or restricted (privileged runs no check, "
                    "so it needs rules beside it).",
                    enum=list(profiles.LEVELS),
                ),
                "version": _string(
                    "The policy version: latest, or v1.N to pin the checks of Kubernetes 1.N.",
                    pattern=VERSION_PATTERN,
                    default="latest",
                ),
            },
            compiler.PROFILE_FIELDS,
        ),
        required=("level",),
    )


# -- spec.rules --------------------------------------------------------------------------


def _switch(rule_id: str, *, on: bool, meaning: str) -> Schema:
    title = rules.RULES[rule_id].title
    off = "false" if on else "true"
    return _boolean(
        f"{title}. {str(on).lower()}: {meaning}; {off}: not checked. "
        f"Checks {', '.join(rules.RULES[rule_id].fields)}."
    )


def _capability_names(description: str) -> Schema:
    known = sorted(capabilities.KNOWN | {capabilities.ALL})
    schema = _names(description, pattern=r"^[A-Za-z_]+$")
    schema["items"]["maxLength"] = 32
    schema["maxItems"] = MAX_CAPABILITIES
    schema["x-kubernetes-validations"] = [
        _rule(
            f"self.all(name, name.upperAscii() in {_cel_list(known)} || "
            f"(name.upperAscii().startsWith('CAP_') && "
            f"name.upperAscii().substring(4) in {_cel_list(known)}))",
            "every name must be a Linux capability (such as NET_BIND_SERVICE, "
            "with or without CAP_, any case) or ALL",
        )
    ]
    return schema


def _rule_schemas() -> dict[str, Schema]:
    open_value = {"x-kubernetes-preserve-unknown-fields": True}
    built: dict[str, Schema] = {
        "allowPrivilegeEscalation": _switch(
            "allowPrivilegeEscalation",
            on=False,
            meaning="every container sets securityContext.allowPrivilegeEscalation: false",
        ),
        "automountServiceAccountToken": _switch(
            "automountServiceAccountToken",
            on=False,
            meaning="every pod sets automountServiceAccountToken: false",
        ),
        "capabilities": _object(
            f"{rules.RULES['capabilities'].title}. Names are Linux capabilities, compared "
            "in upper case without a CAP_ prefix; ALL stands for every capability.",
            {
                "requireDrop": {
                    **_capability_names(
                        "Capabilities every container must list in "
                        "securityContext.capabilities.drop (dropping ALL satisfies every name)."
                    ),
                    "minItems": 0,
                },
                "allowedAdd": {
                    **_capability_names(
                        "The only capabilities a container may add (left out: any; "
                        "[]: none; ALL: any)."
                    ),
                    "minItems": 0,
                },
            },
            minProperties=1,
        ),
        "hostNamespaces": _switch(
            "hostNamespaces",
            on=False,
            meaning="no pod sets hostNetwork, hostPID or hostIPC",
        ),
        "hostPath": {
            "description": (
                f"{rules.RULES['hostPath'].title}. false: no hostPath volumes; true: not "
                "checked; {allowedPrefixes: [/var/log, ...]}: hostPath volumes only below "
                "these absolute paths ([] forbids them all). Either a boolean or an object, "
                "so the schema leaves it open and the operator reports a bad value in status."
            ),
            **open_value,
        },
        "hostPorts": {
            "description": (
                f"{rules.RULES['hostPorts'].title}. false: no container port may set a "
                "hostPort; true: not checked; {allowed: [80, 443]}: only these host ports "
                "(1-65535; [] forbids them all). A hostNetwork pod is refused unless the object "
                "form says allowHostNetwork: true. Either a boolean or an object, so the "
                "schema leaves it open and the operator reports a bad value in status."
            ),
            **open_value,
        },
        "images": _object(
            f"{rules.RULES['images'].title}. {{}} checks only that every image reference is valid.",
            {
                "allowedRegistries": _names(
                    "Registries or registry/repository prefixes images must come from, "
                    "matched on '/' boundaries (ghcr.io/acme admits ghcr.io/acme/app, never "
                    "ghcr.io/acme-evil/app; docker.io admits nginx). Left out: any registry.",
                    pattern=_NO_WHITESPACE,
                ),
                "requireDigest": _boolean(
                    "true: every image is pinned by digest (image@sha256:...)."
                ),
                "forbidLatest": _boolean(
                    "true: no image uses the tag latest, written or implied, "
                    "unless it is pinned by digest."
                ),
            },
        ),
        "literalSecretEnv": _switch(
            "literalSecretEnv",
            on=False,
            meaning="no env entry writes a secret-looking value literally (use valueFrom)",
        ),
        "privileged": _switch(
            "privileged",
            on=False,
            meaning="no container sets securityContext.privileged: true",
        ),
        "probes": _list(
            f"{rules.RULES['probes'].title}: the probes every regular container must set "
            "(liveness, readiness, startup). Pods with restartPolicy Never or OnFailure "
            "(Jobs, CronJobs) run to completion and are not checked. []: not checked.",
            _string("A probe: liveness, readiness or startup.", enum=list(PROBES)),
            min_items=0,
        ),
        "readOnlyRootFilesystem": _switch(
            "readOnlyRootFilesystem",
            on=True,
            meaning="every container sets securityContext.readOnlyRootFilesystem: true",
        ),
        "resources": _object(
            f"{rules.RULES['resources'].title}. Resource names: cpu, memory, "
            "ephemeral-storage, hugepages-<size>.",
            {
                "requireLimits": _names(
                    "Resources every container must set a limit for.", pattern=_RESOURCE_NAME
                ),
                "requireRequests": _names(
                    "Resources every container must request (a limit implies the request).",
                    pattern=_RESOURCE_NAME,
                ),
                "maxLimits": {
                    "type": "object",
                    "description": "The largest limit allowed per resource, as a Kubernetes "
                    "quantity above zero (memory: 4Gi, cpu: '2').",
                    "additionalProperties": {
                        "x-kubernetes-int-or-string": True,
                        "pattern": QUANTITY_PATTERN,
                        "description": "A quantity such as 4Gi, 500m or 2 (quote fractions: "
                        "'0.5').",
                    },
                    "maxProperties": MAX_PROPERTIES,
                    "x-kubernetes-validations": [
                        _rule(
                            f"self.all(name, name.matches(r'{_RESOURCE_NAME}'))",
                            "every key must be cpu, memory, ephemeral-storage or hugepages-<size>",
                        )
                    ],
                },
            },
            minProperties=1,
        ),
        "runAsNonRoot": _switch(
            "runAsNonRoot",
            on=True,
            meaning="every container runs with runAsNonRoot: true and never runAsUser: 0",
        ),
        "imageSignatures": _object(
            "Images must carry cosign signatures by trusted keys, verified against their "
            "registry for the image's digest (a tag is resolved to its current digest). "
            "Key-based signatures only; keyless (Fulcio/Rekor) is not verified.",
            {
                "keys": _names(
                    "Trusted public keys, each one PEM block (-----BEGIN PUBLIC KEY----- "
                    "... -----END PUBLIC KEY-----, as in cosign.pub)."
                ),
                "repositories": _names(
                    "Image repositories (registry/path, nginx is docker.io/library/nginx) "
                    "the check applies to; '*' matches any run of characters. Left out: "
                    "every image.",
                    pattern=_NO_WHITESPACE,
                ),
                "required": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Valid signatures by distinct trusted keys each image "
                    "needs (default 1).",
                },
            },
            required=("keys",),
        ),
        "seccomp": _string(
            f"{rules.RULES['seccomp'].title}: RuntimeDefault, or RuntimeDefaultOrLocalhost "
            "to also allow profiles on the node. Leave it out to not check seccomp.",
            enum=list(SECCOMP_MODES),
        ),
    }
    return _checked("spec.rules", built, policy.RULE_IDS)


# -- spec.match and spec.exclude ---------------------------------------------------------


def _match(*, namespaced: bool) -> Schema:
    namespace_note = (
        " Not allowed in a ContainerPolicy: it always applies to its own namespace."
        if namespaced
        else ""
    )
    checks: list[dict[str, str]] = []
    if namespaced:
        for field in ("namespaces", "namespaceSelector"):
            checks.append(
                _rule(
                    f"!has(self.{field})",
                    f"spec.match.{field} is not allowed in a ContainerPolicy: it always "
                    "applies to its own namespace (use a ClusterContainerPolicy to choose "
                    "namespaces)",
                    fieldPath=f".{field}",
                )
            )
    return _object(
        "Which requests the policy judges; every part left out matches everything.",
        _checked(
            "spec.match",
            {
                "kinds": _list(
                    "Kinds of submitted objects to judge (left out: every kind with a pod spec).",
                    _string("A workload kind.", enum=list(policy.WORKLOAD_KINDS)),
                ),
                "namespaces": _names(
                    "Namespaces to judge; '*' matches any run of characters." + namespace_note,
                    pattern=NAME_PATTERN,
                ),
                "namespaceSelector": _label_selector(
                    "Judge only objects whose namespace's labels match." + namespace_note
                ),
                "objectSelector": _label_selector("Judge only objects whose own labels match."),
            },
            compiler.MATCH_FIELDS,
        ),
        validations=checks,
    )


def _exclusion(*, namespaced: bool) -> Schema:
    selectors_ = compiler.EXEMPTION_SELECTORS
    any_selector = " || ".join(f"has(self.{name})" for name in selectors_)
    entry_checks = [
        _rule(
            any_selector,
            "an exclusion entry selects nothing: give at least one of " + ", ".join(selectors_),
        )
    ]
    if namespaced:
        entry_checks.append(
            _rule(
                "!has(self.namespaces)",
                "spec.exclude[].namespaces is not allowed in a ContainerPolicy: it always "
                "applies to its own namespace",
                fieldPath=".namespaces",
            )
        )
    checks = sorted(set(policy.RULE_IDS) | policy.POD_SECURITY_CHECK_IDS)
    built = {
        "namespaces": _names(
            "Exempt requests in these namespaces ('*' matches any run of characters).",
            pattern=NAME_PATTERN,
        ),
        "usernames": _names("Exempt requests by these users ('*' globs)."),
        "groups": _names("Exempt requests by members of these groups ('*' globs)."),
        "images": _names(
            "Exempt findings about these images (containers' and image volumes'), matched "
            "against the normalised reference registry/repository[:tag][@digest]; the pattern "
            "is normalised the same way (nginx* is docker.io/library/nginx*) and '*' matches "
            "any run of characters within one '/'-separated segment.",
            pattern=_NO_WHITESPACE,
        ),
        "containers": _names(
            "Exempt findings about containers with these names ('*' globs).",
            pattern=NAME_PATTERN,
        ),
        "checks": _list(
            "Exempt only these checks: rule ids or Pod Security check ids.",
            _string("A check id.", enum=checks),
        ),
        "reason": _string("Why the exclusion exists, shown in audit annotations and messages."),
        "expires": _string(
            "When the exclusion stops applying: a date (2027-01-31, in force through that "
            "day, UTC) or an RFC 3339 timestamp (2027-01-31T18:00:00Z).",
            pattern=EXPIRES_PATTERN,
        ),
    }
    return _object(
        "An exclusion: it exempts what every selector it gives matches. With only "
        "namespaces, usernames or groups it exempts whole requests; with images, "
        "containers or checks it exempts those findings.",
        _checked("spec.exclude[]", built, compiler.EXEMPTION_FIELDS),
        validations=entry_checks,
    )


# -- spec and status ---------------------------------------------------------------------


def _spec(*, namespaced: bool) -> Schema:
    scope = (
        "A ContainerPolicy applies only in its own namespace and can only add "
        "restrictions, never relax a cluster policy."
        if namespaced
        else "A ClusterContainerPolicy applies to every namespace its match selects."
    )
    built = {
        "action": _string(
            "What a violation does: Deny refuses the request, Warn admits it with warnings, "
            "Audit admits it and records audit annotations.",
            enum=list(policy.ACTIONS),
            default=model.DEFAULT_ACTION,
        ),
        "profile": _profile(),
        "rules": _object(
            "Bulkhead's own checks, keyed by check id; each check's value switches it on "
            "and sets its parameters.",
            _rule_schemas(),
        ),
        "match": _match(namespaced=namespaced),
        "exclude": _list(
            "Exclusions: requests or findings the policy does not judge.",
            _exclusion(namespaced=namespaced),
            min_items=0,
            maxItems=MAX_ITEMS,
        ),
    }
    return _object(
        f"What the policy enforces and where. {scope}",
        _checked("spec", built, compiler.SPEC_FIELDS),
        validations=(
            _rule(
                "has(self.profile) || has(self.rules)",
                "a policy must set spec.profile or spec.rules (or both)",
            ),
            _rule(
                "!has(self.profile) || self.profile.level != 'privileged' || has(self.rules)",
                "profile level privileged enforces nothing: use baseline or restricted, "
                "or add spec.rules",
            ),
        ),
    )


def _condition() -> Schema:
    return _object(
        "One aspect of the policy's state (metav1.Condition).",
        {
            "type": _string("The aspect: Ready.", maxLength=316),
            "status": _string("True, False or Unknown.", enum=["True", "False", "Unknown"]),
            "observedGeneration": {
                "type": "integer",
                "format": "int64",
                "minimum": 0,
                "description": "The metadata.generation the condition was computed from.",
            },
            "lastTransitionTime": _string("When the status last changed.", format="date-time"),
            "reason": _string(
                "One CamelCase word: Compiled or Invalid.", maxLength=1024, minLength=1
            ),
            "message": _string(
                "What the reason means here: the compile errors, one per line, each "
                "with the path of the field at fault.",
                maxLength=32768,
            ),
        },
        required=("type", "status", "lastTransitionTime", "reason", "message"),
    )


def _status() -> Schema:
    return _object(
        "What the operator made of the policy, with the same compile step the webhook "
        "enforces: Ready=True means it is enforced exactly as written.",
        {
            "observedGeneration": {
                "type": "integer",
                "format": "int64",
                "description": "The metadata.generation the status describes.",
            },
            "conditions": {
                "type": "array",
                "description": "Ready=True (reason Compiled) or Ready=False (reason "
                "Invalid, with the compile errors as the message).",
                "items": _condition(),
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
            },
            "exemptions": _object(
                "Dated spec.exclude entries to act on: those expiring within the "
                "operator's window (--exemption-window, 14 days by default) and those "
                "already expired (no longer applied).",
                {
                    "expiring": _list(
                        "Entries expiring within the window, soonest first.",
                        _expiry_entry(),
                        min_items=0,
                        maxItems=MAX_ITEMS,
                    ),
                    "expired": _list(
                        "Entries past their expires instant, oldest first.",
                        _expiry_entry(),
                        min_items=0,
                        maxItems=MAX_ITEMS,
                    ),
                },
            ),
        },
    )


def _expiry_entry() -> Schema:
    return _object(
        "One spec.exclude entry with an expires instant.",
        {
            "index": {
                "type": "integer",
                "minimum": 0,
                "description": "Its position in spec.exclude.",
            },
            "expires": _string("When it stops (stopped) applying.", format="date-time"),
            "reason": _string("Its reason, as written."),
        },
        required=("index", "expires"),
    )


# -- the definitions ---------------------------------------------------------------------

_PRINTER_COLUMNS: Final = [
    {
        "name": "Action",
        "type": "string",
        "jsonPath": ".spec.action",
        "description": "Deny, Warn or Audit",
    },
    {
        "name": "Profile",
        "type": "string",
        "jsonPath": ".spec.profile.level",
        "description": "The Pod Security Standard enforced, if any",
    },
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        "description": "Whether the policy compiled and is enforced",
    },
    {
        "name": "Reason",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].reason',
        "priority": 1,
        "description": "Compiled or Invalid",
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def _definition(
    *, kind: str, plural: str, short: str, scope: str, description: str
) -> dict[str, Any]:
    namespaced = scope == "Namespaced"
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{GROUP}",
            "labels": {
                "app.kubernetes.io/name": "bulkhead",
                "app.kubernetes.io/part-of": "bulkhead",
            },
        },
        "spec": {
            "group": GROUP,
            "scope": scope,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": [short],
                "categories": ["bulkhead", "policy"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": list(_PRINTER_COLUMNS),
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": description,
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": _string(
                                    "The versioned schema of this object: bulkhead.dev/v1alpha1."
                                ),
                                "kind": _string(f"The object's kind: {kind}."),
                                "metadata": {"type": "object"},
                                "spec": _spec(namespaced=namespaced),
                                "status": _status(),
                            },
                        }
                    },
                }
            ],
        },
    }


def cluster_definition() -> dict[str, Any]:
    """The ``ClusterContainerPolicy`` CRD (cluster-scoped, short name ``ccp``)."""
    return _definition(
        kind=model.CLUSTER_KIND,
        plural="clustercontainerpolicies",
        short="ccp",
        scope="Cluster",
        description="A container-security policy for the whole cluster: a Pod Security "
        "Standard, Bulkhead's own rules, or both, enforced by the Bulkhead admission "
        "webhook on every pod-bearing object its match selects.",
    )


def namespaced_definition() -> dict[str, Any]:
    """The ``ContainerPolicy`` CRD (namespaced, short name ``cp``)."""
    return _definition(
        kind=model.NAMESPACED_KIND,
        plural="containerpolicies",
        short="cp",
        scope="Namespaced",
        description="A container-security policy for one namespace: it applies only to "
        "objects in its own namespace and can only add restrictions.",
    )


def definitions() -> dict[str, dict[str, Any]]:
    """Every CRD by its file name under ``manifests/crds/``."""
    out: dict[str, dict[str, Any]] = {}
    for build in (cluster_definition, namespaced_definition):
        crd = build()
        out[f"{crd['metadata']['name']}.yaml"] = crd
    return out


#: Resource names of the two kinds, for RBAC and watches.
PLURALS: Final[Mapping[str, str]] = {
    model.CLUSTER_KIND: "clustercontainerpolicies",
    model.NAMESPACED_KIND: "containerpolicies",
}
