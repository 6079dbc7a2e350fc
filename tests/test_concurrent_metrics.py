"""Metrics beyond the pauses (gcscope/analysis/concurrent.py) against figures read off the raw
log lines with plain Python: safepoints (JDK 9-12 and 13+ wording), concurrent cycles."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from pathlib import Path

import pytest

from gcscope.analysis import analyze_logs

from .conftest import SAMPLE_LOGS

NEW_SAFEPOINT = re.compile(r'Safepoint "(\w+)", .*Reaching safepoint: (\d+) ns, .*Total: (\d+) ns')
OLD_BEGIN = re.compile(r"Entering safepoint region: (\w+)")
OLD_END = re.compile(r"Total time for which application threads were stopped: ([\d.]+) seconds, "
                     r"Stopping threads took: ([\d.]+) seconds")


def raw_safepoints(log: Path) -> list[tuple[str, float, float]]:
    """(operation, stopped ms, time to safepoint ms) per safepoint, in log order."""
    found, operation = [], None
    for line in log.read_text().splitlines():
        if m := NEW_SAFEPOINT.search(line):
            found.append((m[1], int(m[3]) / 1e6, int(m[2]) / 1e6))
        elif m := OLD_BEGIN.search(line):
            operation = m[1]
        elif m := OLD_END.search(line):
            found.append((operation, float(m[1]) * 1000, float(m[2]) * 1000))
    return found


def inclusive_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@pytest.mark.parametrize("log", ["jdk11/g1-gcstar-safepoint.log", "jdk17/g1-gcstar-safepoint.log",
                                 "jdk25/g1-gcstar-safepoint.log"])
def test_safepoints_equal_the_raw_lines(log: str):
    path = SAMPLE_LOGS / log
    raw = raw_safepoints(path)
    assert len(raw) > 20
    got = analyze_logs([path]).runs[0].safepoints
    assert got["count"] == len(raw)
    stopped = [ms for _, ms, _ in raw]
    assert got["max_ms"] == pytest.approx(max(stopped))
    assert got["total_ms"] == pytest.approx(sum(stopped))
    assert got["p99_ms"] == pytest.approx(inclusive_quantile(stopped, 0.99))
    assert got["ttsp_max_ms"] == pytest.approx(max(t for _, _, t in raw))
    assert {op: stats["count"] for op, stats in got["by_operation"].items()} == Counter(op for op, _, _ in raw)


def test_a_log_without_safepoint_lines_has_no_safepoint_figures():
    assert analyze_logs([SAMPLE_LOGS / "jdk17" / "g1-gcstar.log"]).runs[0].safepoints is None


def test_g1_concurrent_mark_cycles_equal_the_raw_lines():
    path = SAMPLE_LOGS / "jdk17" / "g1-gcstar-safepoint.log"
    durations = [float(m[1]) for m in re.finditer(r"Concurrent Mark Cycle ([\d.]+)ms", path.read_text())]
    assert durations
    run = analyze_logs([path]).runs[0]
    got = run.concurrent
    assert got["cycles"] == len(durations)
    assert got["max_ms"] == pytest.approx(max(durations))
    assert got["p50_ms"] == pytest.approx(statistics.median(durations))
    assert got["by_kind"]["mark_cycle"]["cycles"] == len(durations)
    span_min = (run.end_uptime_s - run.start_uptime_s) / 60
    assert got["per_minute"] == pytest.approx(len(durations) / span_min)
    # G1 has no allocation stalls or degenerated collections
    assert run.stalls == {"count": 0, "total_ms": 0.0, "max_ms": None}
    assert run.degenerated_gc_count == 0


def test_summary_shows_safepoints_and_cycles_only_when_present():
    import io

    from gcscope.report.text import print_summary

    def summary(log: Path) -> str:
        out = io.StringIO()
        print_summary(analyze_logs([log]), file=out)
        return out.getvalue()

    with_safepoints = SAMPLE_LOGS / "jdk11" / "g1-gcstar-safepoint.log"
    text = summary(with_safepoints)
    assert f"Safepoints {len(raw_safepoints(with_safepoints))}" in text
    assert "Concurrent cycles " in text
    assert "Allocation stalls" not in text and "Degenerated GCs" not in text
    assert "Safepoints" not in summary(SAMPLE_LOGS / "jdk17" / "serial-gcstar.log")
