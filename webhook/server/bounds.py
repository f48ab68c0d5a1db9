"""What one answer may carry: the AdmissionReview response, capped. Pure, no I/O.

An object with thousands of violations must not make an answer of
megabytes (the apiserver holds it, logs it and hands the warnings to the
client). Whatever the decision says, the encoded review is at most
``MAX_RESPONSE_BYTES``:

* at most ``MAX_WARNINGS_PER_POLICY`` warnings per policy and
  ``MAX_WARNINGS`` in all, then one ``<policy>: ... and N more violations``
  line each; every warning at most ``MAX_WARNING_CHARS`` characters;
* the denial message at most ``MAX_MESSAGE_CHARS`` characters (the message
  itself already shows only the first lines and says how many more);
* the audit annotation lists at most ``MAX_AUDIT_ENTRIES`` violations and
  says how many it left out;
* and, should escaping still make the whole too large, a smaller cut of
  each (a message of 16 KiB and ten short warnings always fits).

Cutting never changes ``allowed`` or the status code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Final

from webhook import admission
from webhook.admission import messages, review

MAX_RESPONSE_BYTES: Final = 256 * 1024
MAX_WARNINGS_PER_POLICY: Final = 20
MAX_WARNINGS: Final = 60
MAX_WARNING_CHARS: Final = 1024
MAX_MESSAGE_CHARS: Final = 64 * 1024
MAX_AUDIT_ENTRIES: Final = 100
_ENCODE: Final = json.JSONEncoder(separators=(",", ":")).encode
_CUT: Final = " [cut]"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(_CUT)] + _CUT


def _warnings(
    warnings: Sequence[str],
    violations: Sequence[messages.Violation],
    *,
    per_policy: int,
    total: int,
) -> tuple[str, ...]:
    """The first warnings of each Warn policy, then how many more each had."""
    if len(warnings) <= per_policy and len(warnings) <= total:
        return tuple(_clip(w, MAX_WARNING_CHARS) for w in warnings)
    warned = [v for v in violations if v.action == "Warn"]
    if len(warned) != len(warnings):  # not one warning per Warn violation: cut by position
        kept = [_clip(w, MAX_WARNING_CHARS) for w in warnings[:total]]
        if len(warnings) > total:
            kept.append(f"... and {len(warnings) - total} more warnings")
        return tuple(kept)
    shown: dict[str, int] = {}
    hidden: dict[str, int] = {}
    kept = []
    for text, violation in zip(warnings, warned, strict=True):
        name = violation.policy
        if shown.get(name, 0) < per_policy and len(kept) < total:
            shown[name] = shown.get(name, 0) + 1
            kept.append(_clip(text, MAX_WARNING_CHARS))
        else:
            hidden[name] = hidden.get(name, 0) + 1
    kept.extend(
        _clip(f"{name}: ... and {count} more violations", MAX_WARNING_CHARS)
        for name, count in hidden.items()
    )
    return tuple(kept)


def _annotations(annotations: Mapping[str, str], limit: int) -> dict[str, str]:
    bounded: dict[str, str] = {}
    for key, value in annotations.items():
        try:
            entries = json.loads(value)
        except ValueError:
            entries = None
        text = value
        if isinstance(entries, list) and len(entries) > limit:
            text = _ENCODE([*entries[:limit], {"omitted": len(entries) - limit}])
        bounded[key] = _clip(text, MAX_WARNING_CHARS * limit)
    return bounded


def _review(
    decision: admission.Decision,
    uid: str,
    *,
    message_chars: int,
    per_policy: int,
    total: int,
    audit_entries: int,
) -> review.ReviewWire:
    return review.response(
        uid,
        allowed=decision.allowed,
        code=decision.code,
        message=_clip(decision.message, message_chars),
        warnings=_warnings(
            decision.warnings, decision.violations, per_policy=per_policy, total=total
        ),
        audit_annotations=_annotations(decision.audit_annotations, audit_entries),
    )


def encoded_review(decision: admission.Decision, uid: str) -> bytes:
    """The AdmissionReview answering ``uid`` with ``decision``, as JSON of bounded size."""
    if not decision.warnings and not decision.audit_annotations and len(decision.message) < 4096:
        return _ENCODE(decision.to_review(uid)).encode()
    data = _ENCODE(
        _review(
            decision,
            uid,
            message_chars=MAX_MESSAGE_CHARS,
            per_policy=MAX_WARNINGS_PER_POLICY,
            total=MAX_WARNINGS,
            audit_entries=MAX_AUDIT_ENTRIES,
        )
    ).encode()
    if len(data) <= MAX_RESPONSE_BYTES:
        return data
    return _ENCODE(
        _review(decision, uid, message_chars=16 * 1024, per_policy=5, total=10, audit_entries=10)
    ).encode()
