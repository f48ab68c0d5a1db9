"""Public keys in Secrets (``imageSignatures.keySecrets``) read into policy status. Network I/O.

``resolve(api, references)`` gets each named Secret (one GET by name: the
operator never lists or watches Secrets, so it holds none in memory and
needs only the ``get`` verb) and returns the ``status.trustedKeys`` entries:
``{namespace, name, key, keyId, pem}`` for a data key holding one PEM public
key, ``{namespace, name, key, error}`` for a Secret that is missing, may not
be read, lacks the key or holds anything else. Errors never quote the
Secret's data (a reference to ``cosign.key`` must not put a private key in
status or logs).

The policy handlers resolve on every policy event; ``sweep`` (run every
``--check-interval`` by ``sweeps.run``) re-reads the Secrets of every policy
that names some and patches the status whose keys changed, so a rotated, deleted or
fixed Secret shows in status (and so in what the webhook enforces) within
one interval.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from webhook import kube, policy
from webhook.operator import status, sweeps
from webhook.policy import key_secrets, signatures

_LOG: Final = logging.getLogger("bulkhead.operator.keysecrets")
#: A PEM public key is well under 1 KiB; a larger value is refused unread.
MAX_PEM_BYTES: Final = 16 * 1024

Entry = dict[str, str]


def references(
    document: Mapping[str, Any], *, latest_minor: int
) -> tuple[key_secrets.KeySecret, ...]:
    """The ``keySecrets`` of a policy object that compiles (none when it does not)."""
    compiled, _ = policy.compile_object(document, latest_minor=latest_minor)
    if compiled is None or compiled.image_signatures is None:
        return ()
    return compiled.image_signatures.key_secrets


def _secret(api: kube.Api, namespace: str, name: str) -> Mapping[str, Any] | str:
    """The Secret's ``data``, or why it cannot be had.

    Only an answer about the Secret (404, 403) is a reason; any other failure
    (the apiserver unreachable, overloaded) raises ``kube.ApiError``, so that
    trouble reaching the API never unresolves a key that was resolved: the
    status stays as it is until a later pass reads the Secret.
    """
    try:
        found = api.request("GET", f"/api/v1/namespaces/{namespace}/secrets/{name}")
    except kube.ApiError as err:
        if err.status == 404:
            return f"Secret {namespace}/{name} not found"
        if err.status == 403:
            return (
                f"the operator may not get Secret {namespace}/{name} (403 Forbidden): "
                "its ServiceAccount needs get on secrets there (the chart's "
                "operator.keySecrets grants it)"
            )
        raise
    data = found.get("data")
    return data if isinstance(data, Mapping) else {}


def _entry(reference: key_secrets.KeySecret, data: Mapping[str, Any] | str) -> Entry:
    entry = reference.as_status()
    if isinstance(data, str):
        return {**entry, "error": data}
    where = f"Secret {reference.namespace}/{reference.name}"
    raw = data.get(reference.key)
    if not isinstance(raw, str):
        keys = ", ".join(sorted(str(k) for k in data)) or "none"
        return {**entry, "error": f"{where} has no data key {reference.key} (its keys: {keys})"}
    try:
        text = base64.b64decode(raw, validate=True)
    except binascii.Error:
        return {**entry, "error": f"data key {reference.key} of {where} is not base64"}
    if len(text) > MAX_PEM_BYTES:
        return {
            **entry,
            "error": f"data key {reference.key} of {where} holds {len(text)} bytes, "
            f"more than a public key ({MAX_PEM_BYTES} at most)",
        }
    key = signatures.read_key(text.decode("utf-8", errors="replace"))
    if isinstance(key, str):
        return {**entry, "error": f"data key {reference.key} of {where} {key}"}
    # Written afresh from the DER, in the usual 64-column armour: nothing else of the value.
    body = base64.b64encode(key.der).decode()
    lines = "".join(f"{body[at : at + 64]}\n" for at in range(0, len(body), 64))
    pem = f"-----BEGIN PUBLIC KEY-----\n{lines}-----END PUBLIC KEY-----\n"
    return {**entry, "keyId": key.id, "pem": pem}


def resolve(api: kube.Api, references: Sequence[key_secrets.KeySecret]) -> list[Entry]:
    """The ``status.trustedKeys`` entries of ``references``, in order; each Secret got once.

    ``kube.ApiError`` when a Secret could not be asked for (see ``_secret``).
    """
    secrets: dict[tuple[str, str], Mapping[str, Any] | str] = {}
    entries: list[Entry] = []
    for reference in references:
        where = (reference.namespace, reference.name)
        if where not in secrets:
            secrets[where] = _secret(api, reference.namespace, reference.name)
        entries.append(_entry(reference, secrets[where]))
    return entries


def sweep(
    api: kube.Api,
    *,
    latest_minor: int,
    window: datetime.timedelta,
    now: datetime.datetime,
    announce: Callable[[Mapping[str, Any], status.Outcome], None],
) -> int:
    """Re-read the Secrets of every policy naming some; patch the statuses that changed.

    ``announce`` is told each patched outcome (``transitions.Transitions.announce``:
    a readiness that flipped gets its Event).
    """
    patched = 0
    for plural, item in sweeps.policies(api):
        named = references(item, latest_minor=latest_minor)
        if not named:
            continue
        outcome = status.desired(
            item,
            latest_minor=latest_minor,
            now=now,
            expiry_window=window,
            trusted_keys=resolve(api, named),
        )
        if not status.needs_patch(item.get("status"), outcome):
            continue
        _LOG.info("%s: keySecrets changed: %s", policy.policy_key(item), outcome.message)
        api.request(
            "PATCH",
            sweeps.status_path(item, plural),
            body={"status": status.patch(outcome)},
            content_type="application/merge-patch+json",
        )
        announce(item, outcome)
        patched += 1
    return patched
