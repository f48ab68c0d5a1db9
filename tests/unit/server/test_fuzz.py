"""Fuzzing the raw ``/validate`` body handler in-process: bytes in, an answer out, never an allow.

Each execution wraps one body in the request the front reads whole
(``frames.Request``) and calls ``reviews.answer``, the handler behind
``POST /validate`` in the front and in the workers, with the ``restricted``
profile and a Deny policy of Bulkhead's rules loaded. Bodies come from a seeded generator:
random bytes, byte-level mutations of valid reviews (flips, insertions,
deletions, truncations, splices) and structural mutations of a review's
JSON (values of another type, removed keys, deep nesting, huge numbers,
duplicate keys, odd strings) anywhere in the envelope or the object.

Properties, for every body:

* the handler returns (no exception escapes it) a status of 200 or a 4xx;
* the answer is an ``admission.k8s.io/v1`` AdmissionReview whose ``uid`` is
  a string and whose ``allowed`` is a boolean; a 4xx never allows;
* a body the independent oracle below calls malformed (not strict JSON, or
  not a v1 AdmissionReview envelope with a uid, a kind, an operation and an
  object where one is needed) is never answered ``allowed: true``.

A failure inside the decision is a denial with code 500 (it never allows);
the run prints how many there were and of which exception types, so a crash
in a check shows up here before it shows up in a cluster.

``FUZZ_EXECUTIONS`` runs per CI run (at least 200,000); the seed is printed
with any failure and can be set with ``BULKHEAD_FUZZ_SEED``.
"""

from __future__ import annotations

import collections
import copy
import datetime
import json
import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any, Final

import pytest
import yaml

from tests.server import reviews as review_bodies
from webhook import policy, policyfiles
from webhook.server import create_app, frames, loaded, reviews, settings
from webhook.server.app import factory

FUZZ_EXECUTIONS: Final = int(os.environ.get("BULKHEAD_FUZZ_EXECUTIONS", "200000"))
SEED: Final = int(os.environ.get("BULKHEAD_FUZZ_SEED", "20261202"))
_OPERATIONS: Final = ("CREATE", "UPDATE", "DELETE", "CONNECT")
_RULES_POLICY = """\
apiVersion: bulkhead.dev/v1alpha1
kind: ClusterContainerPolicy
metadata: {name: every-rule}
spec:
  action: Deny
  rules:
    allowPrivilegeEscalation: false
    capabilities: {requireDrop: [ALL]}
    hostNamespaces: false
    hostPath: false
    hostPorts: false
    images: {requireDigest: true, forbidLatest: true, allowedRegistries: [ghcr.io/acme/]}
    literalSecretEnv: false
    privileged: false
    readOnlyRootFilesystem: true
    resources: {requireLimits: [cpu, memory]}
    runAsNonRoot: true
    seccomp: RuntimeDefault
"""


# the oracle ----------------------------------------------------------------------


class _MalformedError(ValueError):
    pass


def _strict_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _MalformedError("duplicate key")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise _MalformedError(name)


def _checked_int(text: str) -> int:
    if len(text) > 20 or not -(2**63) <= int(text) < 2**63:
        raise _MalformedError("integer out of range")
    return int(text)


def _checked_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _MalformedError("float overflow")
    return value


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def malformed(body: bytes) -> bool:
    """Whether ``body`` is something the apiserver never sends: not a usable v1 review."""
    try:
        value = json.loads(
            body.decode("utf-8"),
            object_pairs_hook=_strict_pairs,
            parse_constant=_no_constant,
            parse_int=_checked_int,
            parse_float=_checked_float,
        )
    except (ValueError, RecursionError):  # _MalformedError is a ValueError
        return True
    if _depth(value) > settings.MAX_JSON_DEPTH:
        return True
    if not isinstance(value, dict):
        return True
    if value.get("apiVersion") != "admission.k8s.io/v1" or value.get("kind") != "AdmissionReview":
        return True
    request = value.get("request")
    if not isinstance(request, dict):
        return True
    uid = request.get("uid")
    kind = request.get("kind")
    operation = request.get("operation")
    if not isinstance(uid, str) or not uid or not isinstance(kind, dict):
        return True
    if not isinstance(kind.get("kind"), str) or operation not in _OPERATIONS:
        return True
    needs_object = operation in ("CREATE", "UPDATE")
    return needs_object and not isinstance(request.get("object"), dict)


# the generator -------------------------------------------------------------------

_ODD_VALUES: Final[tuple[Any, ...]] = (
    None,
    True,
    False,
    0,
    -1,
    2**63 - 1,
    1.5,
    "",
    "x",
    "\u0000",
    "ALL",
    "docker.io/library/nginx:latest",
    "\ud7ff" * 3,
    [],
    [None],
    [{}],
    {},
    {"privileged": True},
    {"": ""},
)


def _hardened_pod() -> dict[str, Any]:
    """A Pod that passes ``restricted`` and every rule of the Deny policy."""
    container = {
        "name": "app",
        "image": "ghcr.io/acme/app@sha256:" + "a" * 64,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
        "env": [{"name": "MODE", "value": "fast"}],
    }
    spec = {"containers": [container], "initContainers": [dict(container, name="init")]}
    return review_bodies.review(
        review_bodies.workload("Pod", name="web", namespace="team", spec=spec)
    )


def _seeds() -> list[dict[str, Any]]:
    hardened = _hardened_pod()
    privileged = review_bodies.pod_review(namespace="team", privileged=True)
    compliant = review_bodies.pod_review(namespace="team")
    old = review_bodies.workload("Pod", name="web", namespace="team", spec=review_bodies.pod_spec())
    new = copy.deepcopy(old)
    new["spec"]["ephemeralContainers"] = [review_bodies.container("dbg", privileged=True)]
    update = review_bodies.review(
        new, operation="UPDATE", old=old, subresource="ephemeralcontainers"
    )
    workloads = [
        review_bodies.review(
            review_bodies.workload(
                kind, name="w", namespace="team", spec=review_bodies.pod_spec(privileged=True)
            )
        )
        for kind in review_bodies.KINDS
    ]
    deleted = review_bodies.review(
        None, kind="Pod", operation="DELETE", old=privileged["request"]["object"]
    )
    return [hardened, hardened, hardened, deleted, privileged, compliant, update, *workloads]


def _fresh(value: Any) -> Any:
    return json.loads(json.dumps(value)) if isinstance(value, list | dict) else value


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_nodes(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_nodes(child, (*path, index)))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = new
    return value


def _remove(value: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return None
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    return value


class Generator:
    """Seeded bodies: random bytes, byte mutations, structural mutations."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)  # noqa: S311 - a replayable fuzz sequence
        self.seeds = _seeds()
        self.seed_bytes = [json.dumps(s).encode() for s in self.seeds]
        self.nodes = [_nodes(s) for s in self.seeds]

    def body(self) -> bytes:
        choice = self.random.random()
        if choice < 0.15:
            return self.random_bytes()
        if choice < 0.55:
            return self.byte_mutation()
        return self.structural_mutation()

    def random_bytes(self) -> bytes:
        r = self.random
        size = r.choice((0, 1, 2, 8, 64, 512, 4096))
        alphabet = r.choice((None, b'{}[]":,0123456789.eE+-truefalsnul \\'))
        if alphabet is None:
            return r.randbytes(size)
        return bytes(r.choices(alphabet, k=size))

    def byte_mutation(self) -> bytes:
        r = self.random
        data = bytearray(r.choice(self.seed_bytes))
        for _ in range(r.choice((1, 1, 1, 2, 4, 16))):
            kind = r.randrange(6)
            at = r.randrange(len(data) + 1)
            if kind == 0 and data:
                data[min(at, len(data) - 1)] ^= 1 << r.randrange(8)
            elif kind == 1:
                data[at:at] = r.choice((b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b"\xff"))
            elif kind == 2:
                del data[at : at + r.randrange(1, 32)]
            elif kind == 3:
                del data[at:]
            elif kind == 4:
                other = r.choice(self.seed_bytes)
                start = r.randrange(len(other))
                data[at:at] = other[start : start + r.randrange(1, 200)]
            else:
                end = min(len(data), at + r.randrange(1, 64))
                data[at:at] = data[at:end]
        return bytes(data)

    def structural_mutation(self) -> bytes:
        r = self.random
        index = r.randrange(len(self.seeds))
        value = json.loads(self.seed_bytes[index])  # a fresh copy, faster than deepcopy
        path = r.choice(self.nodes[index])
        kind = r.randrange(7)
        if kind == 0:
            value = _replace(value, path, _fresh(r.choice(_ODD_VALUES)))
        elif kind == 1:
            value = _remove(value, path)
        elif kind == 2:
            nested: Any = "bottom"
            for _ in range(r.choice((50, 99, 101, 1000))):
                nested = [nested]
            value = _replace(value, path, nested)
        elif kind == 3:
            value = _replace(value, path, r.choice((2**64, -(2**63) - 1, 10**400)))
        elif kind == 4:
            value = _replace(value, path, "x" * r.choice((100, 10_000, 100_000)))
        elif kind == 5:
            value = _replace(value, path, [_fresh(r.choice(_ODD_VALUES))] * 50)
        else:
            text = json.dumps(value)
            key = r.choice(('"privileged"', '"operation"', '"uid"', '"kind"', '"name"'))
            return text.replace(key, f"{key}: 1, {key}", 1).encode()
        try:
            return json.dumps(value).encode()
        except (ValueError, RecursionError):
            return b"[" * 2000


# the run ----------------------------------------------------------------------------


def _handler() -> Callable[[bytes], tuple[str, bytes]]:
    config = settings.Settings(tls_cert_file="/c", tls_private_key_file="/k", log_level="error")
    held = loaded.State()
    profiles = policyfiles.compile_profiles(("restricted",), latest_minor=35)
    every_rule = policy.compile(yaml.safe_load(_RULES_POLICY), latest_minor=35)
    held.policies_loaded((*profiles, every_rule), at=datetime.datetime.now(datetime.UTC))
    app = create_app(config, held)
    rt: reviews.Runtime = app.extensions[factory.EXTENSION]

    def handle(body: bytes) -> tuple[str, bytes]:
        request = frames.Request(
            method="POST",
            path="/validate",
            content_type="application/json",
            accept="",
            body=body,
        )
        status, _, out = reviews.answer(rt, request, judge=True)
        rt.metrics.take()
        return status, out

    return handle


def _check(body: bytes, status: str, out: bytes) -> str | None:
    """What is wrong with this answer, or None."""
    code = int(status.split(maxsplit=1)[0])
    if code != 200 and not 400 <= code < 500:
        return f"HTTP {status}"
    answer = json.loads(out)
    if answer.get("apiVersion") != "admission.k8s.io/v1" or answer.get("kind") != (
        "AdmissionReview"
    ):
        return "not a v1 AdmissionReview"
    response = answer.get("response")
    if not isinstance(response, dict):
        return "no response"
    if not isinstance(response.get("uid"), str) or not isinstance(response.get("allowed"), bool):
        return "uid or allowed of the wrong type"
    allowed = response["allowed"]
    if code != 200 and allowed:
        return f"HTTP {code} that allows"
    if allowed and malformed(body):
        return "a malformed body was allowed"
    return None


def test_the_validate_handler_survives_random_and_mutated_bodies(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logging.getLogger("bulkhead").setLevel(logging.CRITICAL)
    handle = _handler()
    generator = Generator(SEED)
    failures: list[str] = []
    counts = {"200": 0, "4xx": 0, "allowed": 0}
    internal: collections.Counter[str] = collections.Counter()
    started = time.monotonic()
    for execution in range(FUZZ_EXECUTIONS):
        body = generator.body()
        try:
            status, out = handle(body)
        except Exception as err:  # the property under test: nothing escapes
            failures.append(f"#{execution}: {type(err).__name__} escaped for {body[:300]!r}")
            continue
        problem = _check(body, status, out)
        if problem is not None:
            failures.append(f"#{execution}: {problem} for {body[:300]!r}")
        counts["200" if status.startswith("200") else "4xx"] += 1
        counts["allowed"] += b'"allowed":true' in out
        if b'"code":500' in out:
            internal[
                out.split(b"internal error (")[-1].split(b")")[0].decode(errors="replace")
            ] += 1
        if len(failures) >= 5:
            break
    elapsed = time.monotonic() - started
    assert failures == [], f"seed {SEED} (set BULKHEAD_FUZZ_SEED to replay): {failures}"
    print(f"{FUZZ_EXECUTIONS} executions in {elapsed:.1f} s, seed {SEED}: {counts}")
    print(f"denials by an internal error, by exception type: {dict(internal)}")
    # the generator reaches both sides of the handler
    assert counts["4xx"] > FUZZ_EXECUTIONS // 10
    assert counts["allowed"] > FUZZ_EXECUTIONS // 100
