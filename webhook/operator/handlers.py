"""kopf handlers that keep each policy's status. No I/O of its own (kopf patches and posts).

``register(registry, latest_minor=...)`` adds one ``@kopf.on.event``
handler per policy kind to an explicit ``kopf.OperatorRegistry`` (nothing
registers at import). On every event of a ``ClusterContainerPolicy`` or
``ContainerPolicy``, including the initial listing after a (re)start, the
handler compiles the object with the webhook's compile step
(``status.desired``) and, only when the result differs from the object's
status, has kopf merge-patch ``status`` through the status subresource.
Raw event handlers keep no state of their own on the objects (no
annotations, no finalizers), so a restarted operator simply recomputes.

Handler logs are not posted as Events (kopf's posting level is ERROR); a
transition posts one Kubernetes Event on the policy: ``Compiled``
(Normal) when it becomes Ready, ``Invalid`` (Warning) with the problems
when it stops being enforceable.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any, Final

import kopf

from webhook import policy
from webhook.operator import status
from webhook.policy import crds

_LOG: Final = logging.getLogger("bulkhead.operator.policies")
GROUP: Final = crds.GROUP
VERSION: Final = crds.VERSION


async def policy_event(
    *,
    type: str | None,  # kopf passes the event type by this name
    body: kopf.Body,
    patch: kopf.Patch,
    param: Any = None,
    **_: Any,
) -> None:
    """Write the status ``status.desired`` computes, if it differs from the current one."""
    if type == "DELETED" or body.metadata.get("deletionTimestamp"):
        return
    document = dict(body)
    latest_minor = int(param)
    outcome = status.desired(
        document, latest_minor=latest_minor, now=datetime.datetime.now(datetime.UTC)
    )
    if not status.needs_patch(document.get("status"), outcome):
        return
    patch.status["observedGeneration"] = outcome.status.get("observedGeneration")
    patch.status["conditions"] = outcome.status["conditions"]
    if outcome.transitioned:
        key = policy.policy_key(document)
        if outcome.ready:
            _LOG.info("%s is Ready: %s", key, outcome.message)
            kopf.event(body, type="Normal", reason=status.COMPILED, message=outcome.message)
        else:
            _LOG.warning("%s is Invalid: %s", key, outcome.message.replace("\n", "; "))
            kopf.event(body, type="Warning", reason=status.INVALID, message=outcome.message)


def register(registry: kopf.OperatorRegistry, *, latest_minor: int) -> None:
    """Add the status handlers for both policy kinds to ``registry``."""
    for kind, plural in crds.PLURALS.items():
        kopf.on.event(
            GROUP,
            VERSION,
            plural,
            id=f"status-{kind}",
            param=latest_minor,
            registry=registry,
        )(policy_event)
