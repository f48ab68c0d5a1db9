"""What a check reports: one finding per offending field. Pure values, no I/O."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule at one field.

    ``check`` is the check id (a key under ``spec.rules`` or a Pod Security
    Standards check id), ``path`` the full field path in the submitted object
    (``spec.template.spec.initContainers[0].securityContext.privileged``),
    ``message`` what is wrong and ``fix`` what to change. ``container`` and
    ``image`` name the container the field belongs to (``None`` for pod-level
    fields); exclusions by container name or image use them.
    """

    check: str
    path: str
    message: str
    fix: str
    container: str | None = None
    image: str | None = None
