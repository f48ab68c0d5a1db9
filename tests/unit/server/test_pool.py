"""The worker pool with stand-in worker processes: deadlines, crashes, queueing (real processes)."""

from __future__ import annotations

import asyncio
import pathlib
import sys
from collections.abc import Awaitable, Callable

import uvloop

from webhook.server import frames
from webhook.server.front import pool, workers

#: A stand-in worker: says hello (after 30 s once the file ``SLOW_START`` names
#: exists), then answers each request after sleeping the seconds its path names
#: (``/sleep/0.5``); ``/exit`` makes it exit; ``/retire`` answers, then asks to retire;
#: ``/whoami`` answers its pid.
STAND_IN = """
import os, socket, time
from webhook.server import frames
from webhook.server.app import worker
sock = socket.socket(fileno=int(os.environ["FD"]))
if os.path.exists(os.environ.get("SLOW_START", "")):
    time.sleep(30)
sock.sendall(frames.encode_hello())
while True:
    head = worker._read_exactly(sock, 4)
    if head is None:
        break
    request = frames.decode_request(worker._read_exactly(sock, int.from_bytes(head, "big")))
    if request.path == "/exit":
        os._exit(3)
    body = request.path.encode()
    if request.path == "/whoami":
        body = str(os.getpid()).encode()
    elif request.path != "/retire":
        time.sleep(float(request.path.rsplit("/", 1)[1]))
    sock.sendall(frames.encode_reply(frames.Reply(status="200 OK", headers=(), body=body)))
    if request.path == "/retire":
        sock.sendall(frames.encode_retire())
"""

Outcomes = list[tuple[str, workers.Outcome, bytes]]


def _run(
    scenario: Callable[[pool.Pool, Outcomes], Awaitable[None]],
    *,
    slow_start: pathlib.Path | None = None,
    **options: float,
) -> None:
    async def main() -> None:
        timeouts: list[int] = []
        the_pool = pool.Pool(
            command=[sys.executable, "-c", STAND_IN],
            env={"PYTHONPATH": ":".join(sys.path), "SLOW_START": str(slow_start or "")},
            fd_env="FD",
            size=int(options.get("size", 1)),
            decision_timeout=options.get("decision_timeout", 5.0),
            on_timeout=lambda: timeouts.append(1),
        )
        await the_pool.start(30)
        outcomes: Outcomes = []
        try:
            await asyncio.wait_for(scenario(the_pool, outcomes), 60)
        finally:
            await the_pool.stop(5)

    uvloop.run(main())


def _submit(the_pool: pool.Pool, outcomes: Outcomes, path: str) -> None:
    request = frames.Request(method="POST", path=path, content_type="", accept="", body=b"")

    def done(outcome: workers.Outcome, reply: frames.Reply | None) -> None:
        outcomes.append((path, outcome, reply.body if reply else b""))

    the_pool.submit(frames.encode_request(request), done)


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.02)


def test_a_slow_review_is_refused_at_the_deadline_and_its_worker_replaced() -> None:
    async def scenario(the_pool: pool.Pool, outcomes: Outcomes) -> None:
        first = the_pool.workers[0]
        _submit(the_pool, outcomes, "/sleep/30")
        await _until(lambda: len(outcomes) == 1)
        assert outcomes[0][1] is workers.Outcome.TIMEOUT
        await _until(lambda: the_pool.workers[0] is not first and the_pool.ready)
        _submit(the_pool, outcomes, "/sleep/0")
        await _until(lambda: len(outcomes) == 2)
        assert outcomes[1] == ("/sleep/0", workers.Outcome.ANSWERED, b"/sleep/0")

    _run(scenario, decision_timeout=3.0)


def test_a_request_waiting_for_a_busy_worker_is_refused_at_the_deadline_too() -> None:
    async def scenario(the_pool: pool.Pool, outcomes: Outcomes) -> None:
        _submit(the_pool, outcomes, "/sleep/2")
        await asyncio.sleep(0.1)  # the first is being judged: the second waits in the queue
        _submit(the_pool, outcomes, "/sleep/0")
        await _until(lambda: len(outcomes) == 2)
        assert {o[1] for o in outcomes} == {workers.Outcome.TIMEOUT}

    _run(scenario, decision_timeout=1.0)


def test_one_slow_review_does_not_hold_up_another_worker() -> None:
    async def scenario(the_pool: pool.Pool, outcomes: Outcomes) -> None:
        _submit(the_pool, outcomes, "/sleep/5")
        await asyncio.sleep(0.1)
        _submit(the_pool, outcomes, "/sleep/0")
        await _until(lambda: len(outcomes) == 2)
        assert [o[0] for o in outcomes] == ["/sleep/0", "/sleep/5"]
        assert {o[1] for o in outcomes} == {workers.Outcome.ANSWERED}

    _run(scenario, size=2, decision_timeout=30.0)


def test_a_worker_that_exits_loses_only_its_own_request_and_is_replaced() -> None:
    async def scenario(the_pool: pool.Pool, outcomes: Outcomes) -> None:
        _submit(the_pool, outcomes, "/exit")
        await _until(lambda: len(outcomes) == 1)
        assert outcomes[0][1] is workers.Outcome.LOST
        _submit(the_pool, outcomes, "/sleep/0")  # queued until the replacement says hello
        await _until(lambda: len(outcomes) == 2)
        assert outcomes[1][1] is workers.Outcome.ANSWERED

    _run(scenario)


def test_quick_reviews_queue_in_a_busy_workers_socket_and_all_are_answered_in_order() -> None:
    async def scenario(the_pool: pool.Pool, outcomes: Outcomes) -> None:
        paths = [f"/sleep/0.00{i}" for i in range(8)]
        for path in paths:
            _submit(the_pool, outcomes, path)
        await _until(lambda: len(outcomes) == len(paths))
        assert [o[0] for o in outcomes] == paths
        assert {o[1] for o in outcomes} == {workers.Outcome.ANSWERED}

    _run(scenario)


def test_workers_over_their_share_answer_until_a_successor_is_ready(
    tmp_path: pathlib.Path,
) -> None:
    """Both workers retire at once: one is replaced at a time, the other keeps answering."""
    slow_start = tmp_path / "slow"

    async def scenario(the_pool: pool.Pool, outcomes: Outcomes) -> None:
        first = {w.process.pid for w in the_pool.workers if w is not None and w.process}
        slow_start.touch()  # every successor now takes 30 s to say hello
        _submit(the_pool, outcomes, "/retire")
        _submit(the_pool, outcomes, "/retire")
        await _until(lambda: len(outcomes) == 2)
        await _until(lambda: sum(w is not None and w.ready for w in the_pool.workers) == 1)
        for _ in range(3):  # a wait for the successor would pass the 10 s deadline
            _submit(the_pool, outcomes, "/whoami")
        await _until(lambda: len(outcomes) == 5)
        assert {o[1] for o in outcomes} == {workers.Outcome.ANSWERED}
        assert {int(o[2]) for o in outcomes[2:]} <= first, "answered by a worker over its share"

    _run(scenario, slow_start=slow_start, size=2, decision_timeout=10.0)
