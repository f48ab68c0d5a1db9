"""What one answer may carry: the AdmissionReview response, capped. Pure, no I/O.

An object with thousands of violations must not make an answer of
megabytes (the apiserver holds it, logs it and hands the warnings to the
client). Whatever the decision says, the encoded review is at most
``MAX_RESPONSE_BYTES``:

* at most ``MAX_WARNINGS`` warnings, then ``... and N more warnings``; every
  warning at most ``MAX_WARNING_CHARS`` characters (the decision already
  spells out only the first ``--findings-per-policy`` findings of each
  policy and sums up the others in one line per policy);
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
from webhook.admission import review
from webhook.server import compactjson

MAX_RESPONSE_BYTES: Final = 256 * 1024
MAX_WARNINGS: Final = 60
MAX_WARNING_CHARS: Final = 1024
MAX_MESSAGE_CHARS: Final = 64 * 1024
MAX_AUDIT_ENTRIES: Final = 100
_CUT: Final = " [cut]"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(_CUT)] + _CUT


def _warnings(warnings: Sequence[str], *, total: int) -> tuple[str, ...]:
    """The first ``total`` warnings, each clipped, then how many more there were."""
    kept = [_clip(w, MAX_WARNING_CHARS) for w in warnings[:total]]
    if len(warnings) > total:
        kept.append(f"... and {len(warnings) - total} more warnings")
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
            text = compactjson.text([*entries[:limit], {"omitted": len(entries) - limit}])
        bounded[key] = _clip(text, MAX_WARNING_CHARS * limit)
    return bounded


def _review(
    decision: admission.Decision,
    uid: str,
    *,
    message_chars: int,
    total: int,
    audit_entries: int,
) -> review.ReviewWire:
    return review.response(
        uid,
        allowed=decision.allowed,
        code=decision.code,
        message=_clip(decision.message, message_chars),
        warnings=_warnings(decision.warnings, total=total),
        audit_annotations=_annotations(decision.audit_annotations, audit_entries),
    )


def encoded_review(decision: admission.Decision, uid: str) -> bytes:
    """The AdmissionReview answering ``uid`` with ``decision``, as JSON of bounded size."""
    if not decision.warnings and not decision.audit_annotations and len(decision.message) < 4096:
        return compactjson.dumps(decision.to_review(uid))  # the common answer: small
    data = compactjson.dumps(
        _review(
            decision,
            uid,
            message_chars=MAX_MESSAGE_CHARS,
            total=MAX_WARNINGS,
            audit_entries=MAX_AUDIT_ENTRIES,
        )
    )
    if len(data) <= MAX_RESPONSE_BYTES:
        return data
    return compactjson.dumps(
        _review(decision, uid, message_chars=16 * 1024, total=10, audit_entries=10)
    )
