"""The OpenAPI schema of a policy's ``spec``, from the compiler and the rules. Pure, no I/O.

``spec()`` is what both policy CRDs (``policy.crds``) hold under
``spec``. It is assembled from the tables the compiler reads
(``compiler.SPEC_FIELDS``, ``PROFILE_FIELDS``,
``scope_compiler.MATCH_FIELDS``, ``EXCLUSION_FIELDS``, ``selectors.FIELDS``,
the policy vocabulary in ``model``) and from the checks themselves: each rule carries the schema of
its value under ``spec.rules.<id>`` (``registry.Rule.value_schema``), as
does ``signatures`` for ``imageSignatures``. Building fails when a table
names a field the schema does not describe, or the other way round, so the
CRD and the compiler cannot drift apart silently.

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
from typing import Final

from webhook import profiles, rules
from webhook.policy import (
    compiler,
    model,
    names,
    network_policy,
    scope_compiler,
    selectors,
    signatures,
)
from webhook.rules import config, openapi

Schema = openapi.Schema

#: Longest list the schema admits where a CEL rule walks the items.
MAX_ITEMS: Final = 256
#: Most requirements in one label selector's ``matchExpressions``.
MAX_SELECTOR_ITEMS: Final = 64

#: A namespace or container name pattern, as ``scope_compiler._dns_label_pattern`` accepts it.
NAME_PATTERN: Final = rf"^({names.DNS_LABEL}|[-a-z0-9]*\*[-a-z0-9*]*)$"
#: ``latest`` or ``v1.N``, as ``profiles.parse_version`` accepts it.
VERSION_PATTERN: Final = r"^(latest|v1\.(0|[1-9][0-9]*))$"
#: A date (in force through that day, UTC) or an RFC 3339 timestamp.
EXPIRES_PATTERN: Final = config.EXPIRY_PATTERN
_LABEL_VALUE: Final = rf"^({names.LABEL_NAME})?$"
_LABEL_KEY: Final = rf"^({names.DNS_SUBDOMAIN}/)?{names.LABEL_NAME}$"
_KEY_MESSAGE: Final = "a valid label key ([prefix/]name, the name at most 63 characters)"


class DriftError(AssertionError):
    """The compiler's field tables and this schema disagree."""


def checked(what: str, built: Mapping[str, Schema], expected: Sequence[str]) -> dict[str, Schema]:
    """``built`` in the compiler's field order; raises when the two name different fields."""
    missing = [name for name in expected if name not in built]
    extra = [name for name in built if name not in expected]
    if missing or extra:
        raise DriftError(
            f"{what}: the compiler knows {missing or 'no'} fields the schema lacks, "
            f"the schema has {extra or 'no'} fields the compiler does not know"
        )
    return {name: built[name] for name in expected}


def _label_value() -> Schema:
    return openapi.string("A label value.", maxLength=63, pattern=_LABEL_VALUE)


def _label_selector(description: str) -> Schema:
    expression = openapi.obj(
        "A requirement on one label.",
        checked(
            "label selector expression",
            {
                "key": openapi.string(
                    "The label key the requirement applies to.", minLength=1, maxLength=317
                ),
                "operator": openapi.string(
                    "How the key relates to the values: In, NotIn, Exists or DoesNotExist.",
                    enum=list(selectors.OPERATORS),
                ),
                "values": openapi.array(
                    "Label values. Required and non-empty for In and NotIn; "
                    "must be left out (or empty) for Exists and DoesNotExist.",
                    _label_value(),
                    min_items=0,
                ),
            },
            selectors.EXPRESSION_FIELDS,
        ),
        required=("key", "operator"),
        validations=(
            openapi.cel(
                "self.operator in ['In', 'NotIn'] ? "
                "(has(self.values) && size(self.values) > 0) : "
                "(!has(self.values) || size(self.values) == 0)",
                "values must be non-empty for operator In and NotIn, "
                "and empty for Exists and DoesNotExist",
            ),
            openapi.cel(
                f"self.key.matches(r'{_LABEL_KEY}')",
                f"key must be {_KEY_MESSAGE}",
                fieldPath=".key",
            ),
        ),
    )
    return openapi.obj(
        description,
        checked(
            "label selector",
            {
                "matchLabels": {
                    "type": "object",
                    "description": "Labels that must all be present with exactly these values.",
                    "additionalProperties": _label_value(),
                    "maxProperties": openapi.MAX_PROPERTIES,
                    "x-kubernetes-validations": [
                        openapi.cel(
                            f"self.all(key, key.matches(r'{_LABEL_KEY}'))",
                            f"every key must be {_KEY_MESSAGE}",
                        )
                    ],
                },
                "matchExpressions": openapi.array(
                    "Requirements that must all hold.",
                    expression,
                    min_items=0,
                    maxItems=MAX_SELECTOR_ITEMS,
                ),
            },
            selectors.FIELDS,
        ),
    )


def _profile() -> Schema:
    return openapi.obj(
        "A built-in Pod Security Standard to enforce, judged exactly as upstream "
        "Pod Security Admission judges it.",
        checked(
            "spec.profile",
            {
                "level": openapi.string(
                    "The standard: baseline or restricted (privileged runs no check, "
                    "so it needs rules beside it).",
                    enum=list(profiles.LEVELS),
                ),
                "version": openapi.string(
                    "The policy version: latest, or v1.N to pin the checks of Kubernetes 1.N.",
                    pattern=VERSION_PATTERN,
                    default="latest",
                ),
            },
            compiler.PROFILE_FIELDS,
        ),
        required=("level",),
    )


def _rules() -> Schema:
    built = {rule_id: rule.value_schema() for rule_id, rule in rules.RULES.items()}
    built[signatures.ID] = signatures.SCHEMA
    built[network_policy.ID] = network_policy.DESCRIBED.value_schema()
    return openapi.obj(
        "Bulkhead's own checks, keyed by check id; each check's value switches it on "
        "and sets its parameters.",
        checked("spec.rules", built, model.RULE_IDS),
    )


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
                openapi.cel(
                    f"!has(self.{field})",
                    f"spec.match.{field} is not allowed in a ContainerPolicy: it always "
                    "applies to its own namespace (use a ClusterContainerPolicy to choose "
                    "namespaces)",
                    fieldPath=f".{field}",
                )
            )
    return openapi.obj(
        "Which requests the policy judges; every part left out matches everything.",
        checked(
            "spec.match",
            {
                "kinds": openapi.array(
                    "Kinds of submitted objects to judge (left out: every kind with a pod spec).",
                    openapi.string("A kind Bulkhead judges.", enum=list(model.MATCH_KINDS)),
                ),
                "namespaces": openapi.names(
                    "Namespaces to judge; '*' matches any run of characters." + namespace_note,
                    pattern=NAME_PATTERN,
                ),
                "namespaceSelector": _label_selector(
                    "Judge only objects whose namespace's labels match." + namespace_note
                ),
                "objectSelector": _label_selector("Judge only objects whose own labels match."),
            },
            scope_compiler.MATCH_FIELDS,
        ),
        validations=checks,
    )


def _exclusion(*, namespaced: bool) -> Schema:
    selectors_ = scope_compiler.EXCLUSION_SELECTORS
    any_selector = " || ".join(f"has(self.{name})" for name in selectors_)
    entry_checks = [
        openapi.cel(
            any_selector,
            "an exclusion entry selects nothing: give at least one of " + ", ".join(selectors_),
        )
    ]
    if namespaced:
        entry_checks.append(
            openapi.cel(
                "!has(self.namespaces)",
                "spec.exclude[].namespaces is not allowed in a ContainerPolicy: it always "
                "applies to its own namespace",
                fieldPath=".namespaces",
            )
        )
    checks = sorted(set(model.RULE_IDS) | model.POD_SECURITY_CHECK_IDS)
    built = {
        "namespaces": openapi.names(
            "Exempt requests in these namespaces ('*' matches any run of characters).",
            pattern=NAME_PATTERN,
        ),
        "usernames": openapi.names("Exempt requests by these users ('*' globs)."),
        "groups": openapi.names("Exempt requests by members of these groups ('*' globs)."),
        "images": openapi.names(
            "Exempt findings about these images (containers' and image volumes'), matched "
            "against the normalised reference registry/repository[:tag][@digest]; the pattern "
            "is normalised the same way (nginx* is docker.io/library/nginx*) and '*' matches "
            "any run of characters within one '/'-separated segment.",
            pattern=openapi.NO_WHITESPACE,
        ),
        "containers": openapi.names(
            "Exempt findings about containers with these names ('*' globs).",
            pattern=NAME_PATTERN,
        ),
        "checks": openapi.array(
            "Exempt only these checks: rule ids or Pod Security check ids.",
            openapi.string("A check id.", enum=checks),
        ),
        "reason": openapi.string(
            "Why the exclusion exists, shown in audit annotations and messages."
        ),
        "expires": openapi.string(
            "When the exclusion stops applying: a date (2027-01-31, in force through that "
            "day, UTC) or an RFC 3339 timestamp (2027-01-31T18:00:00Z).",
            pattern=EXPIRES_PATTERN,
        ),
    }
    return openapi.obj(
        "An exclusion: it exempts what every selector it gives matches. With only "
        "namespaces, usernames or groups it exempts whole requests; with images, "
        "containers or checks it exempts those findings.",
        checked("spec.exclude[]", built, scope_compiler.EXCLUSION_FIELDS),
        validations=entry_checks,
    )


def spec(*, namespaced: bool) -> Schema:
    """The schema of ``spec`` of a ``ContainerPolicy`` (``namespaced``) or a cluster policy."""
    scope = (
        "A ContainerPolicy applies only in its own namespace and can only add "
        "restrictions, never relax a cluster policy."
        if namespaced
        else "A ClusterContainerPolicy applies to every namespace its match selects."
    )
    built = {
        "action": openapi.string(
            "What a violation does: Deny refuses the request, Warn admits it with warnings, "
            "Audit admits it and records audit annotations.",
            enum=list(model.ACTIONS),
            default=model.DEFAULT_ACTION,
        ),
        "profile": _profile(),
        "rules": _rules(),
        "match": _match(namespaced=namespaced),
        "exclude": openapi.array(
            "Exclusions: requests or findings the policy does not judge.",
            _exclusion(namespaced=namespaced),
            min_items=0,
            maxItems=MAX_ITEMS,
        ),
    }
    return openapi.obj(
        f"What the policy enforces and where. {scope}",
        checked("spec", built, compiler.SPEC_FIELDS),
        validations=(
            openapi.cel(
                "has(self.profile) || has(self.rules)",
                "a policy must set spec.profile or spec.rules (or both)",
            ),
            openapi.cel(
                "!has(self.profile) || self.profile.level != 'privileged' || has(self.rules)",
                "profile level privileged enforces nothing: use baseline or restricted, "
                "or add spec.rules",
            ),
        ),
    )
