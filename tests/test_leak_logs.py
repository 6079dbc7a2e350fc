"""The leak verdict on real logs recorded by sample_logs/leak/record.py: leak, steady, OOM and
too-short runs under every collector."""

from __future__ import annotations

import gzip
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from gcscope import model
from gcscope.analysis import analyze_ingested, analyze_logs
from gcscope.ingest import read_events
from tests.conftest import SAMPLE_LOGS

LEAK_DIR = SAMPLE_LOGS / "leak"
MB = 1024 * 1024


def load_recorder():
    """sample_logs/leak/record.py: the one list of command lines (RUNS)."""
    spec = importlib.util.spec_from_file_location("leak_record", LEAK_DIR / "record.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("leak_record", module)
    spec.loader.exec_module(module)
    return module


record = load_recorder()

# Lines of whole-heap or old collections with "before->after" heap figures, as the JVM prints
# them: Parallel/Serial/G1 full and G1 mixed pauses, ZGC and Shenandoah cycles. A plain regex
# over the raw text: an estimate of the floor made without gcscope's engine.
FLOOR_LINE = re.compile(
    r"^\[(?P<t>[\d.]+)s\].*\bGC\(\d+\) (?:Pause Full|Pause Young \(Mixed\)|Garbage Collection"
    r"|Concurrent cleanup|Pause Degenerated GC)"  # Shenandoah: a cycle's cleanups, its fallback
    r".*?\d+M(?:\(\d+%\))?->(?P<after>\d+)M"
)


def read_text(path: Path) -> str:
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes()).decode()
    return path.read_text()


def raw_floor_slope_pct_per_hour(path: Path, heap_max_mb: float, skip_s: float) -> float:
    """Least squares through the lowest heap-after of each second of old collections."""
    lowest: dict[int, float] = {}
    for line in read_text(path).splitlines():
        m = FLOOR_LINE.match(line)
        if m and float(m["t"]) >= skip_s:
            second = int(float(m["t"]))
            lowest[second] = min(lowest.get(second, 1e18), float(m["after"]))
    t = np.array(sorted(lowest), dtype=float)
    y = np.array([lowest[int(s)] for s in t]) / heap_max_mb * 100.0
    return float(np.polyfit(t / 3600.0, y, 1)[0])


def analysed(run):
    """The run's log, analysed. Every collector's grammar reads heap figures: a log without a
    collection that has them is a failure, not an expected one."""
    path = record.stored_name(run)
    assert path.exists(), f"{path} missing: run python sample_logs/leak/record.py"
    ingest = read_events([path])
    with_heap = ingest.events.filter(pl.col(model.HEAP_AFTER_BYTES).is_not_null())
    assert with_heap.height, f"{path}: no {run.collector} collection with heap figures was read"
    result = analyze_ingested(ingest)
    assert len(result.runs) == 1
    return path, result


@pytest.mark.parametrize("run", record.RUNS, ids=lambda r: r.log)
def test_recorded_run_gets_the_expected_verdict(run):
    path, result = analysed(run)
    leak = result.runs[0].leak
    assert leak["verdict"] == run.expect, leak["reason"]
    ids = {f["id"]: f for f in result.findings}
    if run.expect == "leak":
        assert leak["slope_pct_per_hour"] > 0
        assert leak["oom_eta_s"] is not None and np.isfinite(leak["oom_eta_s"])
        assert ids["GCS001"]["severity"] == "error"
        assert ids["GCS001"]["evidence"]["lines"]
        assert all(line.startswith(str(path)) for line in ids["GCS001"]["evidence"]["lines"])
    elif run.expect == "healthy":
        assert leak["shape"] == "sawtooth"
        assert leak["oom_eta_s"] is None
        assert "GCS001" not in ids
    else:
        assert leak["shape"] is None and leak["oom_eta_s"] is None
        assert "GCS001" not in ids
        assert leak["reason"]
    if run.shape:
        assert leak["shape"] == run.shape, leak["reason"]


@pytest.mark.parametrize(
    "run",
    [r for r in record.RUNS if r.mode == "leak" and r.expect == "leak" and not r.shape],
    ids=lambda r: r.log,
)
def test_leak_slope_agrees_with_a_plain_fit_of_the_raw_lines(run):
    path, result = analysed(run)
    leak = result.runs[0].leak
    heap_max_mb = result.runs[0].heap_max_bytes / MB
    raw = raw_floor_slope_pct_per_hour(path, heap_max_mb, leak["evidence"]["warmup_end_s"])
    assert raw > 0
    assert leak["slope_pct_per_hour"] == pytest.approx(raw, rel=0.35)
    # Time to OOM: where that line meets 100 % of the heap, from the end of the run.
    assert 0 < leak["oom_eta_s"] < 600


def test_oom_runs_end_in_back_to_back_full_gcs_with_oom_eta_zero_or_close():
    for run in (r for r in record.RUNS if r.shape == "hockey_stick"):
        path = record.stored_name(run)
        text = read_text(path)
        assert "Pause Full" in text
        result = analyze_logs([path])
        leak = result.runs[0].leak
        assert leak["verdict"] == "leak" and leak["shape"] == "hockey_stick"
        assert leak["oom_eta_s"] < 30, run.log
        assert leak["evidence"]["end_fill_pct"] >= 90, run.log
