"""The Event posted when a policy's readiness flips. Network I/O (through ``kube.events``).

``Transitions.announce(document, outcome)`` logs a transition that
``status.desired`` found and posts one Kubernetes Event on the policy:
``Compiled`` (Normal) when it becomes Ready, ``Invalid`` or
``KeysUnresolved`` (Warning) with the problems when it stops being Ready.
It is called by the policy handlers and by the key Secret sweep (a Secret
that appears, breaks or is fixed flips readiness with no edit of the
policy). Events go through ``webhook.kube.events``, not kopf, which files
the Events of a cluster-scoped object under the operator's namespace, where
``kubectl describe`` never looks; one at a time, from worker threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, Final

from webhook import kube, policy
from webhook.kube import events
from webhook.operator import status
from webhook.policy import crds

_LOG: Final = logging.getLogger("bulkhead.operator.policies")
COMPONENT: Final = "bulkhead-operator"


class Transitions:
    """Posts the Event of each policy transition, one at a time."""

    def __init__(self, api: kube.Api) -> None:
        self._poster = events.Poster(api, component=COMPONENT)
        self._lock = threading.Lock()

    def announce(self, document: Mapping[str, Any], outcome: status.Outcome) -> None:
        """Log and post ``outcome``'s transition (nothing when it is none); blocks while posting."""
        if not outcome.transitioned:
            return
        key = policy.policy_key(document)
        if outcome.ready:
            _LOG.info("%s is Ready: %s", key, outcome.message)
        else:
            _LOG.warning(
                "%s is not Ready (%s): %s", key, outcome.reason, outcome.message.replace("\n", "; ")
            )
        metadata = document.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        note = events.Note(
            involved=events.Involved(
                api_version=str(document.get("apiVersion") or f"{crds.GROUP}/{crds.VERSION}"),
                kind=str(document.get("kind") or ""),
                name=str(metadata.get("name") or ""),
                namespace=metadata.get("namespace") or None,
                uid=metadata.get("uid") or None,
            ),
            key=f"{outcome.reason}\0{metadata.get('generation')}",
            reason=outcome.reason,
            message=outcome.message,
            type="Normal" if outcome.ready else "Warning",
        )
        with self._lock:
            try:
                self._poster.post(note)
            except kube.ApiError as err:
                _LOG.info("could not post event %s: %s", note.reason, err)
