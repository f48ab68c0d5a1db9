"""The Pod Security Standards (baseline, restricted), versioned, as upstream enforces them.

Pure, no I/O. ``resolve(level, version)`` or ``parse("restricted:v1.30")``
gives a ``Profile`` whose ``evaluate(pod)`` returns findings whose check ids
are the upstream Pod Security check ids. ``reads_annotation(key)`` says
whether any check reads a pod annotation (the only metadata they read).
"""

from webhook.profiles.catalog import Check, Variant
from webhook.profiles.confinement import reads_annotation
from webhook.profiles.levels import (
    CHECKS,
    DEFAULT_LATEST_MINOR,
    LEVELS,
    NEWEST_MINOR,
    Profile,
    parse,
    parse_version,
    resolve,
)

__all__ = [
    "CHECKS",
    "DEFAULT_LATEST_MINOR",
    "LEVELS",
    "NEWEST_MINOR",
    "Check",
    "Profile",
    "Variant",
    "parse",
    "parse_version",
    "reads_annotation",
    "resolve",
]
