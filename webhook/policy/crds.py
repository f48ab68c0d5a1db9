"""The two policy CRDs, with the schema generated from the policy model. Pure, no I/O.

``definitions()`` returns the ``CustomResourceDefinition`` objects for
``ClusterContainerPolicy`` (cluster-scoped, ``ccp``) and ``ContainerPolicy``
(namespaced, ``cp``), group ``bulkhead.dev``, version ``v1alpha1``: names,
printer columns (``kubectl get ccp`` shows action, profile and readiness),
the ``status`` the operator writes and the ``spec`` schema from
``policy.schema``. ``operator.crdfiles`` writes them to ``manifests/crds/``;
a unit test fails when the files are stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from webhook.policy import key_secrets, model, schema
from webhook.rules import openapi

Schema = openapi.Schema

GROUP: Final = model.GROUP
VERSION: Final = model.VERSION


def _condition() -> Schema:
    return openapi.obj(
        "One aspect of the policy's state (metav1.Condition).",
        {
            "type": openapi.string("The aspect: Ready.", maxLength=316),
            "status": openapi.string("True, False or Unknown.", enum=["True", "False", "Unknown"]),
            "observedGeneration": {
                "type": "integer",
                "format": "int64",
                "minimum": 0,
                "description": "The metadata.generation the condition was computed from.",
            },
            "lastTransitionTime": openapi.string(
                "When the status last changed.", format="date-time"
            ),
            "reason": openapi.string(
                "One CamelCase word: Compiled, Invalid or KeysUnresolved.",
                maxLength=1024,
                minLength=1,
            ),
            "message": openapi.string(
                "What the reason means here: the compile errors, one per line, each "
                "with the path of the field at fault.",
                maxLength=32768,
            ),
        },
        required=("type", "status", "lastTransitionTime", "reason", "message"),
    )


def _status() -> Schema:
    return openapi.obj(
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
                "Invalid, with the compile errors as the message, or KeysUnresolved, "
                "with the keySecrets not resolved).",
                "items": _condition(),
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
            },
            key_secrets.STATUS_FIELD: openapi.array(
                "The keys of spec.rules.imageSignatures.keySecrets as the operator last "
                "read them from their Secrets: each entry has the public key (keyId, pem) "
                "or the error that keeps it unresolved (and the policy not Ready).",
                _trusted_key(),
                min_items=0,
                maxItems=16,
            ),
            "exclusions": openapi.obj(
                "Dated spec.exclude entries to act on: those expiring within the "
                "operator's window (--exclusion-window, 14 days by default) and those "
                "already expired (no longer applied).",
                {
                    "expiring": openapi.array(
                        "Entries expiring within the window, soonest first.",
                        _expiry_entry(),
                        min_items=0,
                        maxItems=schema.MAX_ITEMS,
                    ),
                    "expired": openapi.array(
                        "Entries past their expires instant, oldest first.",
                        _expiry_entry(),
                        min_items=0,
                        maxItems=schema.MAX_ITEMS,
                    ),
                },
            ),
        },
    )


def _trusted_key() -> Schema:
    return openapi.obj(
        "One keySecrets reference, resolved or not.",
        {
            "namespace": openapi.string("The Secret's namespace."),
            "name": openapi.string("The Secret's name."),
            "key": openapi.string("The data key read."),
            "keyId": openapi.string(
                "The key's id: the first 16 hex digits of the SHA-256 of its DER "
                "SubjectPublicKeyInfo (messages name keys by it)."
            ),
            "pem": openapi.string("The public key, PEM.", maxLength=16384),
            "error": openapi.string("Why the key is not resolved.", maxLength=4096),
        },
        required=("namespace", "name", "key"),
    )


def _expiry_entry() -> Schema:
    return openapi.obj(
        "One spec.exclude entry with an expires instant.",
        {
            "index": {
                "type": "integer",
                "minimum": 0,
                "description": "Its position in spec.exclude.",
            },
            "expires": openapi.string("When it stops (stopped) applying.", format="date-time"),
            "reason": openapi.string("Its reason, as written."),
        },
        required=("index", "expires"),
    )


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
        "description": "Compiled, Invalid or KeysUnresolved",
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
                                "apiVersion": openapi.string(
                                    "The versioned schema of this object: bulkhead.dev/v1alpha1."
                                ),
                                "kind": openapi.string(f"The object's kind: {kind}."),
                                "metadata": {"type": "object"},
                                "spec": schema.spec(namespaced=namespaced),
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
