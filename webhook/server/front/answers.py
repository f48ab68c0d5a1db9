"""The answers the front makes itself: status lines and JSON bodies. No I/O.

A request the front cannot read (408, 413, 431, ...) or one it answers
without the app (``/healthz``, ``/readyz`` while stopping, a 404 on the
probe port) gets a JSON body; a refusal's body is an AdmissionReview that
allows nothing, like every refusal the app makes.
"""

from __future__ import annotations

import json
from typing import Final

from webhook.admission import review

#: An HTTP answer: status line, headers (without length or connection), body.
Answer = tuple[str, tuple[tuple[str, str], ...], bytes]

_STATUS_LINES: Final = {
    200: "200 OK",
    400: "400 Bad Request",
    404: "404 Not Found",
    408: "408 Request Timeout",
    413: "413 Payload Too Large",
    414: "414 URI Too Long",
    431: "431 Request Header Fields Too Large",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}
_JSON: Final = (("Content-Type", "application/json"),)


def json_answer(status: int, body: object) -> Answer:
    """A status line, headers and JSON body for an answer the front makes itself."""
    return (
        _STATUS_LINES.get(status, f"{status} Error"),
        _JSON,
        json.dumps(body, separators=(",", ":")).encode(),
    )


def refusal(status: int, message: str) -> Answer:
    """An HTTP error whose body is an AdmissionReview that allows nothing."""
    return json_answer(status, review.response("", allowed=False, code=status, message=message))
