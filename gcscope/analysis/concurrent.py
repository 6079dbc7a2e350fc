"""Metrics of the work that is not a stop-the-world pause: concurrent cycles, allocation
stalls, degenerated GCs and safepoints.

A concurrent collector (ZGC, Shenandoah) pauses for well under a millisecond, so its pause
percentiles say little. What hurts is elsewhere: cycles that run back to back (the collector
cannot keep up), allocation stalls (a ZGC thread waiting for memory: a latency incident that no
pause line shows), degenerated and full GCs (Shenandoah giving up on concurrency). Safepoints
(`-Xlog:safepoint`) are every VM operation that stops the threads, GC or not, with the time the
threads took to reach the safepoint.

Same conventions as metrics.py: one run's events in, plain Python values out, columnar only.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from gcscope.model import (
    CATEGORY,
    CONCURRENT,
    DURATION_MS,
    KIND,
    NAME,
    PAUSE,
    SAFEPOINT,
    STALL,
    TIME_TO_SAFEPOINT_MS,
)

# Percentiles of cycle and safepoint durations (exact, linear interpolation: see metrics.py).
QUANTILES = (("p50_ms", 0.50), ("p99_ms", 0.99))


def _stats(durations: pl.Expr) -> list[pl.Expr]:
    return [
        durations.sum().alias("total_ms"),
        *(durations.quantile(q, interpolation="linear").alias(key) for key, q in QUANTILES),
        durations.max().alias("max_ms"),
    ]


def concurrent_stats(events: pl.DataFrame, span_s: float | None) -> dict[str, Any]:
    """Concurrent cycles: `cycles`, duration `total_ms`, `p50_ms`, `p99_ms`, `max_ms` (of the
    cycles whose duration is known), `per_minute` over the run, and the same `by_kind`
    (G1 `mark_cycle`; ZGC `cycle`, `minor`, `major`; Shenandoah `cycle`, `young`, `old`, `global`)."""
    cycles = events.lazy().select(CATEGORY, KIND, DURATION_MS).filter(pl.col(CATEGORY) == CONCURRENT)
    d = pl.col(DURATION_MS)
    overall = cycles.select(pl.len().alias("cycles"), *_stats(d)).collect().row(0, named=True)
    by_kind = (
        cycles.group_by(pl.col(KIND).fill_null("cycle"))
        .agg(pl.len().alias("cycles"), *_stats(d))
        .sort(KIND)
        .collect()
    )
    per_minute = overall["cycles"] / (span_s / 60.0) if span_s and overall["cycles"] else None
    return {
        **overall,
        "total_ms": overall["total_ms"] or 0.0,
        "per_minute": per_minute,
        "by_kind": {row.pop(KIND): row for row in by_kind.iter_rows(named=True)},
    }


def stall_stats(events: pl.DataFrame) -> dict[str, Any]:
    """Allocation stalls: `count`, `total_ms`, `max_ms` (a thread's wait, not a pause)."""
    stalls = events.lazy().select(CATEGORY, DURATION_MS).filter(pl.col(CATEGORY) == STALL)
    row = stalls.select(
        pl.len().alias("count"), pl.col(DURATION_MS).sum().alias("total_ms"), pl.col(DURATION_MS).max().alias("max_ms")
    ).collect().row(0, named=True)
    return {"count": row["count"], "total_ms": float(row["total_ms"] or 0.0), "max_ms": row["max_ms"]}


def degenerated_gc_count(events: pl.DataFrame) -> int:
    """Shenandoah degenerated GCs: the concurrent cycle failed and finished stop-the-world."""
    return events.lazy().select(CATEGORY, KIND).filter(
        (pl.col(CATEGORY) == PAUSE) & (pl.col(KIND) == "degenerated")
    ).select(pl.len()).collect().item()


def safepoint_stats(events: pl.DataFrame) -> dict[str, Any] | None:
    """Safepoints (`-Xlog:safepoint`), None when the log has none: `count`; at-safepoint
    duration `total_ms`, `p50_ms`, `p99_ms`, `max_ms`; time to reach the safepoint
    `ttsp_p50_ms`, `ttsp_p99_ms`, `ttsp_max_ms`; and `by_operation` (the VM operation:
    G1CollectForAllocation, Cleanup, ICBufferFull… — JDK 9-12 logs do not name it: "unnamed")."""
    safepoints = events.lazy().select(CATEGORY, NAME, DURATION_MS, TIME_TO_SAFEPOINT_MS).filter(
        pl.col(CATEGORY) == SAFEPOINT
    )
    d, ttsp = pl.col(DURATION_MS), pl.col(TIME_TO_SAFEPOINT_MS)
    ttsp_stats = [
        *(ttsp.quantile(q, interpolation="linear").alias(f"ttsp_{key}") for key, q in QUANTILES),
        ttsp.max().alias("ttsp_max_ms"),
    ]
    overall = safepoints.select(pl.len().alias("count"), *_stats(d), *ttsp_stats).collect().row(0, named=True)
    if not overall["count"]:
        return None
    by_operation = (
        safepoints.group_by(pl.col(NAME).fill_null("unnamed"))
        .agg(pl.len().alias("count"), *_stats(d), *ttsp_stats)
        .sort("total_ms", descending=True, nulls_last=True)
        .collect()
    )
    return {
        **overall,
        "by_operation": {row.pop(NAME): row for row in by_operation.iter_rows(named=True)},
    }
