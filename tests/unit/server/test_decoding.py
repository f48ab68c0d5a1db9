"""Strict JSON: what Kubernetes would never send is refused with the right status."""

from __future__ import annotations

import json

import hypothesis
import hypothesis.strategies
import pytest

from webhook.server import decoding, settings


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b'{"a": 1, "b": [true, null, "x"]}', {"a": 1, "b": [True, None, "x"]}),
        (b'{"n": -9223372036854775808, "m": 9223372036854775807}', {"n": -(2**63), "m": 2**63 - 1}),
        (b'{"f": 1.5e300}', {"f": 1.5e300}),
        (b'{"s": "brackets [[[{{ and \\" quotes"}', {"s": 'brackets [[[{{ and " quotes'}),
        ('{"ü": "ß"}'.encode(), {"ü": "ß"}),
        (
            b'{"port": ":8080", "s": " :x", "k\\"": "\\":"}',
            {"port": ":8080", "s": " :x", 'k"': '":'},
        ),
        (
            b'{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 1}]}',
            {"a": {"a": {"a": 1}}, "b": [{"a": 1}] * 2},
        ),
    ],
    ids=[
        "plain",
        "int64 bounds",
        "large float",
        "brackets in strings",
        "unicode",
        "strings that look like keys",
        "the same key in different objects",
    ],
)
def test_valid_json_decodes(raw: bytes, value: object) -> None:
    assert decoding.decode(raw) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"o": {"k": 1, "k": 1}}', "duplicate key 'k'"),
        (b'{"a" : 1, "a" : 2}', "duplicate key 'a'"),
        (b'{"a"\n:\t1,\r\n "a":2}', "duplicate key 'a'"),
        (b'{"x": ":8080", "o": {"k": 1, "k": 2}}', "duplicate key 'k'"),
        (b'{"a\\\\": 1, "a\\\\": 2}', "duplicate key 'a\\\\\\\\'"),
        (b'{"o":{"k":1,"k":1}}', "duplicate key 'k'"),
        (b'{"n": 9223372036854775808}', "int64"),
        (b'{"n": -9223372036854775809}', "int64"),
        (b'{"n": ' + b"9" * 5000 + b"}", "int64"),
        (b'{"n":18446744073709551615}', "int64"),
        (b'{"f": 1e400}', "overflows"),
        (b'{"f": NaN}', "NaN is not valid JSON"),
        (b'{"f": -Infinity}', "-Infinity is not valid JSON"),
        (b'{"a": }', "not valid JSON"),
        (b'{"a": 1} trailing', "not valid JSON"),
        (b'\xef\xbb\xbf{"a": 1}', "not valid JSON"),
        (b'{"a": "\xff"}', "not UTF-8"),
        (b"[" * 101 + b"]" * 101, "nests deeper than 100"),
        (b"[" * 5000 + b"]" * 5000, "nests deeper than 100"),
        (b'{"a":' * 101 + b"1" + b"}" * 101, "nests deeper than 100"),
    ],
    ids=[
        "duplicate keys",
        "duplicate nested keys",
        "duplicate keys with spaces before the colon",
        "duplicate keys with other whitespace",
        "a duplicate after a value that looks like a key",
        "duplicate keys ending in an escaped backslash",
        "duplicate keys in compact JSON",
        "int above int64",
        "int below int64",
        "int with 5000 digits",
        "int above int64 in compact JSON",
        "float overflow",
        "NaN",
        "Infinity",
        "syntax error",
        "trailing data",
        "byte order mark",
        "not UTF-8",
        "101 levels",
        "5000 levels",
        "101 objects",
    ],
)
def test_unusable_json_is_a_400(raw: bytes, message: str) -> None:
    with pytest.raises(decoding.BodyError, match=message) as caught:
        decoding.decode(raw)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("raw", "keys"),
    [
        (b'{"a": 1, "b": {"c": [{"d": null}]}}', 4),
        (b'{"a" :1,"b"\n:\t2}', 2),
        (b'{"x": ":8080"}', 2),  # a string that opens with a colon counts too: an upper bound
        (b'{"q\\"": "x\\":", "e\\\\": 0}', 2),
    ],
    ids=["nested", "whitespace", "colon string", "escapes"],
)
def test_keys_in_text_counts_every_key(raw: bytes, keys: int) -> None:
    assert decoding.keys_in_text(raw) == keys


def test_exactly_100_levels_are_fine() -> None:
    assert decoding.decode(b"[" * 100 + b"]" * 100) is not None


def test_a_body_over_the_limit_is_a_413() -> None:
    with pytest.raises(decoding.BodyError) as caught:
        decoding.decode(b" " * (settings.MAX_BODY_BYTES + 1))
    assert caught.value.status == 413


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b'{"a": [1, {"b": []}]}', 0),  # few brackets: not measured
        (b'"' + b"[" * 200 + b'"', 0),
        (b'["' + b"[" * 200 + b'", [[]]]', 3),
        (b'["\\\\", "\\"[[[", ' + b"[" * 150 + b"]" * 150 + b"]", 151),
    ],
    ids=["small", "brackets only inside a string", "string then nesting", "escapes"],
)
def test_depth_ignores_brackets_inside_strings(raw: bytes, depth: int) -> None:
    assert decoding.depth(raw) == min(depth, settings.MAX_JSON_DEPTH + 1)


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("text/json", False),
        ("application/json-patch+json", False),
        ("", False),
        (None, False),
    ],
)
def test_content_type(content_type: str | None, ok: bool) -> None:
    assert decoding.content_type_ok(content_type) is ok


def test_a_review_as_the_apiserver_sends_it_needs_no_second_decode() -> None:
    """Colons inside strings (images, user names) do not look like keys: one decode suffices."""
    raw = (
        b'{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u",'
        b'"userInfo":{"username":"system:serviceaccount:kube-system:rs"},"object":{"spec":'
        b'{"containers":[{"image":"ghcr.io/a@sha256:00ff","args":["--addr=:8080"]}]}}}}'
    )
    assert decoding.keys_in_text(raw) == 11
    assert decoding.decode(raw)["request"]["userInfo"]["username"].endswith(":rs")


def test_millions_of_tiny_values_are_refused_before_decoding() -> None:
    """7 MiB of ``[]`` would decode to about 180 MB of Python objects in one worker."""
    count = settings.MAX_JSON_VALUES + 1
    raw = b'{"a":[' + b",".join([b"[]"] * count) + b"]}"
    with pytest.raises(decoding.BodyError, match=f"more than {settings.MAX_JSON_VALUES}") as err:
        decoding.decode(raw)
    assert err.value.status == 400


def test_commas_inside_strings_are_not_values() -> None:
    """An annotation holding a long JSON text is one value, however many commas it has."""
    text = ",:" * settings.MAX_JSON_VALUES
    raw = b'{"metadata":{"annotations":{"last-applied":"' + text.encode() + b'"}}}'
    assert decoding.values(raw) == 4
    assert decoding.decode(raw)["metadata"]["annotations"]["last-applied"] == text


@pytest.mark.parametrize(
    "raw",
    [
        b'{"n": 9223372036854775808}',
        b'{"n": 18446744073709551615}',  # the largest integer orjson reads as an int
        b'{"n": 18446744073709551616}',  # orjson reads this one as a float
        b'{"n": [1, -18446744073709551617]}',
    ],
    ids=["just above int64", "uint64 max", "above uint64", "below -uint64 in a list"],
)
def test_integers_orjson_would_read_are_still_refused(raw: bytes) -> None:
    with pytest.raises(decoding.BodyError, match="int64") as caught:
        decoding.decode(raw)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b'{"a&": 1, "a\\u0026": 2}', "a&"),
        (b'{"a": 1, "\\u0061": 2}', "a"),
        (b'{"<a>":{"x":1},"\\u003ca\\u003e":{"x":1}}', "<a>"),
    ],
    ids=["a Go escape", "another escape", "Go escapes, identical values"],
)
def test_duplicate_keys_written_two_ways_are_refused(raw: bytes, key: str) -> None:
    with pytest.raises(decoding.BodyError, match=f"duplicate key {key!r}"):
        decoding.decode(raw)


def test_a_lone_surrogate_escape_reads_as_before() -> None:
    """orjson refuses it; the standard library's reading, which the server always had, does not."""
    assert decoding.decode(b'{"s": "\\ud800"}') == {"s": "\ud800"}


def test_the_apiserver_s_escapes_take_the_fast_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Go writes ``&``, ``<`` and ``>`` as escapes; such a review is read once, by orjson."""

    def exact(raw: bytes) -> object:
        raise AssertionError("read twice")

    monkeypatch.setattr(decoding, "_exact", exact)
    raw = b'{"spec":{"args":["a \\u0026\\u0026 b \\u003e /dev/null"],"n":[1,2.5,null,true]}}'
    assert decoding.decode(raw) == {
        "spec": {"args": ["a && b > /dev/null"], "n": [1, 2.5, None, True]}
    }


_SCALARS = (
    hypothesis.strategies.none()
    | hypothesis.strategies.booleans()
    | hypothesis.strategies.integers(min_value=-(2**64), max_value=2**64)
    | hypothesis.strategies.floats(allow_nan=False, allow_infinity=False)
    | hypothesis.strategies.text(max_size=8)
)
_KEYS = hypothesis.strategies.sampled_from(["a", "b", "a&", "<", "\\", '"', "é", " "])
_JSON = hypothesis.strategies.recursive(
    _SCALARS,
    lambda inner: (
        hypothesis.strategies.lists(inner, max_size=4)
        | hypothesis.strategies.lists(hypothesis.strategies.tuples(_KEYS, inner), max_size=4)
    ),
    max_leaves=20,
)


def _text(value: object, *, spaced: bool, ascii_only: bool) -> str:
    """JSON text for ``value``, where a list of pairs is an object (keys may repeat)."""
    if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value):
        separator = ", " if spaced else ","
        members = (
            json.dumps(k, ensure_ascii=ascii_only)
            + (": " if spaced else ":")
            + _text(v, spaced=spaced, ascii_only=ascii_only)
            for k, v in value
        )
        return "{" + separator.join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_text(v, spaced=spaced, ascii_only=ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def _expected(value: object) -> object:
    if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value):
        return {k: _expected(v) for k, v in value}
    if isinstance(value, list):
        return [_expected(v) for v in value]
    return value


def _problems(value: object) -> bool:
    """Whether ``value`` has a repeated key or an integer outside int64."""
    if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value):
        keys = [k for k, _ in value]
        return len(set(keys)) != len(keys) or any(_problems(v) for _, v in value)
    if isinstance(value, list):
        return any(_problems(v) for v in value)
    return isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63


@hypothesis.given(
    value=_JSON,
    spaced=hypothesis.strategies.booleans(),
    ascii_only=hypothesis.strategies.booleans(),
)
@hypothesis.settings(max_examples=300, deadline=None)
def test_decoding_reads_or_refuses_as_the_exact_reading(
    value: object, spaced: bool, ascii_only: bool
) -> None:
    raw = _text(value, spaced=spaced, ascii_only=ascii_only).encode()
    if _problems(value):
        with pytest.raises(decoding.BodyError) as caught:
            decoding.decode(raw)
        assert caught.value.status == 400
    else:
        assert decoding.decode(raw) == _expected(value)
