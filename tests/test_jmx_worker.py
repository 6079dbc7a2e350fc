"""Workers that run a poll's calls at once under one deadline (plain Python callables: the
threading is what is tested here; the remote calls are tested against real JVMs elsewhere)."""

from __future__ import annotations

import threading

import pytest

from gcscope.jmx.worker import CallTimeout, Worker, run_together


def test_calls_run_at_the_same_time_and_come_back_in_order():
    barrier = threading.Barrier(3, timeout=5)  # passes only if all three are running at once
    workers = [Worker(f"w{i}") for i in range(3)]

    def call(i):
        barrier.wait()
        return i * 10

    results = run_together([(w, lambda i=i: call(i)) for i, w in enumerate(workers)], 10)
    assert results == [0, 10, 20]


def test_one_hung_call_times_out_all_and_its_worker_is_replaced():
    never = threading.Event()
    fast, hung = Worker("fast"), Worker("hung")
    with pytest.raises(CallTimeout, match="no answer within 0.3 s"):
        run_together([(fast, lambda: 1), (hung, never.wait)], 0.3)
    # the hung worker's thread was abandoned: the next call gets a fresh thread and an answer
    assert run_together([(fast, lambda: 2), (hung, lambda: 3)], 5) == [2, 3]
    never.set()


def test_the_first_error_in_order_is_raised_after_all_calls_finished():
    finished = threading.Event()
    a, b, c = Worker("a"), Worker("b"), Worker("c")

    def slow_ok():
        finished.wait(0.2)
        finished.set()
        return "ok"

    def fail(message):
        raise ValueError(message)

    with pytest.raises(ValueError, match="second"):
        run_together([(a, slow_ok), (b, lambda: fail("second")), (c, lambda: fail("third"))], 5)
    assert finished.is_set()  # the slow call was waited for, not left running
