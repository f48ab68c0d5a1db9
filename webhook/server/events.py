"""PolicyViolation Events for Warn and Audit admission decisions, off the request path. Network I/O.

The review path (in the front, which judges small reviews itself, and in
the workers) only calls ``Emitter.offer(request, decision, policies)``:
when the decision holds violations of Warn or Audit policies (a Deny is
answered to the requester; a dry run changes nothing) it puts them on a
bounded queue and returns; when the queue is full the review's Events are
dropped and counted. Everything else happens on the emitter's daemon thread:

* a Warning Event, reason ``PolicyViolation``, on the reviewed object, one
  per object, policy, check and field path (``webhook.kube.events``): the same
  violation again (the object updated) adds to that Event's ``count``;
* for a ``ClusterContainerPolicy``, an Event on the policy too (in
  ``default``, where ``kubectl describe clustercontainerpolicy`` finds it),
  so its owner sees what it would refuse before switching it to Deny; the
  Pods of one controller count on one such Event (named after the
  controller: its replicas are one finding, not one Event each);
* at most ``rate`` Events per second (a burst of ``burst``): a storm of
  Pods all breaking one Warn policy costs the apiserver a bounded trickle.

Events still queued when the process ends are not posted.

Only a webhook that watches the cluster posts (it has the credentials); a
webhook serving policy files has no cluster to tell.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple

from webhook import admission, jsonlogs, kube, policy
from webhook.admission import messages, review
from webhook.kube import events

REASON: Final = "PolicyViolation"
COMPONENT: Final = "bulkhead-webhook"
#: The actions whose violations become Events (a Deny is the requester's answer).
ACTIONS: Final = frozenset({"Warn", "Audit"})
RATE: Final = 5.0
BURST: Final = 50
QUEUE: Final = 1000
_LOG: Final = jsonlogs.logger("events")


class Facts(NamedTuple):
    """What the thread needs of the reviewed object (a tuple: cheap on the review path)."""

    api_version: str
    kind: str
    name: str
    namespace: str | None
    uid: str | None
    #: ``Kind ns/name`` of its controller when it has one, else of itself
    origin: str


#: What the thread needs of one review: the object, and the violations to tell.
_Offer = tuple[Facts, tuple[messages.Violation, ...], tuple[policy.CompiledPolicy, ...]]


def facts(request: review.Request) -> Facts | None:
    """The reviewed object's ``Facts`` (``None`` when it has no name yet)."""
    if not request.name:
        return None
    metadata = (request.object or {}).get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    uid = metadata.get("uid")
    kind, name = request.kind, request.name
    owners = metadata.get("ownerReferences")
    for owner in owners if isinstance(owners, list) else ():
        if isinstance(owner, dict) and owner.get("controller") is True:
            kind, name = str(owner.get("kind")), str(owner.get("name"))
            break
    where = f"{request.namespace}/{name}" if request.namespace else name
    return Facts(
        f"{request.group}/v1" if request.group else "v1",  # every pod-bearing kind is v1
        request.kind,
        request.name,
        request.namespace,
        uid if isinstance(uid, str) and uid else None,
        f"{kind} {where}",
    )


def involved(found: Facts) -> events.Involved:
    """The reviewed object as its Events name it."""
    return events.Involved(
        api_version=found.api_version,
        kind=found.kind,
        name=found.name,
        namespace=found.namespace,
        uid=found.uid,
    )


def notes(
    found: Facts,
    violations: Sequence[messages.Violation],
    policies: Sequence[policy.CompiledPolicy],
) -> list[events.Note]:
    """The Events for ``violations`` of the object: on it, and on each cluster policy broken.

    The cluster policy's Events name the object's controller when it has one.
    """
    target, label = involved(found), found.origin
    by_key = {p.key: p for p in policies}
    out: list[events.Note] = []
    for violation in violations:
        finding = violation.finding
        text = (
            f"[{finding.check}] {finding.path}: {finding.message}. Fix: {finding.fix} "
            f"(admitted by the {violation.action} policy)"
        )
        out.append(
            events.Note(
                involved=target,
                key="\0".join((violation.policy, finding.check, finding.path)),
                reason=REASON,
                message=f"{violation.policy} ({violation.action}): {text}",
                action=violation.action,
            )
        )
        owner = by_key.get(violation.policy)
        if owner is not None and owner.namespace is None:
            out.append(
                events.Note(
                    involved=events.Involved(
                        api_version=policy.API_VERSION,
                        kind=owner.kind,
                        name=owner.name,
                        namespace=None,
                        uid=owner.uid,
                    ),
                    key="\0".join((label, finding.check, finding.path)),
                    reason=REASON,
                    message=f"{label} ({violation.action}): {text}",
                    action=violation.action,
                )
            )
    return out


def start(kubeconfig: str | None) -> Emitter:
    """An ``Emitter`` posting with the webhook's credentials, started."""
    started = Emitter(kube.Api(kube.client_configuration(kubeconfig=kubeconfig)))
    started.start()
    return started


class Emitter:
    """The queue and the thread that posts from it (see the module docstring)."""

    def __init__(
        self,
        api: kube.Api,
        *,
        rate: float = RATE,
        burst: int = BURST,
        limit: int = QUEUE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._poster = events.Poster(api, component=COMPONENT, monotonic=monotonic)
        self._rate = rate
        self._burst = float(burst)
        self._monotonic = monotonic
        self._queue: queue.SimpleQueue[_Offer] = queue.SimpleQueue()
        self._limit = limit
        self._thread = threading.Thread(target=self._run, name="bulkhead-events", daemon=True)
        self.posted = 0
        self.dropped = 0
        self.failed = 0

    @property
    def pending(self) -> int:
        """Reviews queued and not yet told."""
        return self._queue.qsize()

    def start(self) -> None:
        """Start posting, on a daemon thread that ends with the process."""
        self._thread.start()

    def offer(
        self,
        request: review.Request,
        decision: admission.Decision,
        policies: tuple[policy.CompiledPolicy, ...],
    ) -> None:
        """Queue the Events ``decision`` calls for; never blocks, never raises."""
        if not decision.violations or not decision.allowed or request.dry_run:
            return
        told = tuple(v for v in decision.violations if v.action in ACTIONS)
        if not told:
            return
        found = facts(request)
        if found is None:
            return
        if self._queue.qsize() >= self._limit:
            self.dropped += 1
            return
        self._queue.put((found, told, policies))

    def _run(self) -> None:
        tokens, last = self._burst, self._monotonic()
        while True:
            for note in notes(*self._queue.get()):
                now = self._monotonic()
                tokens = min(self._burst, tokens + (now - last) * self._rate)
                last = now
                if tokens < 1.0:
                    time.sleep((1.0 - tokens) / self._rate)
                    tokens, last = 1.0, self._monotonic()
                tokens -= 1.0
                try:
                    self._poster.post(note)
                except kube.ApiError as err:
                    self.failed += 1
                    _LOG.info(
                        "could not post a policy violation event",
                        extra=jsonlogs.fields(event=note.name, error=str(err)),
                    )
                    continue
                self.posted += 1
