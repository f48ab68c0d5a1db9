"""A policy object's status, from the one compile step. Pure, no I/O.

``desired(document, latest_minor=..., now=...)`` compiles the object with
``policy.compile`` (through ``policy.compile_object``, exactly as the webhook
does) and returns the status it should carry:

* ``observedGeneration``: the ``metadata.generation`` that was compiled;
* one condition, ``Ready``: ``True`` with reason ``Compiled`` and a
  one-line summary of what is enforced, or ``False`` with reason ``Invalid``
  and every compile problem (``path: reason``), one per line.

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

READY: Final = "Ready"
COMPILED: Final = "Compiled"
INVALID: Final = "Invalid"
#: The CRD caps a condition message at this many characters.
MAX_MESSAGE: Final = 32768


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """The status to write, and what changed since the current one."""

    status: dict[str, Any]
    ready: bool
    message: str
    transitioned: bool


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


def desired(document: Mapping[str, Any], *, latest_minor: int, now: datetime.datetime) -> Outcome:
    """The status ``document`` should carry, judged by the same compile the webhook runs."""
    compiled, problems = policy.compile_object(document, latest_minor=latest_minor)
    observed = generation(document)
    if compiled is not None:
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
    return Outcome(status=status, ready=ready, message=message, transitioned=transitioned)


def needs_patch(current: Mapping[str, Any] | None, outcome: Outcome) -> bool:
    """Whether the object's status differs from ``outcome.status`` in anything we own."""
    if not isinstance(current, Mapping):
        return True
    wanted = outcome.status
    if current.get("observedGeneration") != wanted.get("observedGeneration"):
        return True
    condition = _ready_condition(current)
    return condition is None or dict(condition) != wanted["conditions"][0]
