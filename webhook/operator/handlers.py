"""kopf handlers that keep each policy's status. kopf patches; Events go through ``kube.events``.

``register(registry, context=...)`` adds one ``@kopf.on.event``
handler per policy kind to an explicit ``kopf.OperatorRegistry`` (nothing
registers at import). On every event of a ``ClusterContainerPolicy`` or
``ContainerPolicy``, including the initial listing after a (re)start, the
handler reads the Secrets its ``keySecrets`` name (``keysecrets.resolve``),
compiles the object with them and the webhook's compile step
(``status.desired``) and, only when the result differs from the object's
status, has kopf merge-patch ``status`` through the status subresource
(``exclusions`` and ``trustedKeys`` included), and keeps the policy's earliest-expiry metric.
Raw event handlers keep no state of their own on the objects (no
annotations, no finalizers), so a restarted operator simply recomputes.

Handler logs are not posted as Events (kopf's posting level is ERROR); a
transition posts one Kubernetes Event on the policy: ``Compiled``
(Normal) when it becomes Ready, ``Invalid`` or ``KeysUnresolved`` (Warning)
with the problems when it stops being Ready. They are posted with
``webhook.kube.events``, not kopf (which files the Events of a cluster-scoped object under the
operator's namespace, where ``kubectl describe`` never looks), on a worker
thread so the handler's loop is not held.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import threading
from typing import Any, Final

import kopf

from webhook import kube, policy
from webhook.kube import events
from webhook.operator import expiry, keysecrets, status
from webhook.policy import crds

_LOG: Final = logging.getLogger("bulkhead.operator.policies")
GROUP: Final = crds.GROUP
VERSION: Final = crds.VERSION
COMPONENT: Final = "bulkhead-operator"


class Transitions:
    """Posts the Event of each policy transition, one at a time, off the event loop."""

    def __init__(self, api: kube.Api) -> None:
        self._poster = events.Poster(api, component=COMPONENT)
        self._lock = threading.Lock()

    def _post(self, note: events.Note) -> None:
        with self._lock:
            try:
                self._poster.post(note)
            except kube.ApiError as err:
                _LOG.info("could not post event %s: %s", note.reason, err)

    async def post(self, body: kopf.Body, *, reason: str, kind: str, message: str) -> None:
        metadata = body.metadata
        note = events.Note(
            involved=events.Involved(
                api_version=str(body.get("apiVersion") or f"{GROUP}/{VERSION}"),
                kind=str(body.get("kind") or ""),
                name=str(metadata.name or ""),
                namespace=metadata.namespace or None,
                uid=metadata.uid or None,
            ),
            key=f"{reason}\0{metadata.get('generation')}",
            reason=reason,
            message=message,
            type=kind,
        )
        await asyncio.to_thread(self._post, note)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What the handlers need besides the object."""

    latest_minor: int
    expiry_window: datetime.timedelta
    transitions: Transitions
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
    outcome = status.desired(
        document,
        latest_minor=context.latest_minor,
        now=datetime.datetime.now(datetime.UTC),
        expiry_window=context.expiry_window,
        trusted_keys=await asyncio.to_thread(keysecrets.resolve, context.api, references),
    )
    context.gauge.observe(key, outcome.earliest_expiry)
    if not status.needs_patch(document.get("status"), outcome):
        return
    for field, value in status.patch(outcome).items():
        patch.status[field] = value
    if outcome.transitioned:
        if outcome.ready:
            _LOG.info("%s is Ready: %s", key, outcome.message)
            await context.transitions.post(
                body, kind="Normal", reason=status.COMPILED, message=outcome.message
            )
        else:
            _LOG.warning("%s is Invalid: %s", key, outcome.message.replace("\n", "; "))
            await context.transitions.post(
                body, kind="Warning", reason=outcome.reason, message=outcome.message
            )


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
