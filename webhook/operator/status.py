"""A policy object's status, from the one compile step. Pure, no I/O.

``desired(document, latest_minor=..., now=...)`` compiles the object with
``policy.compile`` (through ``policy.compile_object``, exactly as the webhook
does) and returns the status it should carry:

* ``observedGeneration``: the ``metadata.generation`` that was compiled;
* one condition, ``Ready``: ``True`` with reason ``Compiled`` and a
  one-line summary of what is enforced, or ``False`` with reason ``Invalid``
  and every compile problem (``path: reason``), one per line, or ``False``
  with reason ``KeysUnresolved`` when the policy compiles but a
  ``keySecrets`` reference is not resolved (the webhook enforces it, and
  denies every image its ``imageSignatures`` covers), one line per reference;
* ``trustedKeys``: the ``keySecrets`` the operator resolved (``trusted_keys``,
  ``operator.keysecrets``), kept as the object has them when not given.

* ``exclusions`` (only when there is something to say): the
  ``spec.exclude`` entries that expire within ``expiry_window`` of ``now``
  (``expiring``) and those already expired (``expired``), each with its
  index, ``expires`` and ``reason``, soonest first, so an admin renews or
  removes them before the workloads they cover start being refused.

``lastTransitionTime`` moves only when ``Ready``'s status flips, as
``metav1.Condition`` demands; ``needs_patch`` says whether the object's
current status differs from the desired one, so an unchanged policy is
never written again (the operator reacts to its own status writes too).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any, Final

from webhook import policy
from webhook.policy import key_secrets

READY: Final = "Ready"
COMPILED: Final = "Compiled"
INVALID: Final = "Invalid"
UNRESOLVED: Final = "KeysUnresolved"
#: The CRD caps a condition message at this many characters.
MAX_MESSAGE: Final = 32768
#: Exclusions expiring within this long are listed in status (the operator's default).
EXPIRY_WINDOW: Final = datetime.timedelta(days=14)


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """The status to write, and what changed since the current one."""

    status: dict[str, Any]
    ready: bool
    message: str
    transitioned: bool
    #: the Ready condition's reason
    reason: str = COMPILED
    #: when the policy's first exclusion expires (for the metric)
    earliest_expiry: datetime.datetime | None = None


def _timestamp(now: datetime.datetime) -> str:
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ready_condition(status: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if not isinstance(status, Mapping):
        return None
    conditions = status.get("conditions")
    if not isinstance(conditions, list):
        return None
    for condition in conditions:
        if isinstance(condition, Mapping) and condition.get("type") == READY:
            return condition
    return None


def generation(document: Mapping[str, Any]) -> int | None:
    metadata = document.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    value = metadata.get("generation")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _entry(exclusion: policy.Exclusion, expires: datetime.datetime) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": exclusion.index, "expires": _timestamp(expires)}
    if exclusion.reason:
        entry["reason"] = exclusion.reason
    return entry


def exclusions(
    compiled: policy.CompiledPolicy, *, now: datetime.datetime, window: datetime.timedelta
) -> dict[str, list[dict[str, Any]]] | None:
    """The ``exclusions`` status block: expiring within ``window``, and expired (or ``None``)."""
    dated = sorted(
        ((e.expires, e) for e in compiled.exclusions if e.expires is not None),
        key=lambda pair: (pair[0], pair[1].index),
    )
    expired = [_entry(e, at) for at, e in dated if at <= now]
    expiring = [_entry(e, at) for at, e in dated if now < at <= now + window]
    block = {"expiring": expiring, "expired": expired}
    return {k: v for k, v in block.items() if v} or None


def exclusions_patch(outcome: Outcome) -> dict[str, list[dict[str, Any]] | None] | None:
    """``status.exclusions`` as a merge patch: a list that is now empty is removed (``None``)."""
    block = outcome.status.get("exclusions")
    if block is None:
        return None
    return {name: block.get(name) for name in ("expiring", "expired")}


def patch(outcome: Outcome) -> dict[str, Any]:
    """The merge patch of ``status`` that writes ``outcome`` (absent blocks removed)."""
    return {
        "observedGeneration": outcome.status.get("observedGeneration"),
        "conditions": outcome.status["conditions"],
        "exclusions": exclusions_patch(outcome),
        key_secrets.STATUS_FIELD: outcome.status.get(key_secrets.STATUS_FIELD),
    }


def earliest_expiry(compiled: policy.CompiledPolicy) -> datetime.datetime | None:
    """When the policy's first exclusion expires (or expired); ``None`` if none ever does."""
    return min((e.expires for e in compiled.exclusions if e.expires is not None), default=None)


def desired(
    document: Mapping[str, Any],
    *,
    latest_minor: int,
    now: datetime.datetime,
    expiry_window: datetime.timedelta = EXPIRY_WINDOW,
    trusted_keys: list[dict[str, str]] | None = None,
) -> Outcome:
    """The status ``document`` should carry, judged by the same compile the webhook runs.

    ``trusted_keys`` (the operator's fresh reading of the policy's ``keySecrets``)
    replaces ``status.trustedKeys`` before compiling; ``None`` keeps the object's.
    """
    current = document.get("status")
    current = current if isinstance(current, Mapping) else {}
    if trusted_keys is not None:
        current = {**current, key_secrets.STATUS_FIELD: trusted_keys or None}
        document = {**document, "status": current}
    compiled, problems = policy.compile_object(document, latest_minor=latest_minor)
    observed = generation(document)
    unresolved = (
        compiled.image_signatures.unresolved if compiled and compiled.image_signatures else ()
    )
    if compiled is not None and unresolved:
        ready, reason, message = False, UNRESOLVED, "\n".join(unresolved)
    elif compiled is not None:
        ready, reason, message = True, COMPILED, policy.describe(compiled)
    else:
        ready, reason, message = False, INVALID, problems
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 20] + "\n... (truncated)"
    flag = "True" if ready else "False"
    previous = _ready_condition(document.get("status"))
    transitioned = previous is None or previous.get("status") != flag
    since = previous.get("lastTransitionTime") if previous is not None else None
    condition: dict[str, Any] = {
        "type": READY,
        "status": flag,
        "reason": reason,
        "message": message,
        "lastTransitionTime": _timestamp(now) if transitioned or not since else since,
    }
    if observed is not None:
        condition["observedGeneration"] = observed
    status: dict[str, Any] = {"conditions": [condition]}
    if observed is not None:
        status["observedGeneration"] = observed
    if current.get(key_secrets.STATUS_FIELD):
        status[key_secrets.STATUS_FIELD] = current[key_secrets.STATUS_FIELD]
    block = exclusions(compiled, now=now, window=expiry_window) if compiled is not None else None
    if block is not None:
        status["exclusions"] = block
    return Outcome(
        status=status,
        ready=ready,
        message=message,
        transitioned=transitioned,
        reason=reason,
        earliest_expiry=earliest_expiry(compiled) if compiled is not None else None,
    )


def needs_patch(current: Mapping[str, Any] | None, outcome: Outcome) -> bool:
    """Whether the object's status differs from ``outcome.status`` in anything we own."""
    if not isinstance(current, Mapping):
        return True
    wanted = outcome.status
    if current.get("observedGeneration") != wanted.get("observedGeneration"):
        return True
    if current.get("exclusions") != wanted.get("exclusions"):
        return True
    field = key_secrets.STATUS_FIELD
    if current.get(field) != wanted.get(field):
        return True
    condition = _ready_condition(current)
    return condition is None or dict(condition) != wanted["conditions"][0]
