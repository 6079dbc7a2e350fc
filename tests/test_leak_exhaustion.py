"""Very short runs that die of heap exhaustion get the verdict they show (leak, hockey stick),
short healthy runs keep `insufficient_evidence`, and a run without a verdict carries no slope
or fit. Real logs from sample_logs/ (the JVM's own OutOfMemoryError runs); expected lines come
from plain regular expressions over the raw text."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from gcscope import model
from gcscope.analysis import analyze_ingested, analyze_logs
from gcscope.analysis.leak import leak_verdict
from gcscope.config import default_config
from gcscope.ingest import read_events
from tests.conftest import SAMPLE_LOGS
from tests.leak_frames import heap_frame, meta

MB = 1024 * 1024
PARAMS = default_config().params("GCS001")

SHORT_OOM = [
    SAMPLE_LOGS / "jdk17" / "g1-gcstar-oom.log",
    SAMPLE_LOGS / "jdk17" / "shenandoah-gcstar-oom.log",
    SAMPLE_LOGS / "jdk25" / "shenandoah-gcstar-oom.log",
]
# Short runs of a steady workload (and a leak too short to tell): no verdict, whatever their
# last collections look like (the CMS one ends in full GCs after promotion failures).
SHORT_HEALTHY = [
    SAMPLE_LOGS / "jdk17" / "g1-gcstar.log",
    SAMPLE_LOGS / "jdk17" / "parallel-gcstar.log",
    SAMPLE_LOGS / "jdk17" / "serial-gcstar.log",
    SAMPLE_LOGS / "jdk17" / "shenandoah-gcstar.log",
    SAMPLE_LOGS / "jdk17" / "zgc-gcstar.log",
    SAMPLE_LOGS / "jdk11" / "cms-gcstar.log",
    SAMPLE_LOGS / "jdk17" / "g1-gcstar-sysgc.log",
    SAMPLE_LOGS / "leak" / "g1-leak-short.log",
]

# Summary lines of stop-the-world whole-heap collections: "GC(26) Pause Full (G1 Compaction
# Pause) 62M->59M(64M) 3.602ms", "GC(13) Pause Degenerated GC (Outside of Cycle) 45M->45M(64M)".
WHOLE_HEAP = re.compile(
    r"\] GC\(\d+\) Pause (?:Full|Degenerated GC)\b.*? (\d+)M->(\d+)M\((\d+)M\) [\d.]+ms$"
)


def whole_heap_lines(path: Path) -> list[tuple[int, int, int, int]]:
    """(line number, before MB, after MB, capacity MB) of each whole-heap pause summary."""
    out = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if m := WHOLE_HEAP.search(line):
            out.append((n, int(m[1]), int(m[2]), int(m[3])))
    return out


def ran_dry_lines(path: Path) -> tuple[list[int], list[int]]:
    """The back-to-back whole-heap pauses that freed (almost) nothing at the end of the raw log,
    and the ones after them that freed the heap (the workload dropped its data)."""
    pauses = whole_heap_lines(path)
    freed = [after / before < 0.9 for _, before, after, _ in pauses]
    last = max(i for i, f in enumerate(freed) if not f)
    first = last
    while first > 0 and not freed[first - 1]:
        first -= 1
    return [p[0] for p in pauses[first : last + 1]], [p[0] for p in pauses[last + 1 :]]


@pytest.mark.parametrize("path", SHORT_OOM, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_short_run_that_ran_out_is_a_leak_with_a_hockey_stick(path):
    raw = path.read_text()
    assert "Pause Full" in raw or "upgrading to Full GC" in raw  # the JVM fell back to full GCs
    dry, drop = ran_dry_lines(path)
    assert len(dry) >= 2

    result = analyze_logs([path])
    leak = result.runs[0].leak
    assert leak["verdict"] == "leak", leak["reason"]
    assert leak["shape"] == "hockey_stick"
    assert leak["oom_eta_s"] == 0.0
    assert leak["span_s"] < PARAMS["min_span_s"]  # conclusive however short
    assert "the heap has run out" in leak["reason"]
    exhaustion = leak["evidence"]["exhaustion"]
    assert exhaustion["collections"] == len(dry)
    shown = [int(x.rsplit(":", 1)[1]) for x in exhaustion["lines"]]
    assert shown == dry if len(dry) <= 5 else (shown[0], shown[-1]) == (dry[0], dry[-1])
    assert exhaustion["climb_pct"] >= PARAMS["min_rise_pct"]
    assert leak["evidence"]["end_fill_pct"] >= PARAMS["exhausted_pct"]
    # The collection that freed the heap after the OutOfMemoryError is no floor point.
    points = leak["evidence"]["points"]
    assert points[model.HEAP_AFTER_BYTES][-1] >= 0.9 * max(points[model.HEAP_AFTER_BYTES])
    assert max(points[model.UPTIME_S]) <= exhaustion["end_uptime_s"] + 1e-6
    assert exhaustion["collections_after"] <= 2
    for _, before, after, _ in (p for p in whole_heap_lines(path) if p[0] in drop):
        assert after < 0.5 * before  # what came after freed the heap: left out
        assert after * MB < min(points[model.HEAP_AFTER_BYTES])
    finding = next(f for f in result.findings if f["id"] == "GCS001")
    assert finding["severity"] == "error"
    assert finding["evidence"]["lines"]
    assert "already full" in finding["message"]


def test_the_exhaustion_lines_are_the_raw_back_to_back_full_gcs():
    path = SHORT_OOM[0]  # G1: two full GCs 62M->59M, 59M->59M, then 59M->1M after the error
    assert ran_dry_lines(path) == ([485, 504], [546])
    leak = analyze_logs([path]).runs[0].leak
    assert leak["evidence"]["exhaustion"]["lines"] == [f"{path}:485", f"{path}:504"]
    assert leak["evidence"]["exhaustion"]["collections_after"] == 2  # a young GC, the last full


@pytest.mark.parametrize("path", SHORT_HEALTHY, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_short_healthy_runs_keep_insufficient_evidence_without_slope_or_fit(path):
    leak = analyze_logs([path]).runs[0].leak
    assert leak["verdict"] == "insufficient_evidence", leak["reason"]
    assert leak["shape"] is None and leak["oom_eta_s"] is None
    assert leak["slope_pct_per_hour"] is None and leak["fit"] is None
    evidence = leak["evidence"]
    for key in ("floor_start_pct", "floor_end_pct", "rise_pct"):
        assert evidence.get(key) is None, key
    assert "exhaustion" not in evidence
    assert leak["reason"]


def test_requested_full_gcs_at_the_end_are_no_exhaustion():
    """The G1 OOM run with its full GCs relabelled System.gc(): someone asking for two full GCs
    that find a full heap proves nothing about running out."""
    ingest = read_events([SHORT_OOM[0]])
    full = pl.col(model.KIND) == "full"
    ingest.events = ingest.events.with_columns(
        pl.when(full).then(pl.lit("System.gc()")).otherwise(pl.col(model.CAUSE)).alias(model.CAUSE)
    )
    leak = analyze_ingested(ingest).runs[0].leak
    assert leak["verdict"] == "insufficient_evidence"
    assert "exhaustion" not in leak["evidence"]


def test_full_gcs_that_free_nothing_on_a_level_floor_are_no_leak():
    """A live set at 89 % from the start, ending in back-to-back full GCs that free nothing at
    93 %: the heap is too small, but the floor climbed less than min_rise_pct, so no leak."""
    frame = heap_frame(lambda t: np.full_like(t, 89.0), seconds=20, old_every_s=1, young_per_old=0)
    last = frame[model.UPTIME_S].max()
    tail = [
        {
            model.RUN_ID: 0,
            model.UPTIME_S: last + 0.1 * (k + 1),
            model.CATEGORY: model.PAUSE,
            model.KIND: "full",
            model.CAUSE: "Allocation Failure",
            model.DURATION_MS: 20.0,
            model.HEAP_BEFORE_BYTES: 960 * MB,
            model.HEAP_AFTER_BYTES: 955 * MB,
            model.HEAP_COMMITTED_BYTES: 1024 * MB,
        }
        for k in range(3)
    ]
    frame = heap_frame(
        lambda t: np.full_like(t, 89.0), seconds=20, old_every_s=1, young_per_old=0, extra=tail
    )
    out = leak_verdict(frame, meta(25.0), PARAMS)
    assert out["verdict"] != "leak"
    assert out["evidence"]["exhaustion"]["climb_pct"] < PARAMS["min_rise_pct"]
    assert out["verdict"] == "insufficient_evidence" and out["slope_pct_per_hour"] is None


def test_a_rising_floor_that_ends_in_exhaustion_is_a_leak_with_few_points():
    """Three floor points and two back-to-back full GCs that free nothing: fewer than
    min_points, still conclusive; the collection after them is left out."""
    frame = heap_frame(lambda t: 20.0 + 10.0 * t, seconds=3, old_every_s=1, young_per_old=0)
    extra = [
        {
            model.RUN_ID: 0,
            model.UPTIME_S: t,
            model.CATEGORY: model.PAUSE,
            model.KIND: "full",
            model.CAUSE: "Allocation Failure",
            model.DURATION_MS: 10.0,
            model.HEAP_BEFORE_BYTES: before * MB,
            model.HEAP_AFTER_BYTES: after * MB,
            model.HEAP_COMMITTED_BYTES: 1024 * MB,
        }
        for t, before, after in ((3.2, 1000, 980), (3.3, 980, 978), (3.4, 978, 10))
    ]
    frame = heap_frame(
        lambda t: 20.0 + 10.0 * t, seconds=3, old_every_s=1, young_per_old=0, extra=extra
    )
    out = leak_verdict(frame, meta(4.0), PARAMS)
    assert out["verdict"] == "leak", out["reason"]
    assert out["shape"] == "hockey_stick" and out["oom_eta_s"] == 0.0
    assert out["evidence"]["exhaustion"]["collections"] == 2
    assert out["evidence"]["exhaustion"]["collections_after"] == 1
    assert min(out["evidence"]["points"][model.HEAP_AFTER_BYTES]) > 10 * MB  # 978M->10M dropped
    # Two more collections after the exhaustion than allowed: the run went on, no conclusion.
    more = [
        {
            **extra[-1],
            model.UPTIME_S: 3.5 + 0.1 * k,
            model.HEAP_BEFORE_BYTES: 200 * MB,
            model.HEAP_AFTER_BYTES: 20 * MB,
        }
        for k in range(2)
    ]
    went_on = heap_frame(
        lambda t: 20.0 + 10.0 * t, seconds=3, old_every_s=1, young_per_old=0, extra=extra + more
    )
    assert "exhaustion" not in leak_verdict(went_on, meta(4.0), PARAMS)["evidence"]
