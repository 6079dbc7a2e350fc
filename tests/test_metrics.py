"""Metrics on small hand-made event tables, each answer derived independently: by hand in the
comments, with the standard library (`statistics.quantiles`), or by a plain-Python brute force
that shares no code with the vectorised implementation."""

from __future__ import annotations

import math
import random
import statistics

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gcscope.analysis import metrics
from gcscope.model import conform_events

MB = 1024 * 1024


def events(**columns) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    columns.setdefault("category", ["pause"] * n)
    return conform_events(pl.DataFrame(columns, strict=False))


def pauses_at(intervals: list[tuple[float, float]], kinds: list[str] | None = None):
    """Pause events from (start_s, duration_s) pairs."""
    return events(
        uptime_s=[s for s, _ in intervals],
        duration_ms=[d * 1000.0 for _, d in intervals],
        kind=kinds or ["young"] * len(intervals),
    )


# --- percentiles ---------------------------------------------------------------------------------


def test_percentiles_interpolate_linearly_between_ranks():
    # [1, 2, 3, 4]: position (n-1)q = 1.5 for p50 -> 2.5; 2.7 for p90 -> 3 + 0.7 = 3.7.
    stats = metrics.pause_stats(events(duration_ms=[4.0, 1.0, 3.0, 2.0], kind=["young"] * 4))
    assert stats["count"] == 4
    assert stats["total_ms"] == 10.0
    assert stats["mean_ms"] == 2.5
    assert stats["p50_ms"] == pytest.approx(2.5)
    assert stats["p90_ms"] == pytest.approx(3.7)
    assert stats["p99_ms"] == pytest.approx(3.97)
    assert stats["p999_ms"] == pytest.approx(3.997)
    assert stats["max_ms"] == 4.0


def test_percentiles_match_statistics_quantiles_inclusive():
    rng = random.Random(7)
    durations = [rng.lognormvariate(2.0, 1.2) for _ in range(2_345)]
    stats = metrics.pause_stats(events(duration_ms=durations, kind=["young"] * len(durations)))
    centiles = statistics.quantiles(durations, n=100, method="inclusive")
    permilles = statistics.quantiles(durations, n=1000, method="inclusive")
    assert stats["p50_ms"] == pytest.approx(centiles[49], rel=1e-12)
    assert stats["p90_ms"] == pytest.approx(centiles[89], rel=1e-12)
    assert stats["p95_ms"] == pytest.approx(centiles[94], rel=1e-12)
    assert stats["p99_ms"] == pytest.approx(centiles[98], rel=1e-12)
    assert stats["p999_ms"] == pytest.approx(permilles[998], rel=1e-12)
    assert stats["max_ms"] == max(durations)
    assert stats["total_ms"] == pytest.approx(math.fsum(durations), rel=1e-12)


def test_pause_stats_by_kind_and_only_pauses_count():
    frame = events(
        category=["pause", "pause", "pause", "concurrent", "safepoint", "pause"],
        kind=["young", "full", "young", "mark_cycle", None, None],
        duration_ms=[10.0, 300.0, 30.0, 5000.0, 1.0, 2.0],
    )
    stats = metrics.pause_stats(frame)
    assert stats["count"] == 4  # the concurrent cycle and the safepoint are not pauses
    assert stats["total_ms"] == 342.0
    assert list(stats["by_kind"]) == ["young", "full", "other"]  # model order, unknown last
    assert stats["by_kind"]["young"]["count"] == 2
    assert stats["by_kind"]["young"]["p50_ms"] == 20.0
    assert stats["by_kind"]["full"]["max_ms"] == 300.0
    assert stats["by_kind"]["other"]["total_ms"] == 2.0


def test_pause_without_duration_is_counted_but_not_timed():
    stats = metrics.pause_stats(events(duration_ms=[10.0, None, 20.0], kind=["young"] * 3))
    assert stats["count"] == 3
    assert stats["total_ms"] == 30.0
    assert stats["mean_ms"] == 15.0


def test_no_pauses_gives_zero_count_and_nulls():
    stats = metrics.pause_stats(events(category=["concurrent"], duration_ms=[5.0]))
    assert stats == {**metrics.empty_pause_stats(), "by_kind": {}}
    assert stats["count"] == 0 and stats["total_ms"] == 0.0 and stats["p99_ms"] is None


# --- throughput ------------------------------------------------------------------------------------


def test_throughput_overall_and_worst_window_by_hand():
    # Run 0..600 s; pauses 100-110, 350-355, 500-520: 35 s paused -> 1 - 35/600.
    # Worst 300 s window holds 350-355 and 500-520 = 25 s -> 1 - 25/300.
    frame = pauses_at([(100.0, 10.0), (350.0, 5.0), (500.0, 20.0)])
    tp = metrics.throughput(frame, 0.0, 600.0, window_s=300.0)
    assert tp["throughput_pct"] == pytest.approx(100 * (1 - 35 / 600))
    assert tp["worst_pct"] == pytest.approx(100 * (1 - 25 / 300))
    assert 220.0 <= tp["worst_start_s"] <= 300.0  # every window holding both pauses whole


def test_worst_window_splits_a_pause_at_its_edge():
    # W = 100 s. Pauses 0-60 and 90-150: the window [50, 150] holds 10 + 60 = 70 s,
    # more than any window aligned on one pause's start ([0, 100]: 60 + 10 = 70 too, tie) or
    # ([90, 190]: 60). Shift the first so only a split gives the maximum: pauses 0-60 and
    # 95-150 -> [50, 150]: 10 + 55 = 65; [0, 100]: 60 + 5 = 65; [45, 145]: 15 + 50 = 65;
    # the maximum 65 s is flat; the worst throughput is 35 %.
    frame = pauses_at([(0.0, 60.0), (95.0, 55.0)])
    tp = metrics.throughput(frame, 0.0, 400.0, window_s=100.0)
    assert tp["worst_pct"] == pytest.approx(35.0)
    # A pause crossing the run's end counts only up to the end.
    frame = pauses_at([(390.0, 30.0)])
    tp = metrics.throughput(frame, 0.0, 400.0, window_s=100.0)
    assert tp["throughput_pct"] == pytest.approx(100 * (1 - 10 / 400))
    assert tp["worst_pct"] == pytest.approx(90.0)


def test_overlapping_pauses_are_not_counted_twice():
    # 10-20 and 15-25 overlap: 15 s paused, not 20.
    frame = pauses_at([(10.0, 10.0), (15.0, 10.0), (15.0, 1.0)])
    tp = metrics.throughput(frame, 0.0, 100.0, window_s=50.0)
    assert tp["throughput_pct"] == pytest.approx(85.0)
    assert tp["worst_pct"] == pytest.approx(100 * (1 - 15 / 50))


def test_worst_window_is_none_when_the_run_is_shorter_than_the_window():
    tp = metrics.throughput(pauses_at([(1.0, 1.0)]), 0.0, 60.0, window_s=300.0)
    assert tp["throughput_pct"] == pytest.approx(100 * (1 - 1 / 60))
    assert tp["worst_pct"] is None
    assert metrics.throughput(pauses_at([(1.0, 1.0)]), 5.0, 5.0)["throughput_pct"] is None


def brute_force_worst(intervals, start, end, window):
    """Plain Python: pause seconds in [t, t+window] at every breakpoint of the piecewise-linear
    function (each pause edge, each edge minus the window, and the run's ends)."""

    def covered(a, b):
        # Union of the intervals clipped to [a, b], by sweeping sorted intervals.
        total, reach = 0.0, a
        for s, e in sorted(intervals):
            s, e = max(s, reach), min(e, b)
            if e > s:
                total += e - s
                reach = e
        return total

    last = end - window
    points = {start, last}
    for s, e in intervals:
        points.update({s, e, s - window, e - window})
    return max(covered(t, t + window) for t in points if start <= t <= last)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1000, allow_nan=False), st.floats(0, 40, allow_nan=False)),
        min_size=0,
        max_size=25,
    ),
    st.floats(10, 400),
)
def test_worst_window_equals_brute_force(raw, window):
    start, end = 0.0, 1000.0
    intervals = [(s, min(s + d, end)) for s, d in raw]
    frame = pauses_at([(s, d) for s, d in raw])
    tp = metrics.throughput(frame, start, end, window_s=window)
    expected = brute_force_worst(intervals, start, end, window) if intervals else 0.0
    assert tp["worst_pct"] == pytest.approx(100 * (1 - expected / window), abs=1e-9)


# --- full GCs ------------------------------------------------------------------------------------


def test_full_gcs_in_the_busiest_window():
    # Windows are [t, t + 300): from 100 s they hold 100, 200, 299.9, 300, 350 = 5.
    times = [0.0, 100.0, 200.0, 299.9, 300.0, 350.0, 650.0, 400.0]
    frame = events(uptime_s=times, kind=["full"] * 7 + ["young"], duration_ms=[1.0] * 8)
    stats = metrics.full_gc_stats(frame, window_s=300.0)
    assert stats == {"count": 7, "max_per_window": 5}
    assert metrics.max_in_window(pl.Series([0.0, 300.0]), 300.0) == 1  # half-open window
    assert metrics.full_gc_stats(pauses_at([(1.0, 1.0)])) == {"count": 0, "max_per_window": 0}


# --- Old Gen saturation --------------------------------------------------------------------------


def test_old_gen_saturation_parallel_against_old_capacity():
    # After-GC times (start + duration): 10.1, 20.1, 30.1, 40.1; run ends at 50.
    frame = events(
        uptime_s=[10.0, 20.0, 30.0, 40.0],
        duration_ms=[100.0] * 4,
        kind=["young", "young", "full", "young"],
        old_after_bytes=[50 * MB, 90 * MB, 40 * MB, 85 * MB],
        old_capacity_bytes=[100 * MB] * 4,
    )
    old = metrics.old_gen_saturation(frame, {"collector": "Parallel"}, 50.0)
    assert old["saturation_last_pct"] == pytest.approx(85.0)
    assert old["saturation_max_pct"] == pytest.approx(90.0)
    # Above 80 %: from 20.1 until the full GC at 30.1, and from 40.1 until the end at 50.
    assert old["time_above_threshold_s"] == pytest.approx(10.0 + 9.9)
    assert old["basis"] == "old/old_capacity" and old["samples"] == 4
    lower = metrics.old_gen_saturation(frame, {"collector": "Parallel"}, 50.0, threshold_pct=45)
    assert lower["time_above_threshold_s"] == pytest.approx(50.0 - 10.1 - 10.0)


def test_old_gen_saturation_g1_counts_humongous_against_max_heap():
    frame = events(
        uptime_s=[1.0, 2.0],
        duration_ms=[0.0, 0.0],
        old_after_bytes=[10 * MB, 30 * MB],
        humongous_after_bytes=[6 * MB, None],
        old_capacity_bytes=[None, None],
    )
    meta = {"collector": "G1", "heap_max_bytes": 64 * MB}
    old = metrics.old_gen_saturation(frame, meta, 3.0)
    assert old["saturation_max_pct"] == pytest.approx(100 * 30 / 64)
    series = metrics.old_gen_saturation_series(frame, meta)
    assert series["saturation_pct"].to_list() == pytest.approx([100 * 16 / 64, 100 * 30 / 64])
    # Without the maximum heap, or without per-generation lines, there is no figure.
    assert metrics.old_gen_saturation(frame, {"collector": "G1"}, 3.0)["saturation_max_pct"] is None
    no_gen = events(uptime_s=[1.0], duration_ms=[1.0], heap_after_bytes=[MB])
    none = metrics.old_gen_saturation(no_gen, {"collector": "Serial"}, 3.0)
    assert none["saturation_last_pct"] is None and none["samples"] == 0


# --- heap, allocation, promotion -----------------------------------------------------------------


def test_allocation_and_promotion_rates_by_hand():
    # Collections: 0 at 10 s (0.5 s), 1 at 20 s (1 s, young), 2 at 40 s (full).
    # Allocated: (300 - 100) + (250 - 80) = 370 MB over 40 - 10.5 = 29.5 s.
    # Promoted: young pause 1 grew old 60 -> 75 (15 MB); collection 0 is excluded (its
    # promoted bytes were allocated before the measured span), the full GC is no promotion.
    frame = events(
        uptime_s=[10.0, 20.0, 40.0],
        duration_ms=[500.0, 1000.0, 2000.0],
        kind=["young", "young", "full"],
        heap_before_bytes=[150 * MB, 300 * MB, 250 * MB],
        heap_after_bytes=[100 * MB, 80 * MB, 60 * MB],
        old_before_bytes=[40 * MB, 60 * MB, 75 * MB],
        old_after_bytes=[60 * MB, 75 * MB, 50 * MB],
    )
    rates = metrics.rates(frame)
    assert rates["allocated_bytes"] == 370 * MB
    assert rates["rate_span_s"] == pytest.approx(29.5)
    assert rates["allocation_rate_mb_s"] == pytest.approx(370 / 29.5)
    assert rates["promoted_bytes"] == 15 * MB
    assert rates["promotion_rate_mb_s"] == pytest.approx(15 / 29.5)


def test_rates_are_none_without_two_collections_or_generation_figures():
    one = events(uptime_s=[1.0], duration_ms=[1.0], heap_before_bytes=[MB], heap_after_bytes=[0])
    assert metrics.rates(one)["allocation_rate_mb_s"] is None
    two = events(
        uptime_s=[1.0, 3.0],
        duration_ms=[0.0, 0.0],
        heap_before_bytes=[4 * MB, 6 * MB],
        heap_after_bytes=[2 * MB, 1 * MB],
        kind=["young", "young"],
    )
    rates = metrics.rates(two)
    assert rates["allocation_rate_mb_s"] == pytest.approx(2.0)  # 4 MB in 2 s
    assert rates["promotion_rate_mb_s"] is None


def test_heap_shrinking_between_collections_counts_no_allocation():
    frame = events(
        uptime_s=[0.0, 1.0, 2.0],
        duration_ms=[0.0] * 3,
        heap_before_bytes=[5 * MB, 3 * MB, 9 * MB],
        heap_after_bytes=[4 * MB, 2 * MB, 1 * MB],
    )
    # 3 - 4 < 0 counts 0; then 9 - 2 = 7 MB; over 2 s.
    assert metrics.rates(frame)["allocation_rate_mb_s"] == pytest.approx(3.5)


def test_heap_after_series_is_sorted_by_end_of_collection_and_downsampled_keeps_extremes():
    frame = events(
        uptime_s=[3.0, 1.0, 2.0],
        duration_ms=[500.0, 0.0, 0.0],
        heap_after_bytes=[30, 10, 20],
    )
    series = metrics.heap_after_series(frame)
    assert series["uptime_s"].to_list() == [1.0, 2.0, 3.5]
    assert series["heap_after_bytes"].to_list() == [10, 20, 30]
    n = 10_000
    values = [(i * 7919) % 1000 for i in range(n)]
    values[5_123] = -5  # a single deep trough must survive
    long = pl.DataFrame({"uptime_s": [float(i) for i in range(n)], "heap_after_bytes": values})
    small = metrics.downsample(long, "uptime_s", "heap_after_bytes", 100)
    assert small.height <= 400
    assert small["heap_after_bytes"].min() == -5
    assert small["heap_after_bytes"].max() == max(values)
    assert small["uptime_s"].is_sorted()


def test_downsample_keeps_the_earliest_of_equal_peaks_and_troughs():
    """A bucket holding the same highest (or lowest) value twice keeps its first occurrence,
    whatever order the engine hands the bucket its rows in: the JSON is the same every run."""
    n = 400_000  # enough rows that the group-by runs in parallel partitions
    values = [100 + (i % 7) for i in range(n)]
    for at in (1_000, 2_000, 3_000):  # bucket 0 (of 4): three equal peaks, three equal troughs
        values[at], values[at + 1] = 500, 1
    long = pl.DataFrame({"uptime_s": [float(i) for i in range(n)], "heap_after_bytes": values})
    for _ in range(3):
        small = metrics.downsample(long, "uptime_s", "heap_after_bytes", 4)
        first_bucket = small.filter(pl.col("uptime_s") < n / 4)
        assert first_bucket.filter(pl.col("heap_after_bytes") == 500)["uptime_s"].to_list() == [1_000.0]
        assert first_bucket.filter(pl.col("heap_after_bytes") == 1)["uptime_s"].to_list() == [1_001.0]


# --- one run ----------------------------------------------------------------------------------------


def test_run_metrics_span_covers_every_event():
    frame = pauses_at([(5.0, 2.0)])
    found = metrics.run_metrics(frame, {"start_uptime_s": 1.0, "end_uptime_s": 6.0})
    assert found["start_uptime_s"] == 1.0
    assert found["end_uptime_s"] == 7.0  # the pause logged last ends after the last decoration
    assert found["throughput_pct"] == pytest.approx(100 * (1 - 2 / 6))


def test_run_metrics_on_an_empty_run():
    found = metrics.run_metrics(conform_events(pl.DataFrame()), {"collector": "Epsilon"})
    assert found["pauses"]["count"] == 0
    assert found["throughput_pct"] is None
    assert found["full_gc"] == {"count": 0, "max_per_5min": 0}
    assert found["allocation_rate_mb_s"] is None
