"""The leak verdict on JVMs run live: one test per collector, leak and steady runs side by side.

All ten JVMs (five collectors × leak/steady, the command lines of sample_logs/leak/record.py,
shortened to LIVE_SECONDS) start together in one module fixture, so the five tests cost about
LIVE_SECONDS of wall time in all, not five times that.
"""

from __future__ import annotations

import shutil
import subprocess
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
COLLECTORS = list(record.COLLECTORS)

pytestmark = pytest.mark.jvm


@dataclass
class LiveRun:
    run: object  # record.Run
    log: Path
    process: subprocess.Popen

    def finish(self) -> Path:
        try:
            out, err = self.process.communicate(timeout=LIVE_SECONDS + 60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"{self.log.name}: the JVM did not finish in time")
        assert self.process.returncode in self.run.expect_exit, f"{self.log.name}: {out}{err}"
        return self.log


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
        cmd = run.command(java, str(classes), str(log), seconds=LIVE_SECONDS)
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        runs[(run.collector, run.mode)] = LiveRun(run, log, process)
    started = time.monotonic()
    yield runs
    for live in runs.values():  # a failed test must not leave JVMs behind
        if live.process.poll() is None:
            live.process.kill()
            live.process.wait(timeout=10)
    assert time.monotonic() - started < LIVE_SECONDS + 90


def verdict_of(log: Path, collector: str) -> dict:
    ingest = read_events([log])
    if ingest.events.filter(pl.col(model.HEAP_AFTER_BYTES).is_not_null()).height == 0:
        pytest.xfail(f"the ingest does not read {collector} collections yet")
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
