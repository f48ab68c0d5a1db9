"""What a ``spec.exclude`` entry exempts: a whole request, or single findings. Pure, no I/O.

An entry applies until its ``expires`` instant. It covers a request when
every request selector it gives (``namespaces``, ``usernames``, ``groups``)
matches; it covers a finding when, in addition, every finding selector it
gives (``checks``, ``containers``, ``images``) matches that finding. A
finding selector cannot match a finding that lacks the field (a pod-level
finding has no container and no image), so such an entry keeps it.
Entries are ORed: any one covering a finding drops it.

An ``images`` pattern is compared with the image's normalised reference
only (``nginx`` is ``docker.io/library/nginx:latest``), after the pattern is
normalised the same way, and ``*`` never crosses ``/`` there (the grammar is
in ``patterns``): ``nginx*`` and ``docker.io/library/nginx*`` both exempt
``nginx:1.27``, and neither exempts ``nginx.evil.example.com/miner:1``. An
image that cannot be parsed is exempted by no pattern.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from webhook.policy import model
from webhook.rules import findings


def aware(now: datetime.datetime) -> datetime.datetime:
    """``now`` with a time zone; a naive value is taken to be UTC."""
    return now if now.tzinfo is not None else now.replace(tzinfo=datetime.UTC)


def live(entry: model.Exclusion, *, now: datetime.datetime) -> bool:
    """Whether ``entry`` still applies at ``now`` (it stops at its ``expires`` instant)."""
    return entry.expires is None or aware(now) < entry.expires


def covers_request(
    entry: model.Exclusion, subject: model.Subject, *, now: datetime.datetime
) -> bool:
    """Whether ``entry`` is live and its request selectors all match ``subject``."""
    if not live(entry, now=now):
        return False
    if entry.namespaces is not None and (
        subject.namespace is None or not entry.namespaces.matches(subject.namespace)
    ):
        return False
    if entry.usernames is not None and not entry.usernames.matches(subject.username):
        return False
    return entry.groups is None or entry.groups.matches_any(subject.groups)


def covers_finding(entry: model.Exclusion, finding: findings.Finding) -> bool:
    """Whether the finding selectors of ``entry`` all match ``finding``."""
    if entry.checks is not None and finding.check not in entry.checks:
        return False
    if entry.containers is not None and (
        finding.container is None or not entry.containers.matches(finding.container)
    ):
        return False
    return entry.images is None or (
        finding.image is not None and entry.images.matches(finding.image)
    )


def drop_excluded(
    found: list[findings.Finding],
    entries: Iterable[model.Exclusion],
    *,
    subject: model.Subject,
    now: datetime.datetime,
) -> list[findings.Finding]:
    """``found`` without the findings some live entry covering ``subject`` exempts."""
    relevant: Sequence[model.Exclusion] = [
        e for e in entries if covers_request(e, subject, now=now)
    ]
    if not relevant:
        return found
    if any(e.whole_request for e in relevant):
        return []
    return [f for f in found if not any(covers_finding(e, f) for e in relevant)]
