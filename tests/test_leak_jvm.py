"""The leak verdict on JVMs run live: one test per collector, leak and steady runs side by side.

All ten JVMs (five collectors × leak/steady, the command lines of sample_logs/leak/record.py)
start together in one module fixture, so the five tests cost about LIVE_SECONDS of wall time in
all, not five times that. A fixed wall time is not a fixed amount of evidence: on a busy machine
a JVM gets less CPU, collects less often, and its post-GC floor can span less than the 30 s a
verdict needs. So each JVM runs at least LIVE_SECONDS and then until its log's floor points
span EVIDENCE_SPAN_S (a margin over GCS001.min_span_s), and is then told to stop through a stop
file (it ends as at the end of its --seconds); MAX_SECONDS bounds it.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from gcscope import model
from gcscope.analysis import analyze_ingested
from gcscope.ingest import read_events
from tests.test_leak_logs import record

LIVE_SECONDS = 55  # a steady Parallel heap: first full GC after ~8 s, then every ~4 s;
# the first is warm-up, and the floor must span 30 s (GCS001.min_span_s)
EVIDENCE_SPAN_S = 35.0  # run on until the floor spans this: 30 s + room for the warm-up and
# the floor bins to move a little as the log grows after the check
MAX_SECONDS = 150  # the workload's --seconds: the bound when the evidence never comes
CHECK_EVERY_S = 2.0
COLLECTORS = list(record.COLLECTORS)

pytestmark = pytest.mark.jvm


@dataclass
class LiveRun:
    run: object  # record.Run
    log: Path
    stop_file: Path
    process: subprocess.Popen
    floor_span_s: float | None = None  # at the last check

    def finish(self) -> Path:
        try:
            out, err = self.process.communicate(timeout=MAX_SECONDS + 60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"{self.log.name}: the JVM did not finish in time")
        assert self.process.returncode in self.run.expect_exit, f"{self.log.name}: {out}{err}"
        return self.log

    def enough_evidence(self) -> bool:
        """Whether the log so far has floor points spanning EVIDENCE_SPAN_S, whatever the
        verdict (a line being written is just not read yet)."""
        try:
            ingest = read_events([self.log])
            leak = analyze_ingested(ingest).runs[0].leak
        except Exception:  # noqa: BLE001 - a log just started: not enough, check again later
            return False
        evidence = leak.get("evidence") or {}
        start, end = evidence.get("start_uptime_s"), evidence.get("end_uptime_s")
        self.floor_span_s = None if start is None or end is None else end - start
        return self.floor_span_s is not None and self.floor_span_s >= EVIDENCE_SPAN_S


def stop_when_evidence_suffices(runs: dict, started: float, done: threading.Event) -> None:
    """Each JVM runs LIVE_SECONDS, then until its floor spans EVIDENCE_SPAN_S (or MAX_SECONDS)."""
    while not done.wait(CHECK_EVERY_S):
        if time.monotonic() - started < LIVE_SECONDS:
            continue
        pending = [
            r for r in runs.values() if r.process.poll() is None and not r.stop_file.exists()
        ]
        if not pending:
            return
        for live in pending:
            if live.enough_evidence():
                live.stop_file.touch()


@pytest.fixture(scope="module")
def live_runs(tmp_path_factory):
    java, javac = shutil.which("java"), shutil.which("javac")
    if not java or not javac:
        pytest.fail("java and javac are needed on PATH for the live JVM tests")
    work = tmp_path_factory.mktemp("leak-jvm")
    classes = work / "classes"
    record.compile_workload(javac, classes)
    runs = {}
    for run in record.RUNS:
        if run.mode not in ("leak", "steady") or run.expect not in ("leak", "healthy"):
            continue
        if run.shape:  # the OOM runs: recorded only
            continue
        log = work / run.log
        stop_file = work / f"{run.log}.stop"
        cmd = run.command(java, str(classes), str(log), seconds=MAX_SECONDS)
        cmd += ["--stop-file", str(stop_file)]
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        runs[(run.collector, run.mode)] = LiveRun(run, log, stop_file, process)
    started = time.monotonic()
    done = threading.Event()
    monitor = threading.Thread(
        target=stop_when_evidence_suffices, args=(runs, started, done), daemon=True
    )
    monitor.start()
    try:
        yield runs
    finally:
        done.set()
        monitor.join(30)
        for live in runs.values():  # a failed test must not leave JVMs behind
            if live.process.poll() is None:
                live.process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    live.process.wait(timeout=10)
    assert time.monotonic() - started < MAX_SECONDS + 90


def verdict_of(log: Path, collector: str) -> dict:
    ingest = read_events([log])
    with_heap = ingest.events.filter(pl.col(model.HEAP_AFTER_BYTES).is_not_null())
    assert with_heap.height, f"{log}: no {collector} collection with heap figures was read"
    result = analyze_ingested(ingest)
    assert len(result.runs) == 1
    return result.runs[0].leak


@pytest.mark.parametrize("collector", COLLECTORS)
def test_live_leak_and_steady_runs(live_runs, collector):
    leak = verdict_of(live_runs[(collector, "leak")].finish(), collector)
    steady = verdict_of(live_runs[(collector, "steady")].finish(), collector)

    assert leak["verdict"] in ("leak", "suspected"), leak["reason"]
    if leak["verdict"] == "suspected":
        assert leak["shape"] in ("rising_floor", "hockey_stick", "staircase")
    assert leak["slope_pct_per_hour"] > 0
    assert leak["oom_eta_s"] is not None and 0 <= leak["oom_eta_s"] < 3600
    assert leak["evidence"]["end_uptime_s"] - leak["evidence"]["start_uptime_s"] >= 30

    assert steady["verdict"] == "healthy", steady["reason"]
    assert steady["shape"] == "sawtooth" and steady["oom_eta_s"] is None
