"""Where the front sends a request: small reviews judged in its loop, the rest to a worker."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
from typing import Any

import pytest

from tests.server import reviews
from webhook import policy
from webhook.server import frames, loaded, settings
from webhook.server import reviews as answering
from webhook.server.front import connection, routes

NO_PRIVILEGED: dict[str, Any] = {"action": "Deny", "rules": {"privileged": False}}
SELECT_TEAMS: dict[str, Any] = {
    **NO_PRIVILEGED,
    "match": {"namespaceSelector": {"matchLabels": {"team": "a"}}},
}


def _state(spec: dict[str, Any] | None) -> loaded.State:
    """A state with one policy of ``spec`` loaded (``None``: nothing loaded yet)."""
    held = loaded.State()
    if spec is not None:
        document = {
            "apiVersion": "bulkhead.dev/v1alpha1",
            "kind": "ClusterContainerPolicy",
            "metadata": {"name": "p"},
            "spec": spec,
        }
        compiled = policy.compile(document, latest_minor=settings.DEFAULT_LATEST_MINOR)
        held.policies_loaded((compiled,), at=datetime.datetime.now(datetime.UTC))
    return held


class Client:
    """What the routes need of a connection: whether it is TLS, and ``respond``."""

    def __init__(self) -> None:
        self.tls = object()  # the webhook port
        self.answered_soon = False
        self.aborted = False
        self.answers: list[tuple[str, tuple[tuple[str, str], ...], bytes]] = []

    def respond(self, status: str, headers: tuple[tuple[str, str], ...], body: bytes) -> None:
        self.answers.append((status, headers, body))

    def abort(self) -> None:
        self.aborted = True


class BrokenClient(Client):
    def respond(self, status: str, headers: tuple[tuple[str, str], ...], body: bytes) -> None:
        raise OSError("the transport broke")


def _incoming(body: bytes) -> connection.Incoming:
    request = frames.Request(
        method="POST", path="/validate", content_type="application/json", accept="", body=body
    )
    return connection.Incoming(request=request, keep_alive=True)


def _server(held: loaded.State) -> routes.Server:
    """A front's routes judging with ``held`` (call inside a running loop)."""
    return routes.Server(
        settings.Settings(tls_cert_file="/c", tls_private_key_file="/k", log_level="error"), held
    )


def _route(held: loaded.State, body: bytes) -> tuple[Client, int]:
    """Route one review; the answers it got at once and how many requests wait for a worker."""

    async def scenario() -> tuple[Client, int]:
        server = _server(held)
        client = Client()
        server.handle(client, _incoming(body))  # type: ignore[arg-type]
        queued = len(server.pool._queue)
        await server.pool.stop(1)  # fails what is queued: no worker was ever started
        return client, queued

    return asyncio.run(scenario())


def _body(*, privileged: bool, padding: int = 0) -> bytes:
    review = reviews.pod_review(namespace="team", privileged=privileged)
    if padding:
        review["request"]["object"]["metadata"]["annotations"] = {"note": "x" * padding}
    return json.dumps(review).encode()


def test_a_small_review_is_judged_by_the_front() -> None:
    client, queued = _route(_state(NO_PRIVILEGED), _body(privileged=True))
    assert queued == 0
    [(status, _, body)] = client.answers
    assert status == "200 OK"
    response = json.loads(body)["response"]
    assert response["allowed"] is False
    assert response["status"]["code"] == 403


def test_reviews_read_in_one_loop_iteration_are_judged_together_after_it() -> None:
    async def scenario() -> None:
        server = _server(_state(NO_PRIVILEGED))
        clients = [Client(), Client()]
        for client, privileged in zip(clients, (True, False), strict=True):
            server.handle(client, _incoming(_body(privileged=privileged)))  # type: ignore[arg-type]
        # not answered inside the handler: the connection reads on meanwhile
        assert [c.answers for c in clients] == [[], []]
        assert all(c.answered_soon for c in clients)
        await asyncio.sleep(0)  # the rest of the loop iteration
        allowed = [json.loads(c.answers[0][2])["response"]["allowed"] for c in clients]
        assert allowed == [False, True]
        await server.pool.stop(1)

    asyncio.run(scenario())


class _Recording(Client):
    """A client that notes in ``events`` when it is answered."""

    def __init__(self, events: list[str], name: str) -> None:
        super().__init__()
        self.events, self.name = events, name

    def respond(self, status: str, headers: tuple[tuple[str, str], ...], body: bytes) -> None:
        super().respond(status, headers, body)
        self.events.append(f"answered {self.name}")


def _judged_and_answered(monkeypatch: pytest.MonkeyPatch, answer_after: float) -> list[str]:
    """Three reviews read in one loop iteration: when each is judged and when answered."""
    events: list[str] = []
    answer = answering.answer

    def noting(rt: Any, request: frames.Request, *, judge: bool) -> Any:
        events.append(f"judged {json.loads(request.body)['request']['object']['metadata']['name']}")
        return answer(rt, request, judge=judge)

    monkeypatch.setattr(answering, "answer", noting)
    monkeypatch.setattr(routes, "ANSWER_AFTER_SECONDS", answer_after)

    async def scenario() -> None:
        server = _server(_state(NO_PRIVILEGED))
        for name in ("a", "b", "c"):
            review = reviews.pod_review(namespace="team")
            review["request"]["object"]["metadata"]["name"] = name
            client = _Recording(events, name)
            server.handle(client, _incoming(json.dumps(review).encode()))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        await server.pool.stop(1)

    asyncio.run(scenario())
    return events


def test_reviews_judged_together_are_answered_as_each_millisecond_of_judging_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # judging that reaches the limit with every review: each is answered before the next is judged
    assert _judged_and_answered(monkeypatch, 0.0) == [
        "judged a", "answered a", "judged b", "answered b", "judged c", "answered c",
    ]  # fmt: skip
    # judging that never reaches it: all judged back to back, then all answered
    assert _judged_and_answered(monkeypatch, 3600.0) == [
        "judged a", "judged b", "judged c", "answered a", "answered b", "answered c",
    ]  # fmt: skip


def test_a_connection_that_breaks_while_answering_leaves_the_others_answered() -> None:
    async def scenario() -> None:
        server = _server(_state(NO_PRIVILEGED))
        broken, other = BrokenClient(), Client()
        for client in (broken, other):
            server.handle(client, _incoming(_body(privileged=False)))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        assert broken.aborted
        assert [status for status, _, _ in other.answers] == ["200 OK"]
        assert not other.aborted
        await server.pool.stop(1)

    asyncio.run(scenario())


def test_a_large_review_goes_to_a_worker() -> None:
    client, queued = _route(
        _state(NO_PRIVILEGED), _body(privileged=True, padding=routes.INLINE_MAX_BYTES)
    )
    assert queued == 1
    [(status, _, _)] = client.answers  # refused once the pool stopped, never judged here
    assert status.startswith("500")


def test_without_policies_the_front_leaves_judging_to_a_worker() -> None:
    _, queued = _route(_state(None), _body(privileged=False))
    assert queued == 1


def test_a_review_that_may_need_a_namespace_look_up_goes_to_a_worker() -> None:
    held = _state(SELECT_TEAMS)
    held.look_up_namespaces_with(lambda name: None)
    _, queued = _route(held, _body(privileged=True))
    assert queued == 1


def test_reviews_go_to_a_worker_while_a_policy_verifies_image_signatures() -> None:
    der = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + bytes(65)
    pem = f"-----BEGIN PUBLIC KEY-----\n{base64.b64encode(der).decode()}\n-----END PUBLIC KEY-----"
    signing = {**NO_PRIVILEGED, "rules": {"imageSignatures": {"keys": [pem]}}}
    _, queued = _route(_state(signing), _body(privileged=False))
    assert queued == 1
