"""Every kind of unusable request is refused with its status and a JSON body that allows nothing."""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any

import pytest

from devcluster import webhookserver
from tests.server import reviews

MiB = 1024 * 1024


def _refusal(status: int, headers: dict[str, str], raw: bytes, expected: int) -> dict[str, Any]:
    assert status == expected, raw[:500]
    assert headers.get("content-type", "").startswith("application/json")
    body: dict[str, Any] = json.loads(raw)
    assert body["response"]["allowed"] is False
    assert body["response"]["status"]["code"] == expected
    return body


def _valid() -> dict[str, Any]:
    return reviews.pod_review(namespace="deny-bad")


def _text(review: dict[str, Any]) -> str:
    return json.dumps(review)


def _with_request_field(key: str, value: Any) -> bytes:
    review = _valid()
    review["request"][key] = value
    return json.dumps(review).encode()


def _without(*path: str) -> bytes:
    review = _valid()
    node = review
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return json.dumps(review).encode()


def _nested(levels: int) -> bytes:
    deep = "[" * levels + '"bottom"' + "]" * levels
    text = _text(_valid()).replace('"dryRun": false', f'"dryRun": false, "deep": {deep}')
    return text.encode()


BAD_BODIES = {
    "not JSON": b"{this is not json",
    "empty body": b"",
    "not UTF-8": b'{"a": "\xff\xfe"}',
    "a JSON array": b"[1, 2, 3]",
    "duplicate keys": _text(_valid())
    .replace('"operation": "CREATE"', '"operation": "DELETE", "operation": "CREATE"')
    .encode(),
    "duplicate keys deep inside the object": _text(_valid())
    .replace('"privileged": true', '"privileged": false, "privileged": true')
    .replace('"allowPrivilegeEscalation": false', '"name": "x", "allowPrivilegeEscalation": false')
    .replace('"name": "app"', '"name": "app", "name": "other"')
    .encode(),
    "nesting over 100 levels": _nested(150),
    "nesting far over the parser's limit": _nested(5000),
    "an integer beyond int64": _text(_valid())
    .replace('"dryRun": false', '"dryRun": false, "big": 123456789012345678901234567890')
    .encode(),
    "a float that overflows": _text(_valid())
    .replace('"dryRun": false', '"dryRun": false, "big": 1e400')
    .encode(),
    "NaN": _text(_valid()).replace('"dryRun": false', '"dryRun": false, "x": NaN').encode(),
    "Infinity": _text(_valid())
    .replace('"dryRun": false', '"dryRun": false, "x": -Infinity')
    .encode(),
    "no request": _without("request"),
    "no uid": _without("request", "uid"),
    "an empty uid": _with_request_field("uid", ""),
    "no object on CREATE": _with_request_field("object", None),
    "the wrong apiVersion": _text(_valid())
    .replace('"admission.k8s.io/v1"', '"admission.k8s.io/v1beta1"')
    .encode(),
    "the wrong kind": _text(_valid()).replace('"AdmissionReview"', '"AdmissionRequest"').encode(),
    "an unknown operation": _with_request_field("operation", "PATCH"),
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=list(BAD_BODIES))
def test_unusable_bodies_are_refused_with_400(
    shared_server: webhookserver.WebhookServer, body: bytes
) -> None:
    status, headers, raw = shared_server.request("POST", "/validate", body)
    _refusal(status, headers, raw, 400)


def test_a_refusal_echoes_the_uid_when_the_body_has_one(
    shared_server: webhookserver.WebhookServer,
) -> None:
    review = _valid()
    review["request"]["object"] = None
    status, headers, raw = shared_server.request("POST", "/validate", json.dumps(review).encode())
    body = _refusal(status, headers, raw, 400)
    assert body["response"]["uid"] == review["request"]["uid"]
    assert "request.object is required" in body["response"]["status"]["message"]


def test_duplicate_keys_are_named(shared_server: webhookserver.WebhookServer) -> None:
    status, headers, raw = shared_server.request("POST", "/validate", BAD_BODIES["duplicate keys"])
    body = _refusal(status, headers, raw, 400)
    assert "duplicate key 'operation'" in body["response"]["status"]["message"]


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/yaml", "application/jsonx"]
)
def test_other_content_types_are_refused_with_415(
    shared_server: webhookserver.WebhookServer, content_type: str | None
) -> None:
    body = json.dumps(_valid()).encode()
    status, headers, raw = shared_server.request(
        "POST", "/validate", body, content_type=content_type
    )
    _refusal(status, headers, raw, 415)


def test_json_with_a_charset_is_accepted(shared_server: webhookserver.WebhookServer) -> None:
    body = json.dumps(_valid()).encode()
    status, _, _ = shared_server.request(
        "POST", "/validate", body, content_type="application/json; charset=utf-8"
    )
    assert status == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_refused_with_405(
    shared_server: webhookserver.WebhookServer, method: str
) -> None:
    body = None if method == "GET" else json.dumps(_valid()).encode()
    status, headers, raw = shared_server.request(method, "/validate", body)
    _refusal(status, headers, raw, 405)
    assert headers.get("allow") == "POST"


def test_a_body_just_over_7_mib_is_refused_with_413(
    shared_server: webhookserver.WebhookServer,
) -> None:
    review = _valid()
    review["request"]["object"]["metadata"]["annotations"] = {"pad": "x" * (7 * MiB)}
    body = json.dumps(review).encode()
    assert len(body) > 7 * MiB
    status, headers, raw = shared_server.request("POST", "/validate", body)
    _refusal(status, headers, raw, 413)


def test_a_huge_upload_is_cut_off_and_the_server_lives_on(
    shared_server: webhookserver.WebhookServer,
) -> None:
    """20 MiB announced and streamed: the front answers 413 (or closes) long before the end."""
    context = shared_server.context()
    answer = b""
    with (
        socket.create_connection(("127.0.0.1", shared_server.port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(
            b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {20 * MiB}\r\n\r\n".encode()
        )
        chunk = b" " * (256 * 1024)
        try:
            for _ in range(80):
                tls.sendall(chunk)
        except (OSError, ssl.SSLError):
            pass  # the server closed the connection while we were still sending
        try:
            while True:
                data = tls.recv(65536)
                if not data:
                    break
                answer += data
        except (OSError, ssl.SSLError):
            pass
    if answer:
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert shared_server.get_json("/healthz")[0] == 200
    request = reviews.pod_review(namespace="deny-after-upload")
    assert shared_server.review(request)["response"]["allowed"] is True


def test_unknown_paths_are_404_json(shared_server: webhookserver.WebhookServer) -> None:
    status, headers, raw = shared_server.request("POST", "/mutate", b"{}")
    _refusal(status, headers, raw, 404)
