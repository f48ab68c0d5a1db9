"""Answers and log lines: compact JSON in ASCII, by orjson when it can."""

from __future__ import annotations

import json

import pytest

from webhook import admission
from webhook.server import bounds, compactjson


@pytest.mark.parametrize(
    "value",
    [
        {"apiVersion": "admission.k8s.io/v1", "response": {"uid": "u-1", "allowed": True}},
        {"message": 'quote " backslash \\ newline \n tab \t control \x01', "n": [1, -2, 3.5]},
        {"name": "jürgen", "emoji": "\U0001f600"},
        {"user": "\ud800"},
    ],
    ids=["ASCII", "escapes", "not ASCII", "a lone surrogate"],
)
def test_the_text_is_the_standard_librarys_compact_ascii_json(value: object) -> None:
    encoded = compactjson.dumps(value)
    assert encoded.isascii()
    assert encoded == json.dumps(value, separators=(",", ":")).encode()
    assert compactjson.text(value) == encoded.decode()


def test_a_denial_naming_something_outside_ascii_is_answered_in_ascii() -> None:
    decision = admission.Decision(allowed=False, code=403, message="Bulkhead denied Pod jürgen")
    data = bounds.encoded_review(decision, "u-1")
    assert data.isascii()
    assert json.loads(data)["response"]["status"]["message"] == "Bulkhead denied Pod jürgen"
