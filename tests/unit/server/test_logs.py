"""The one JSON line per review: every field, in ASCII, whatever the names hold."""

from __future__ import annotations

import io
import json

import pytest

from webhook.admission import review
from webhook.server import logs


def _request(*, username: str, name: str = "web") -> review.Request:
    return review.Request(
        uid="u-1",
        kind="Pod",
        group="",
        resource="pods",
        subresource="",
        operation="CREATE",
        namespace="shop",
        name=name,
        username=username,
        groups=(),
        object={"spec": {"containers": []}},
        old_object=None,
        dry_run=True,
    )


def _line(request: review.Request) -> str:
    stream = io.StringIO()
    log = logs.ReviewLog(level="info", stream=stream)
    log.write(request, outcome="allowed", code=200, violations=(), seconds=0.0012345)
    text = stream.getvalue()
    assert text.endswith("\n")
    assert text.count("\n") == 1
    return text


def test_the_line_holds_every_field() -> None:
    line = json.loads(_line(_request(username="system:serviceaccount:ci:deployer")))
    assert {k: v for k, v in line.items() if k != "time"} == {
        "level": "info",
        "logger": "bulkhead.server",
        "msg": "review",
        "uid": "u-1",
        "kind": "Pod",
        "namespace": "shop",
        "name": "web",
        "operation": "CREATE",
        "subresource": "",
        "user": "system:serviceaccount:ci:deployer",
        "dryRun": True,
        "outcome": "allowed",
        "code": 200,
        "checks": [],
        "policies": [],
        "durationMs": 1.234,
    }
    assert line["time"].endswith("+00:00")


@pytest.mark.parametrize(
    "username",
    ["jürgen@example.com", "\ud800", 'quote " and \\ backslash\n'],
    ids=["not ASCII", "a lone surrogate", "escapes"],
)
def test_the_line_is_ascii_json_whatever_the_user_name(username: str) -> None:
    text = _line(_request(username=username))
    assert text.isascii()
    assert json.loads(text)["user"] == username


class _Writes(io.StringIO):
    """A stream that remembers each ``write`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str, /) -> int:
        self.calls.append(text)
        return super().write(text)


def _write(log: logs.ReviewLog, name: str) -> None:
    log.write(
        _request(username="u", name=name), outcome="allowed", code=200, violations=(), seconds=0.1
    )


def test_lines_written_while_held_reach_the_stream_in_one_write_when_the_block_ends() -> None:
    stream = _Writes()
    log = logs.ReviewLog(level="info", stream=stream)
    with log.held():
        for name in ("a", "b", "c"):
            _write(log, name)
        assert stream.calls == []  # nothing yet: the batch is still being judged
    assert len(stream.calls) == 1
    assert [json.loads(line)["name"] for line in stream.calls[0].splitlines()] == ["a", "b", "c"]
    _write(log, "d")
    assert len(stream.calls) == 2  # outside the block, each line is written at once


def test_held_lines_are_written_when_the_block_ends_with_an_exception() -> None:
    stream = _Writes()
    log = logs.ReviewLog(level="info", stream=stream)

    def judge_then_fail() -> None:
        with log.held():
            _write(log, "a")
            raise RuntimeError("judging failed")

    with pytest.raises(RuntimeError):
        judge_then_fail()
    assert json.loads(stream.getvalue())["name"] == "a"
