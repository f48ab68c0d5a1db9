"""Trusted keys in Secrets: the ``keySecrets`` references, what the operator resolved. Pure, no I/O.

A policy names Secrets under ``spec.rules.imageSignatures``::

    keySecrets:
      - namespace: sigstore      # a ClusterContainerPolicy must say; a ContainerPolicy
        name: release-signing    #   may leave it out (its own) and may name no other
        key: cosign.pub          # the data key holding the PEM (default cosign.pub)

Nobody here reads a Secret. The operator reads each named Secret and writes
what it found into the policy's status, one entry per reference, under
``status.trustedKeys``::

    trustedKeys:
      - {namespace: sigstore, name: release-signing, key: cosign.pub,
         keyId: 3f2a..., pem: "-----BEGIN PUBLIC KEY-----..."}
      - {namespace: sigstore, name: old, key: cosign.pub,
         error: "Secret sigstore/old not found"}

``parse`` reads the references of a spec; ``resolutions`` reads that status
block back (leniently: it is the operator's output, and anything unreadable
in it just leaves a reference unresolved, which fails closed). Entries match
references by namespace, name and key; an entry no reference asks for is
ignored.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Final

from webhook.policy import names
from webhook.rules import config, openapi, registry

FIELD: Final = "keySecrets"
#: Where the operator writes the resolved keys, under ``status``.
STATUS_FIELD: Final = "trustedKeys"
FIELDS: Final = ("namespace", "name", "key")
#: The data key ``cosign generate-key-pair k8s://...`` writes the public key under.
DEFAULT_KEY: Final = "cosign.pub"
#: A Secret data key (``[-._a-zA-Z0-9]+``, at most 253 characters).
DATA_KEY: Final = r"[-._a-zA-Z0-9]+"
_DATA_KEY: Final = re.compile(DATA_KEY)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, order=True)
class KeySecret:
    """One ``keySecrets`` entry: the data ``key`` of Secret ``namespace/name``."""

    namespace: str
    name: str
    key: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name} key {self.key}"

    def as_status(self) -> dict[str, str]:
        """The identifying fields of its ``status.trustedKeys`` entry."""
        return {"namespace": self.namespace, "name": self.name, "key": self.key}


@dataclasses.dataclass(frozen=True, slots=True)
class Resolution:
    """What the operator found for one reference: the PEM text, or why there is none."""

    pem: str = ""
    error: str = ""


#: The OpenAPI schema of ``spec.rules.imageSignatures.keySecrets``.
SCHEMA: Final[openapi.Schema] = openapi.array(
    "Secrets holding trusted public keys (PEM, as cosign.pub). The operator reads them "
    "and writes the keys into status.trustedKeys, which the webhook trusts beside keys; "
    "until a Secret is resolved, the images this check covers are denied.",
    openapi.obj(
        "One public key in a Secret.",
        {
            "namespace": openapi.string(
                "The Secret's namespace: required in a ClusterContainerPolicy; a "
                "ContainerPolicy may only name its own (the default).",
                pattern=f"^{names.DNS_LABEL}$",
                maxLength=63,
            ),
            "name": openapi.string(
                "The Secret's name.", pattern=f"^{names.DNS_SUBDOMAIN}$", maxLength=253
            ),
            "key": openapi.string(
                f"The data key holding the PEM public key (default {DEFAULT_KEY}, as "
                "cosign generate-key-pair k8s://namespace/name writes it).",
                pattern=f"^{DATA_KEY}$",
                maxLength=253,
            ),
        },
        required=("name",),
    ),
    maxItems=16,
)


def parse(
    value: object, path: str, *, namespace: str | None, problems: config.Problems
) -> tuple[KeySecret, ...]:
    """The references of ``keySecrets``; ``namespace`` is a ContainerPolicy's own (else ``None``).

    Every bad entry is a problem at its own path; duplicates are kept once.
    """
    if not isinstance(value, list):
        problems.append(
            registry.Problem(
                path, f"must be a list of {{namespace, name, key}}, not {config.describe(value)}"
            )
        )
        return ()
    if not value:
        problems.append(registry.Problem(path, "must not be empty: leave it out, or name a Secret"))
        return ()
    found: list[KeySecret] = []
    for index, item in enumerate(value):
        at = f"{path}[{index}]"
        before = len(problems)
        entry = config.mapping(item, path=at, problems=problems, allowed=FIELDS)
        if entry is None:
            continue
        name = config.string(entry.get("name"), path=f"{at}.name", problems=problems)
        if name is not None and not names.is_dns_subdomain(name):
            problems.append(registry.Problem(f"{at}.name", f"{name!r} is not a valid Secret name"))
        key = DEFAULT_KEY
        if entry.get("key") is not None:
            key = config.string(entry["key"], path=f"{at}.key", problems=problems) or key
            if not _DATA_KEY.fullmatch(key) or len(key) > names.MAX_SUBDOMAIN:
                problems.append(
                    registry.Problem(
                        f"{at}.key", f"{key!r} is not a valid Secret data key ({DATA_KEY})"
                    )
                )
        where = _namespace(entry.get("namespace"), at=at, own=namespace, problems=problems)
        if len(problems) == before and where is not None and name is not None:
            reference = KeySecret(namespace=where, name=name, key=key)
            if reference not in found:
                found.append(reference)
    return tuple(found)


def _namespace(value: object, *, at: str, own: str | None, problems: config.Problems) -> str | None:
    path = f"{at}.namespace"
    if value is None:
        if own is None:
            problems.append(
                registry.Problem(
                    path, "required: a ClusterContainerPolicy must say which namespace"
                )
            )
        return own
    text = config.string(value, path=path, problems=problems)
    if text is None:
        return None
    if not names.is_dns_label(text):
        problems.append(registry.Problem(path, f"{text!r} is not a valid namespace name"))
        return None
    if own is not None and text != own:
        problems.append(
            registry.Problem(
                path,
                f"a ContainerPolicy may only name Secrets in its own namespace {own!r}, "
                f"not {text!r} (leave it out, or use a ClusterContainerPolicy)",
            )
        )
        return None
    return text


def resolutions(status: object) -> dict[KeySecret, Resolution]:
    """``status.trustedKeys`` of a policy object, by reference; unreadable entries are left out."""
    entries = status.get(STATUS_FIELD) if isinstance(status, Mapping) else None
    found: dict[KeySecret, Resolution] = {}
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping):
            continue
        fields = [entry.get(field) for field in (*FIELDS, "pem", "error")]
        if not all(isinstance(text, str | None) for text in fields):
            continue
        namespace, name, key, pem, error = (text or "" for text in fields)
        if namespace and name and key and (pem or error):
            reference = KeySecret(namespace=namespace, name=name, key=key)
            found[reference] = Resolution(pem=pem, error=error)
    return found
