"""The worker processes and the queue of complete requests waiting for one. Process and socket I/O.

The front hands every complete request to ``Pool.submit`` with a callback;
the pool gives it to an idle worker (``app.worker.main``, one process each, one
request at a time) or queues it, first come first served (``urgent``
requests, the readiness probe, go first); when every worker is busy, a
few may wait in the socket of a worker whose current review is quick
(``_dispatch``). A worker is one Unix socket pair and one child process
(``workers.Worker``); messages are ``frames``.

Deadlines and failures, each answered by the pool so the callback always
runs exactly once:

* a request not answered within ``decision_timeout`` seconds of ``submit``
  (waiting for a worker included) gets ``workers.Outcome.TIMEOUT``: the front
  answers a clear denial before the apiserver's own timeout; a worker that
  has judged one request for that long is killed and replaced;
* a worker that dies while judging: ``workers.Outcome.LOST``; it is replaced;
* requests waiting behind either of those go back to the head of the queue;
* a request still queued when the pool stops: ``workers.Outcome.LOST``.

A replaced worker is started again at once (at most once per
``_RESPAWN_PAUSE`` per slot, so a worker that cannot start does not spin).
A worker that asks to retire (its memory share) keeps answering until it is
idle and no other slot is starting, then its successor starts in its slot:
one slot starts at a time, so with two workers or more a review never waits
for a worker to start, and the workers never outnumber their slots.
The pool is ready once every worker has said hello.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import subprocess
from collections.abc import Callable, Sequence
from typing import Final

from webhook import jsonlogs
from webhook.server import frames
from webhook.server.front import workers

_LOG: Final = jsonlogs.logger("pool")
_RESPAWN_PAUSE: Final = 0.5
#: Requests that may wait in a busy worker's socket, and for how long its current one may
#: have run for that (seconds).
PIPELINE_DEPTH: Final = 4
PIPELINE_BEHIND: Final = 0.005


class Pool:
    """``size`` worker processes started with ``command`` and ``env``."""

    def __init__(
        self,
        *,
        command: Sequence[str],
        env: dict[str, str],
        fd_env: str,
        size: int,
        decision_timeout: float,
        on_reply: Callable[[frames.Reply], None] | None = None,
        on_timeout: Callable[[], None] | None = None,
    ) -> None:
        self._command = list(command)
        self._env = env
        self._fd_env = fd_env
        self.size = size
        self.decision_timeout = decision_timeout
        self._on_reply = on_reply
        self._on_timeout = on_timeout
        self._queue: collections.deque[workers.Job] = collections.deque()
        self.workers: list[workers.Worker | None] = [None] * size
        self._stopping = False
        self._all_ready = asyncio.Event()
        self._last_start: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reaping: set[asyncio.Future[int]] = set()

    # lifecycle --------------------------------------------------------------

    async def start(self, timeout: float) -> None:
        """Start every worker; ``TimeoutError`` if not all say hello within ``timeout``."""
        for slot in range(self.size):
            await self._spawn(slot)
        await asyncio.wait_for(self._all_ready.wait(), timeout)

    async def _spawn(self, slot: int) -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(self._env)
        env[self._fd_env] = str(theirs.fileno())
        try:
            # preexec_fn only sets the parent-death signal; no lock is taken in the child
            process = subprocess.Popen(
                self._command,
                env=env,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
                preexec_fn=workers.die_with_parent,  # noqa: PLW1509
            )
        finally:
            theirs.close()
        self._last_start[slot] = loop.time()
        worker = workers.Worker(self, slot)
        worker.process = process
        self.workers[slot] = worker
        await loop.connect_accepted_socket(lambda: worker, ours)

    def worker_ready(self, worker: workers.Worker) -> None:
        if worker.gone:
            return
        _LOG.info(
            "worker ready",
            extra=jsonlogs.fields(
                slot=worker.slot, pid=worker.process.pid if worker.process else None
            ),
        )
        if all(w is not None and w.ready for w in self.workers):
            self._all_ready.set()
        self._replace_retiring()
        self._dispatch()

    def worker_retiring(self, worker: workers.Worker) -> None:
        """``worker`` asked to be replaced (its memory): it goes once idle, one at a time."""
        worker.retiring = True
        _LOG.info(
            "replacing a worker over its memory share", extra=jsonlogs.fields(slot=worker.slot)
        )
        self._replace_retiring()

    def _starting(self, slot: int) -> bool:
        worker = self.workers[slot]
        return worker is None or worker.gone or not worker.ready

    def _replace_retiring(self) -> None:
        """Replace one idle retiring worker, unless another slot is still starting.

        One slot at a time: while a successor starts, the other workers
        (retiring ones too) keep answering, so no review waits for a start;
        with a single worker, its successor starts once it is idle.
        """
        if self._stopping or any(self._starting(slot) for slot in range(self.size)):
            return
        for worker in self.workers:
            if worker is not None and worker.retiring and not worker.jobs:
                self._replace_idle(worker)
                return

    def _replace_idle(self, worker: workers.Worker) -> None:
        """Close an idle retiring worker's socket (it exits) and start its successor."""
        if worker.gone:
            return
        worker.gone = True
        if worker.timer is not None:
            worker.timer.cancel()
        if worker.transport is not None:
            worker.transport.close()
        process = worker.process
        if process is not None:
            reaped = asyncio.get_running_loop().run_in_executor(None, process.wait)
            self._reaping.add(reaped)
            reaped.add_done_callback(self._reaping.discard)
        if not self._stopping:
            self._start_respawn(worker.slot)

    def retire(
        self, worker: workers.Worker, *, outcome: workers.Outcome = workers.Outcome.LOST
    ) -> None:
        """``worker`` is gone (or must go): fail its job, kill it, start another in its slot."""
        if worker.gone:
            return
        worker.gone = True
        if worker.timer is not None:
            worker.timer.cancel()
        jobs = list(worker.jobs)
        worker.jobs.clear()
        job = jobs[0] if jobs else None
        # the jobs behind the first were never started: they go back to the front of the queue
        self._queue.extendleft(reversed([j for j in jobs[1:] if not j.done]))
        if worker.transport is not None:
            worker.transport.abort()
        process = worker.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        if process is not None:
            reaped = asyncio.get_running_loop().run_in_executor(None, process.wait)
            self._reaping.add(reaped)
            reaped.add_done_callback(self._reaping.discard)
        if job is not None:
            job.finish(outcome, None)
        if self._stopping:
            return
        self._dispatch()
        if outcome is workers.Outcome.LOST:
            _LOG.error(
                "a worker exited; starting another",
                extra=jsonlogs.fields(slot=worker.slot, status=process.poll() if process else None),
            )
        loop = asyncio.get_running_loop()
        pause = max(0.0, self._last_start.get(worker.slot, 0.0) + _RESPAWN_PAUSE - loop.time())
        loop.call_later(pause, self._start_respawn, worker.slot)

    async def _respawn(self, slot: int) -> None:
        if self._stopping:
            return
        try:
            await self._spawn(slot)
        except OSError as err:
            _LOG.error("a worker cannot be started", extra=jsonlogs.fields(error=str(err)))
            asyncio.get_running_loop().call_later(_RESPAWN_PAUSE, self._start_respawn, slot)

    def _start_respawn(self, slot: int) -> None:
        task = asyncio.get_running_loop().create_task(self._respawn(slot))
        self._tasks.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._tasks.discard)

    async def stop(self, timeout: float) -> None:
        """Fail what is queued, close every worker's socket and wait for them to exit."""
        self._stopping = True
        while self._queue:
            self._queue.popleft().finish(workers.Outcome.LOST, None)
        processes = []
        for worker in self.workers:
            if worker is None:
                continue
            worker.gone = True
            if worker.transport is not None:
                worker.transport.close()
            if worker.process is not None:
                processes.append(worker.process)
        loop = asyncio.get_running_loop()
        for process in processes:
            try:
                await asyncio.wait_for(loop.run_in_executor(None, process.wait), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()

    # requests ---------------------------------------------------------------

    @property
    def busy(self) -> int:
        return sum(1 for w in self.workers if w is not None and w.jobs)

    @property
    def ready(self) -> bool:
        return any(w is not None and w.ready and not w.gone for w in self.workers)

    def submit(
        self, frame: tuple[bytes, bytes], callback: workers.Callback, *, urgent: bool = False
    ) -> None:
        """Judge ``frame`` (``frames.encode_request``); ``callback`` gets the outcome, once.

        The decision deadline runs from here: a request still waiting or being
        judged ``decision_timeout`` seconds later is answered ``TIMEOUT``.
        """
        job = workers.Job(frame, callback)
        if self._stopping:
            job.finish(workers.Outcome.LOST, None)
            return
        job.timer = asyncio.get_running_loop().call_later(
            self.decision_timeout, self._job_expired, job
        )
        if urgent:
            self._queue.appendleft(job)
        else:
            self._queue.append(job)
        self._dispatch()

    def _pick(self, now: float) -> workers.Worker | None:
        """An idle worker (one not retiring first), else one to queue behind a quick review."""
        best: workers.Worker | None = None
        idle_retiring: workers.Worker | None = None
        for worker in self.workers:
            if worker is None or not worker.ready or worker.gone:
                continue
            if not worker.jobs:
                if not worker.retiring:
                    return worker
                idle_retiring = idle_retiring or worker
            elif (
                len(worker.jobs) < PIPELINE_DEPTH
                and now - worker.started < PIPELINE_BEHIND
                and (best is None or len(worker.jobs) < len(best.jobs))
            ):
                best = worker
        return idle_retiring or best

    def _dispatch(self) -> None:
        """Send queued jobs to workers.

        A worker judges one request at a time, but up to ``PIPELINE_DEPTH``
        may wait in its socket when every worker is busy and its current
        review has run for less than ``PIPELINE_BEHIND`` seconds: one wake-up
        of the worker then judges several (a process hop per review is what
        costs most on a busy core), while a review that is known to be slow
        gets nothing queued behind it.
        """
        loop = asyncio.get_running_loop()
        while self._queue:
            now = loop.time()
            worker = self._pick(now)
            if worker is None:
                return
            job = self._queue.popleft()
            if not worker.jobs:
                worker.started = now
                worker.timer = loop.call_at(now + self.decision_timeout, self._expire, worker)
            worker.jobs.append(job)
            assert worker.transport is not None
            worker.transport.writelines(job.frame)

    def _job_expired(self, job: workers.Job) -> None:
        """A request not answered within the deadline: refused now, wherever it is."""
        if job.done:
            return
        with contextlib.suppress(ValueError):
            self._queue.remove(job)
        if self._on_timeout is not None:
            self._on_timeout()
        job.finish(workers.Outcome.TIMEOUT, None)

    def _expire(self, worker: workers.Worker) -> None:
        """A worker has judged one request for longer than the deadline: replace it."""
        if not worker.jobs or worker.gone:
            return
        _LOG.error(
            "a review took longer than the decision deadline; replacing its worker",
            extra=jsonlogs.fields(slot=worker.slot, deadlineSeconds=self.decision_timeout),
        )
        self.retire(worker, outcome=workers.Outcome.TIMEOUT)

    def answered(self, worker: workers.Worker, reply: frames.Reply) -> None:
        job = worker.jobs.popleft() if worker.jobs else None
        if worker.timer is not None:
            worker.timer.cancel()
            worker.timer = None
        if worker.jobs:  # the next one starts now
            loop = asyncio.get_running_loop()
            worker.started = loop.time()
            worker.timer = loop.call_at(
                worker.started + self.decision_timeout, self._expire, worker
            )
        if self._on_reply is not None:
            self._on_reply(reply)
        if job is not None:
            job.finish(workers.Outcome.ANSWERED, reply)
        if worker.retiring and not worker.jobs:
            self._replace_retiring()
        self._dispatch()
