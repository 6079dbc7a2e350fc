"""Java calls on daemon worker threads, waited for in short slices.

Why: a remote call can block for a long time (a frozen target, a port that never answers), and
with `startJVM(interrupt=False)` Ctrl-C reaches Python only when the main thread runs bytecode.
So the main thread never calls into a remote JVM itself: it hands the call to a worker and waits in
slices of 0.1 s, staying responsive to Ctrl-C. A call that overruns its timeout is abandoned with
its (daemon) thread, which cannot keep the process alive; the next call gets a fresh worker.
`run_together` hands several calls to several workers at once and waits for all of them under one
deadline: a poll's remote calls then overlap instead of queueing one behind the other.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

SLICE_S = 0.1


class CallTimeout(Exception):
    """A call did not finish within its timeout (its worker was abandoned)."""


class _Job:
    __slots__ = ("done", "error", "fn", "result")

    def __init__(self, fn: Callable[[], Any]):
        self.fn = fn
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class Worker:
    """One daemon thread running submitted callables in order."""

    def __init__(self, name: str = "gcscope-jmx"):
        self.name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._busy_since: float | None = None

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._jobs = queue.SimpleQueue()
            self._thread = threading.Thread(
                target=self._loop, args=(self._jobs,), name=self.name, daemon=True
            )
            self._thread.start()

    @staticmethod
    def _loop(jobs: queue.SimpleQueue) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            try:
                job.result = job.fn()
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                job.error = exc
            finally:
                job.done.set()

    def submit(self, fn: Callable[[], Any]) -> _Job:
        self._ensure_thread()
        job = _Job(fn)
        self._jobs.put(job)
        return job

    def call(self, fn: Callable[[], Any], timeout_s: float) -> Any:
        """Run fn on the worker; raise CallTimeout after timeout_s (abandoning the worker)."""
        return run_together([(self, fn)], timeout_s)[0]

    def abandon(self) -> None:
        """Leave the current thread to finish (or hang) on its own; later calls get a new one."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread = None

    def close(self) -> None:
        self.abandon()


def run_together(calls: Sequence[tuple[Worker, Callable[[], Any]]], timeout_s: float) -> list[Any]:
    """Start every (worker, fn) at once and return the results in order.

    One deadline for all: if any call is still running at timeout_s, every worker that has not
    finished is abandoned and CallTimeout is raised. Otherwise the first call's error (in order)
    is raised, after all have finished, so that no call is left running behind our back.
    """
    jobs = [(worker, worker.submit(fn)) for worker, fn in calls]
    deadline = time.monotonic() + timeout_s  # wall time: a busy machine stretches slices
    for _, job in jobs:
        while not job.done.wait(SLICE_S):  # short slices: Ctrl-C is seen within 0.1 s
            if time.monotonic() >= deadline:
                for worker, pending in jobs:
                    if not pending.done.is_set():
                        worker.abandon()
                raise CallTimeout(f"no answer within {timeout_s:g} s")
    for _, job in jobs:
        if job.error is not None:
            raise job.error
    return [job.result for _, job in jobs]
