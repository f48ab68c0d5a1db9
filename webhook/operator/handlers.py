"""kopf handlers that keep each policy's status. kopf patches; the handlers get Secrets.

``register(registry, context=...)`` adds one ``@kopf.on.event``
handler per policy kind to an explicit ``kopf.OperatorRegistry`` (nothing
registers at import). On every event of a ``ClusterContainerPolicy`` or
``ContainerPolicy``, including the initial listing after a (re)start, the
handler reads the Secrets its ``keySecrets`` name (``keysecrets.resolve``),
compiles the object with them and the webhook's compile step
(``status.desired``) and, only when the result differs from the object's
status, has kopf merge-patch ``status`` through the status subresource
(``exclusions`` and ``trustedKeys`` included), and keeps the policy's
earliest-expiry metric.
Raw event handlers keep no state of their own on the objects (no
annotations, no finalizers), so a restarted operator simply recomputes.

Handler logs are not posted as Events (kopf's posting level is ERROR); a
transition posts one Kubernetes Event on the policy (``transitions``), on a
worker thread so the handler's loop is not held.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from typing import Any, Final

import kopf

from webhook import kube, policy
from webhook.operator import expiry, keysecrets, status, transitions
from webhook.policy import crds

_LOG: Final = logging.getLogger("bulkhead.operator.policies")
GROUP: Final = crds.GROUP
VERSION: Final = crds.VERSION


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What the handlers need besides the object."""

    latest_minor: int
    expiry_window: datetime.timedelta
    transitions: transitions.Transitions
    gauge: expiry.Gauge
    #: reads the Secrets of ``keySecrets``
    api: kube.Api


async def policy_event(
    *,
    type: str | None,  # kopf passes the event type by this name
    body: kopf.Body,
    patch: kopf.Patch,
    param: Any = None,
    **_: Any,
) -> None:
    """Write the status ``status.desired`` computes, if it differs from the current one."""
    context: Context = param
    document = dict(body)
    key = policy.policy_key(document)
    if type == "DELETED" or body.metadata.get("deletionTimestamp"):
        context.gauge.forget(key)
        return
    references = keysecrets.references(document, latest_minor=context.latest_minor)
    try:
        trusted_keys = await asyncio.to_thread(keysecrets.resolve, context.api, references)
    except kube.ApiError as err:
        # Status stays as it is; the key Secret sweep writes it once the API answers.
        _LOG.warning("%s: key Secrets could not be read, status unchanged: %s", key, err)
        return
    outcome = status.desired(
        document,
        latest_minor=context.latest_minor,
        now=datetime.datetime.now(datetime.UTC),
        expiry_window=context.expiry_window,
        trusted_keys=trusted_keys,
    )
    context.gauge.observe(key, outcome.earliest_expiry)
    if not status.needs_patch(document.get("status"), outcome):
        return
    for field, value in status.patch(outcome).items():
        patch.status[field] = value
    await asyncio.to_thread(context.transitions.announce, document, outcome)


def register(registry: kopf.OperatorRegistry, *, context: Context) -> None:
    """Add the status handlers for both policy kinds to ``registry``."""
    for kind, plural in crds.PLURALS.items():
        kopf.on.event(
            GROUP,
            VERSION,
            plural,
            id=f"status-{kind}",
            param=context,
            registry=registry,
        )(policy_event)
