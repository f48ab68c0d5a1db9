"""PolicyViolation Events for Warn and Audit admission decisions, off the request path. Network I/O.

The review path only calls ``Emitter.offer(request, decision, policies)``:
when the decision holds violations of Warn or Audit policies (a Deny is
answered to the requester; a dry run changes nothing) it appends them to a
bounded queue and returns; when the queue is full the offer is dropped and
counted. Everything else happens on the emitter's daemon thread:

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

Only a webhook that watches the cluster posts (it has the credentials); a
webhook serving policy files has no cluster to tell.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final

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

#: What the thread needs of one review: the object, and the violations to tell.
_Offer = tuple[
    events.Involved, str, tuple[messages.Violation, ...], tuple[policy.CompiledPolicy, ...]
]


def involved(request: review.Request) -> events.Involved | None:
    """The reviewed object as an Event names it (``None`` when it has no name yet)."""
    if not request.name:
        return None
    metadata = (request.object or {}).get("metadata")
    uid = metadata.get("uid") if isinstance(metadata, dict) else None
    return events.Involved(
        api_version=f"{request.group}/v1" if request.group else "v1",  # every pod-bearing kind
        kind=request.kind,
        name=request.name,
        namespace=request.namespace,
        uid=uid if isinstance(uid, str) and uid else None,
    )


def origin(request: review.Request) -> str:
    """``Kind ns/name`` of the object's controller when it has one, else of the object."""
    metadata = (request.object or {}).get("metadata")
    owners = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    kind, name = request.kind, request.name
    for owner in owners if isinstance(owners, list) else ():
        if isinstance(owner, dict) and owner.get("controller") is True:
            kind, name = str(owner.get("kind")), str(owner.get("name"))
            break
    return f"{kind} {request.namespace}/{name}" if request.namespace else f"{kind} {name}"


def notes(
    target: events.Involved,
    label: str,
    violations: Sequence[messages.Violation],
    policies: Sequence[policy.CompiledPolicy],
) -> list[events.Note]:
    """The Events for ``violations`` of ``target``: on it, and on each cluster policy broken.

    ``label`` names the object (or its controller) in the cluster policy's Events.
    """
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


class Emitter:
    """The queue and the thread that posts from it (see the module docstring)."""

    def __init__(
        self,
        api: kube.Api,
        *,
        rate: float = RATE,
        burst: int = BURST,
        queue: int = QUEUE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._poster = events.Poster(api, component=COMPONENT, monotonic=monotonic)
        self._rate = rate
        self._burst = float(burst)
        self._monotonic = monotonic
        self._queue: collections.deque[_Offer] = collections.deque()
        self._limit = queue
        self._ready = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="bulkhead-events", daemon=True)
        self.posted = 0
        self.dropped = 0
        self.failed = 0

    @property
    def pending(self) -> int:
        """Reviews queued and not yet told."""
        with self._ready:
            return len(self._queue)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._ready:
            self._stopped = True
            self._ready.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def offer(
        self,
        request: review.Request,
        decision: admission.Decision,
        policies: tuple[policy.CompiledPolicy, ...],
    ) -> None:
        """Queue the Events ``decision`` calls for; never blocks, never raises."""
        told = tuple(v for v in decision.violations if v.action in ACTIONS)
        if not told or not decision.allowed or request.dry_run:
            return
        target = involved(request)
        if target is None:
            return
        with self._ready:
            if len(self._queue) >= self._limit:
                self.dropped += len(told)
                return
            self._queue.append((target, origin(request), told, policies))
            self._ready.notify()

    def _take(self) -> _Offer | None:
        with self._ready:
            while not self._queue and not self._stopped:
                self._ready.wait()
            return None if self._stopped else self._queue.popleft()

    def _run(self) -> None:
        tokens, last = self._burst, self._monotonic()
        while (offer := self._take()) is not None:
            for note in notes(*offer):
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
