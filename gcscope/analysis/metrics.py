"""Core metrics of one JVM run, computed from its events frame (`gcscope.model.EVENT_SCHEMA`).

Every function takes the events of ONE run (plus, where needed, its run-meta dict) and returns
plain Python values (floats, ints, dicts, None), so the result serialises without conversion.
All work is columnar polars: no Python loop ever walks the rows, so a frame of ten million
events costs a few hundred milliseconds.

Definitions (the README's "JSON output" section states them for users):
- Percentiles are exact, by linear interpolation between the two nearest ranks (numpy's
  default, `statistics.quantiles(method="inclusive")`): p = x[(n-1)q] interpolated.
- A pause occupies [uptime_s, uptime_s + duration_ms/1000]. Overlapping pauses are merged
  before measuring time, so nothing is counted twice.
- Windows are sliding: "worst 5-minute window" is the worst of all windows [t, t+300 s] lying
  inside the run, not of fixed buckets; a pause crossing a window edge counts only its part
  inside the window.
- Rates use MB = 2^20 bytes, the JVM's own "M".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from gcscope.analysis import concurrent
from gcscope.model import (
    CATEGORY,
    CONCURRENT,
    DURATION_MS,
    HEAP_AFTER_BYTES,
    HEAP_BEFORE_BYTES,
    HEAP_SAMPLE,
    KIND,
    OLD_AFTER_BYTES,
    OLD_BEFORE_BYTES,
    OLD_CAPACITY_BYTES,
    PAUSE,
    PAUSE_KINDS,
    UPTIME_S,
    gen_col,
)

WINDOW_S = 300.0  # the "5 minutes" of throughput_worst_5min_pct and full_gc.max_per_5min
SATURATION_THRESHOLD_PCT = 80.0
HEAP_EXHAUSTED_PCT = 95.0  # a heap sample at or above this % of the maximum heap: ran out
# Collectors that may run without an old generation (non-generational modes).
SINGLE_GENERATION = ("ZGC", "Shenandoah", "Epsilon")
SERIES_BUCKETS = 250  # heap-after-GC series in the JSON: at most 4 points per bucket
MB = 1024 * 1024

# (key, quantile) in the order the JSON and the terminal table show them.
PERCENTILES = (
    ("p50_ms", 0.50),
    ("p90_ms", 0.90),
    ("p95_ms", 0.95),
    ("p99_ms", 0.99),
    ("p999_ms", 0.999),
)
PAUSE_STAT_KEYS = ("count", "total_ms", "mean_ms", *(k for k, _ in PERCENTILES), "max_ms")

HUMONGOUS_AFTER_BYTES = gen_col("humongous", "after_bytes")
_START = "_start_s"
_END = "_end_s"


def _finite(value: Any) -> float | None:
    """A float for the JSON, or None for null/NaN/inf (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def end_expr() -> pl.Expr:
    """End of an event: its start plus its duration (a missing duration counts as 0)."""
    return pl.col(UPTIME_S) + pl.col(DURATION_MS).fill_null(0.0) / 1000.0


def _sorted(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """`frame` sorted by `column`. Events usually arrive in time order already: checking is
    one cheap pass, while sorting gathers every column again."""
    return frame if frame[column].is_sorted() else frame.sort(column, maintain_order=True)  # ties: log order


def pauses_lazy(events: pl.DataFrame, *columns: str) -> pl.LazyFrame:
    """The stop-the-world pauses (the only category counted in pause figures and throughput),
    projected to `columns` first so a wide frame is never copied whole."""
    return events.lazy().select(CATEGORY, *columns).filter(pl.col(CATEGORY) == PAUSE)


# --- pauses ------------------------------------------------------------------------------------


def _duration_stats(durations: pl.Series, count: int) -> dict[str, Any]:
    """Stats of one set of pause durations. Sorting once makes the five quantiles O(1) each
    (polars reads them straight from a series flagged as sorted)."""
    ordered = durations.drop_nulls().sort().alias("d")
    if ordered.len() == 0:
        return {**empty_pause_stats(), "count": count}
    d = pl.col("d")
    row = (
        ordered.to_frame()
        .select(
            d.sum().alias("total_ms"),
            d.mean().alias("mean_ms"),
            *(d.quantile(q, interpolation="linear").alias(key) for key, q in PERCENTILES),
            d.max().alias("max_ms"),
        )
        .row(0, named=True)
    )
    return {"count": count, **{key: _finite(row[key]) for key in PAUSE_STAT_KEYS[1:]}}


def empty_pause_stats() -> dict[str, Any]:
    return {"count": 0, "total_ms": 0.0, **{k: None for k in PAUSE_STAT_KEYS[2:]}}


def _kind_order(kind: str) -> tuple[int, str]:
    return (PAUSE_KINDS.index(kind) if kind in PAUSE_KINDS else len(PAUSE_KINDS), kind)


def pause_stats(events: pl.DataFrame) -> dict[str, Any]:
    """count, total_ms, mean_ms, p50..p99.9, max_ms of the pauses, overall and `by_kind`.

    `count` counts every pause event; the time figures use those with a known duration (a
    truncated last line can leave one without). Empty input gives count 0, total 0, others None.
    A pause without a kind is reported under "other".
    """
    pauses = (
        pauses_lazy(events, KIND, DURATION_MS)
        .select(pl.col(KIND).fill_null("other"), pl.col(DURATION_MS))
        .collect()
    )
    if pauses.height == 0:
        return {**empty_pause_stats(), "by_kind": {}}
    # One list of durations per kind (a handful of kinds: the loop below is over kinds, not rows).
    groups = pauses.group_by(KIND).agg(pl.col(DURATION_MS), pl.len().alias("n"))
    by_kind = {
        kind: _duration_stats(durations, n)
        for kind, durations, n in zip(groups[KIND], groups[DURATION_MS], groups["n"])
    }
    return {
        **_duration_stats(pauses[DURATION_MS], pauses.height),
        "by_kind": {k: by_kind[k] for k in sorted(by_kind, key=_kind_order)},
    }


# --- time in pauses, throughput --------------------------------------------------------------


def pause_intervals(events: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint [start, end] seconds covered by pauses, sorted, their union exactly the union
    of the pauses (overlapping pauses merged, so no time counts twice): (starts, ends).

    Vectorised merge: with `reach` the latest end seen so far, pause i keeps only
    [max(start_i, reach_{i-1}), reach_i], which is empty when an earlier pause already covered
    it. numpy arrays, changed in place: a 2 GB log has two million pauses, and each polars
    step of this would hold another copy of them.
    """
    spans = (
        pauses_lazy(events, UPTIME_S, DURATION_MS)
        .filter(pl.col(UPTIME_S).is_not_null())
        .select(pl.col(UPTIME_S).alias(_START), end_expr().alias(_END))
        .collect()
    )
    spans = _sorted(spans, _START)
    starts = spans.get_column(_START).to_numpy(writable=True)
    reach = np.maximum.accumulate(spans.get_column(_END).to_numpy())
    del spans
    np.maximum(starts[1:], reach[:-1], out=starts[1:])
    keep = reach > starts
    return starts[keep], reach[keep]


def _paused_before(starts: np.ndarray, durations: np.ndarray, before: np.ndarray,
                   points: np.ndarray) -> np.ndarray:
    """For each point x (`points` sorted ascending), the pause seconds in (-inf, x].

    `starts`, `durations`: disjoint intervals, sorted; `before`: the pause seconds before each
    interval (a prefix sum). The last interval starting at or before x gives its prefix sum
    plus its part before x: a binary search per point, no loop."""
    if points.size == 0 or starts.size == 0:
        return np.zeros(points.size)
    at = np.searchsorted(starts, points, side="right") - 1  # the interval starting at or before x
    before_first = at < 0
    at[before_first] = 0
    paused = points - starts[at]
    np.minimum(paused, durations[at], out=paused)
    paused += before[at]
    paused[before_first] = 0.0
    return paused


def throughput(
    events: pl.DataFrame,
    start_s: float | None,
    end_s: float | None,
    *,
    window_s: float = WINDOW_S,
) -> dict[str, Any]:
    """% of wall time not in pauses, overall and in the worst sliding window.

    Wall time runs from `start_s` to `end_s` (the run's first and last uptime). Pauses are
    clipped to it. The worst window is the minimum over every window [t, t + window_s] inside
    the run; None when the run is shorter than one window.

    Exact, without scanning every t: with f(t) the pause time inside [t, t + window_s],
    f'(t) = [t + window_s in a pause] - [t in a pause]. While t is inside a pause f' <= 0, so
    moving t back to that pause's start never lowers f; while t is outside every pause
    f' >= 0, so moving t forward to the next pause start (or the last window) never lowers f.
    The maximum is therefore at a pause start or at either end of the run.
    """
    if not window_s > 0:
        raise ValueError(f"window_s must be above 0, got {window_s!r}")
    out: dict[str, Any] = {"throughput_pct": None, "worst_pct": None, "worst_start_s": None}
    if start_s is None or end_s is None or not end_s > start_s:
        return out
    wall_s = end_s - start_s
    starts, ends = pause_intervals(events)
    np.clip(starts, start_s, end_s, out=starts)
    np.clip(ends, start_s, end_s, out=ends)
    inside = ends > starts
    starts, durations = starts[inside], ends[inside]
    del ends, inside
    durations -= starts
    before = np.cumsum(durations)
    before -= durations
    paused_s = float(durations.sum())
    out["throughput_pct"] = _finite(100.0 * (1.0 - paused_s / wall_s))
    if wall_s < window_s:
        return out
    last_t = end_s - window_s
    # Windows starting at a pause start: the pause time before t is that pause's prefix sum.
    at_start = starts[: np.searchsorted(starts, last_t, side="right")]
    paused = _paused_before(starts, durations, before, at_start + window_s)
    paused -= before[: at_start.size]
    edges = np.array([start_s, last_t])
    at_edges = (_paused_before(starts, durations, before, edges + window_s)
                - _paused_before(starts, durations, before, edges))
    candidates_t = np.concatenate([at_start, edges])
    candidates_paused = np.concatenate([paused, at_edges])
    worst = int(np.argmax(candidates_paused))  # the first of equal maxima
    out["worst_pct"] = _finite(100.0 * (1.0 - candidates_paused[worst] / window_s))
    out["worst_start_s"] = _finite(candidates_t[worst])
    return out


# --- full GCs ------------------------------------------------------------------------------------


def max_in_window(times: pl.Series, window_s: float) -> int:
    """The most of `times` (seconds) inside any half-open window [t, t + window_s)."""
    times = times.drop_nulls().sort()
    if times.len() == 0:
        return 0
    ends = times.search_sorted(times + window_s, side="left").cast(pl.Int64)
    return int((ends - pl.int_range(0, times.len(), eager=True)).max())  # type: ignore[arg-type]


def full_gc_stats(events: pl.DataFrame, *, window_s: float = WINDOW_S) -> dict[str, int]:
    """Count of full-GC pauses, and the most of them starting in any sliding window."""
    full = pauses_lazy(events, KIND, UPTIME_S).filter(pl.col(KIND) == "full").collect()
    return {"count": full.height, "max_per_window": max_in_window(full[UPTIME_S], window_s)}


# --- old generation saturation ------------------------------------------------------------------


def old_gen_basis(events: pl.DataFrame, meta: dict[str, Any]) -> str | None:
    """How saturation is computed for this run, or None when the log lacks the figures."""
    if meta.get("collector") == "G1":
        if meta.get("heap_max_bytes") and events[OLD_AFTER_BYTES].is_not_null().any():
            return "old+humongous/heap_max"
        return None
    both = events[OLD_AFTER_BYTES].is_not_null() & (events[OLD_CAPACITY_BYTES] > 0)
    if bool(both.any()):
        return "old/old_capacity"
    # Generational ZGC and Shenandoah: the generations share the heap's pages or regions, so
    # the old generation has no capacity of its own (ZGC prints none; Shenandoah's "max
    # capacity" is the regions old owns now, always nearly full): what it can fill is the heap.
    generational = meta.get("collector") in ("ZGC", "Shenandoah") and meta.get("heap_max_bytes")
    if generational and events[OLD_AFTER_BYTES].is_not_null().any():
        return "old/heap_max"
    # No old generation (ZGC before JDK 21, Shenandoah, Epsilon): the whole heap after each
    # cycle, against the most it may grow to, is what fills up.
    single_space = meta.get("collector") in SINGLE_GENERATION and meta.get("heap_max_bytes")
    if single_space and events[HEAP_AFTER_BYTES].is_not_null().any():
        return "heap_after/heap_max"
    return None


def old_gen_saturation_series(events: pl.DataFrame, meta: dict[str, Any]) -> pl.DataFrame:
    """Old-generation occupancy after each collection, % of its capacity, sorted by time.

    Columns `uptime_s` (end of the collection) and `saturation_pct`. G1: (old + humongous
    after) / the run's maximum heap, since G1 has no fixed old-gen size. Other collectors: old
    after / old capacity printed with it (Parallel, Serial, generational ZGC and Shenandoah).
    Collectors without an old generation (ZGC, Shenandoah, Epsilon): heap after each
    collection / the run's maximum heap.
    Empty when the log has no per-generation figures (e.g. `-Xlog:gc` without `gc+heap`).
    """
    return _saturation_series(events, meta, old_gen_basis(events, meta))


# What each saturation basis divides by, in words (findings quote it).
SATURATION_BASES = {
    "old+humongous/heap_max": "old + humongous regions of max heap",
    "old/old_capacity": "old generation capacity",
    "old/heap_max": "max heap (old generation)",
    "heap_after/heap_max": "max heap",
}


def saturation_fraction(basis: str, heap_max_bytes: int | None) -> pl.Expr:
    """Occupancy after a collection as a fraction of its limit, for one of SATURATION_BASES."""
    if basis == "old/old_capacity":
        return pl.col(OLD_AFTER_BYTES).cast(pl.Float64) / pl.when(pl.col(OLD_CAPACITY_BYTES) > 0).then(
            pl.col(OLD_CAPACITY_BYTES)
        )
    if not heap_max_bytes:
        return pl.lit(None, dtype=pl.Float64)
    if basis == "old+humongous/heap_max":
        used = pl.col(OLD_AFTER_BYTES).cast(pl.Float64) + pl.col(HUMONGOUS_AFTER_BYTES).fill_null(0)
    elif basis == "old/heap_max":
        used = pl.col(OLD_AFTER_BYTES).cast(pl.Float64)
    else:
        used = pl.col(HEAP_AFTER_BYTES).cast(pl.Float64)
    return used / float(heap_max_bytes)


def _saturation_series(
    events: pl.DataFrame, meta: dict[str, Any], basis: str | None
) -> pl.DataFrame:
    if basis is None:
        return pl.DataFrame(schema={UPTIME_S: pl.Float64(), "saturation_pct": pl.Float64()})
    pct = saturation_fraction(basis, meta.get("heap_max_bytes"))
    series = (
        events.lazy()
        .filter(pl.col(UPTIME_S).is_not_null())
        .select(end_expr().alias(UPTIME_S), (pct * 100.0).alias("saturation_pct"))
        .drop_nulls()
        .collect()
    )
    return _sorted(series, UPTIME_S)


def old_gen_saturation(
    events: pl.DataFrame,
    meta: dict[str, Any],
    end_s: float | None,
    *,
    threshold_pct: float = SATURATION_THRESHOLD_PCT,
) -> dict[str, Any]:
    """Last and highest old-gen saturation after GC, and the seconds spent above the threshold.

    Occupancy after a GC holds until the next GC (it only grows in between, by promotion), so
    the time above the threshold is the sum of the gaps that follow a value > threshold; the
    last value holds until `end_s`, the end of the run.
    """
    basis = old_gen_basis(events, meta)
    series = _saturation_series(events, meta, basis)
    out: dict[str, Any] = {
        "saturation_last_pct": None,
        "saturation_max_pct": None,
        "time_above_threshold_s": None,
        "threshold_pct": threshold_pct,
        "basis": basis if series.height else None,
        "samples": series.height,
    }
    if series.height == 0:
        return out
    last_t = float(series[UPTIME_S][-1])
    stop = max(end_s, last_t) if end_s is not None else last_t
    above = series.select(
        (
            (pl.col(UPTIME_S).shift(-1).fill_null(stop) - pl.col(UPTIME_S))
            * (pl.col("saturation_pct") > threshold_pct)
        ).sum()
    ).item()
    out["saturation_last_pct"] = _finite(series["saturation_pct"][-1])
    out["saturation_max_pct"] = _finite(series["saturation_pct"].max())
    out["time_above_threshold_s"] = _finite(above)
    return out


# --- heap after GC, allocation and promotion ----------------------------------------------------


def heap_after_series(events: pl.DataFrame) -> pl.DataFrame:
    """Heap occupancy after each collection over time: `uptime_s` (end of the collection) and
    `heap_after_bytes`, sorted by time."""
    series = (
        events.lazy()
        .select(UPTIME_S, DURATION_MS, HEAP_AFTER_BYTES)
        .filter(pl.col(UPTIME_S).is_not_null() & pl.col(HEAP_AFTER_BYTES).is_not_null())
        .select(end_expr().alias(UPTIME_S), pl.col(HEAP_AFTER_BYTES))
        .collect()
    )
    return _sorted(series, UPTIME_S)


def downsample(series: pl.DataFrame, x: str, y: str, buckets: int) -> pl.DataFrame:
    """At most 4 points per time bucket (first, last, lowest, highest): the shape of a long
    series, troughs and peaks included, in a size fit for a JSON document. `series` must be
    sorted by `x`."""
    if series.height <= 4 * buckets:
        return series.select(x, y)
    lo, hi = series[x].min(), series[x].max()
    width = (hi - lo) or 1.0  # type: ignore[operator]
    picks = (
        series.lazy()
        .select(x, y)
        .with_row_index("_i")
        .group_by(((pl.col(x) - lo) / width * buckets).floor().clip(0, buckets - 1).alias("_b"))
        # By the smallest row number, not by position within the group: the picks must not
        # depend on the order in which the engine hands a group its rows (two runs of a 2 GB
        # log once picked different ones of two equal peaks in a bucket).
        .agg(
            pl.col("_i").min().alias("first"),
            pl.col("_i").max().alias("last"),
            pl.col("_i").filter(pl.col(y) == pl.col(y).min()).min().alias("low"),
            pl.col("_i").filter(pl.col(y) == pl.col(y).max()).min().alias("high"),
        )
        .unpivot(index="_b")
        .select(pl.col("value").drop_nulls().unique().sort())
        .collect()
        .to_series()
    )
    return series.select(x, y)[picks]


def rates(events: pl.DataFrame) -> dict[str, Any]:
    """Allocation and promotion rates in MB/s over the time between collections.

    Collections are the events with heap before and after. Between the end of collection n
    and the start of collection n+1 the application allocated heap_before(n+1) −
    heap_after(n) (a gap where the heap shrank, e.g. memory freed concurrently, counts 0).
    Promotion is old-gen growth across the young pauses among collections 2..N (the
    promoted bytes were allocated in the gaps measured). Both are divided by the same time:
    from the end of the first collection to the start of the last, so promotion / allocation
    is the share of allocated bytes that reached the old generation. None when fewer than two
    collections (or no young pause with old-gen figures, for promotion).
    """
    out: dict[str, Any] = {
        "allocation_rate_mb_s": None,
        "promotion_rate_mb_s": None,
        "allocated_bytes": None,
        "promoted_bytes": None,
        "rate_span_s": None,
    }
    collections = (
        events.lazy()
        .select(
            UPTIME_S,
            DURATION_MS,
            KIND,
            HEAP_BEFORE_BYTES,
            HEAP_AFTER_BYTES,
            OLD_BEFORE_BYTES,
            OLD_AFTER_BYTES,
        )
        .filter(
            pl.col(UPTIME_S).is_not_null()
            & pl.col(HEAP_BEFORE_BYTES).is_not_null()
            & pl.col(HEAP_AFTER_BYTES).is_not_null()
        )
        .select(
            pl.col(UPTIME_S).alias(_START),
            end_expr().alias(_END),
            pl.col(HEAP_BEFORE_BYTES),
            pl.col(HEAP_AFTER_BYTES),
            # Promotion of young pauses only (a mixed or full GC also reclaims old space).
            pl.when(pl.col(KIND) == "young")
            .then(pl.col(OLD_AFTER_BYTES) - pl.col(OLD_BEFORE_BYTES))
            .alias("_promoted"),
        )
        .collect()
    )
    promoted = pl.col("_promoted").slice(1)  # collection 1's promotion predates the span
    summary = (
        _sorted(collections, _START)
        .select(
            pl.len().alias("n"),
            pl.col(_END).first().alias("first_end"),
            pl.col(_START).last().alias("last_start"),
            (pl.col(HEAP_BEFORE_BYTES).shift(-1) - pl.col(HEAP_AFTER_BYTES))
            .clip(lower_bound=0)
            .sum()
            .alias("allocated"),
            promoted.clip(lower_bound=0).sum().alias("promoted"),
            promoted.count().alias("promotion_samples"),
        )
        .row(0, named=True)
    )
    if summary["n"] < 2:
        return _heap_sample_rate(events, out) if summary["n"] == 0 else out
    span_s = summary["last_start"] - summary["first_end"]
    if not span_s > 0:
        return out
    out["rate_span_s"] = _finite(span_s)
    out["allocated_bytes"] = int(summary["allocated"])
    out["allocation_rate_mb_s"] = _finite(summary["allocated"] / MB / span_s)
    if summary["promotion_samples"]:
        out["promoted_bytes"] = int(summary["promoted"])
        out["promotion_rate_mb_s"] = _finite(summary["promoted"] / MB / span_s)
    else:
        out.update(_old_growth_promotion(events))
    return out


def _old_growth_promotion(events: pl.DataFrame) -> dict[str, Any]:
    """Promotion of generational ZGC and Shenandoah, whose young collections are concurrent
    cycles without old-generation figures of their own before and after: the old generation's
    growth between consecutive readings of it (collection events with old after). A reading
    is taken at the collection's start when it prints old before (ZGC's major collections: old
    at Mark Start, promotions of its young phase included), else at its end (Shenandoah: old
    used at the end of each cycle). Growth from the end of one reading's collection to the
    next reading, a shrinking counting 0 (an old collection reclaimed), over the time from the
    first reading's end to the last reading. Empty when fewer than two readings."""
    readings = (
        events.lazy()
        .filter(
            (pl.col(CATEGORY) == CONCURRENT)
            & pl.col(UPTIME_S).is_not_null()
            & pl.col(OLD_AFTER_BYTES).is_not_null()
        )
        .select(
            end_expr().alias(_END),
            pl.when(pl.col(OLD_BEFORE_BYTES).is_not_null())
            .then(pl.col(UPTIME_S))
            .otherwise(end_expr())
            .alias(_START),
            pl.coalesce(OLD_BEFORE_BYTES, OLD_AFTER_BYTES).alias("_old_start"),
            pl.col(OLD_AFTER_BYTES),
        )
        .collect()
    )
    readings = _sorted(readings, _END)
    if readings.height < 2:
        return {}
    span_s = float(readings[_START][-1] - readings[_END][0])
    if not span_s > 0:
        return {}
    grown = int(
        (pl.Series(readings["_old_start"]).slice(1) - readings[OLD_AFTER_BYTES].slice(0, readings.height - 1))
        .clip(lower_bound=0)
        .sum()
    )
    return {"promoted_bytes": grown, "promotion_rate_mb_s": _finite(grown / MB / span_s)}


def _heap_samples(events: pl.DataFrame) -> pl.DataFrame:
    """Heap samples (occupancy without a collection, e.g. Epsilon's "Heap: … used" lines):
    `uptime_s` and `heap_after_bytes`, sorted by time."""
    samples = (
        events.lazy()
        .filter(
            (pl.col(CATEGORY) == HEAP_SAMPLE)
            & pl.col(UPTIME_S).is_not_null()
            & pl.col(HEAP_AFTER_BYTES).is_not_null()
        )
        .select(UPTIME_S, HEAP_AFTER_BYTES)
        .collect()
    )
    return _sorted(samples, UPTIME_S)


def _heap_sample_rate(events: pl.DataFrame, out: dict[str, Any]) -> dict[str, Any]:
    """A run without collections (Epsilon): the allocation rate is the heap's growth between
    its first and last samples (a sample lower than the one before counts no growth)."""
    samples = _heap_samples(events)
    if samples.height < 2:
        return out
    span_s = float(samples[UPTIME_S][-1] - samples[UPTIME_S][0])
    if not span_s > 0:
        return out
    grown = int(samples[HEAP_AFTER_BYTES].diff().clip(lower_bound=0).sum())
    out["rate_span_s"] = _finite(span_s)
    out["allocated_bytes"] = grown
    out["allocation_rate_mb_s"] = _finite(grown / MB / span_s)
    return out


def heap_exhausted_at(events: pl.DataFrame, meta: dict[str, Any]) -> float | None:
    """Uptime of the first heap sample with less than 5 % of the maximum heap left (Epsilon
    prints a sample at each 1/20 of the heap it fills, so this is the last step before the
    heap runs out); None without heap samples, a maximum heap, or such a sample."""
    heap_max = meta.get("heap_max_bytes")
    if not heap_max:
        return None
    samples = _heap_samples(events).filter(
        pl.col(HEAP_AFTER_BYTES) >= HEAP_EXHAUSTED_PCT / 100.0 * heap_max
    )
    return _finite(samples[UPTIME_S][0]) if samples.height else None


# --- one run, everything ----------------------------------------------------------------------


def run_span(events: pl.DataFrame, meta: dict[str, Any]) -> tuple[float | None, float | None]:
    """First and last uptime of the run: from its meta, widened to cover every event (a
    pause logged at the very end of a file may end after the last decoration seen)."""
    start = meta.get("start_uptime_s")
    end = meta.get("end_uptime_s")
    bounds = (
        events.lazy()
        .select(pl.col(UPTIME_S).min().alias("lo"), end_expr().max().alias("hi"))
        .collect()
        .row(0)
    )
    lo, hi = bounds
    if lo is not None:
        start = lo if start is None else min(start, lo)
    if hi is not None:
        end = hi if end is None else max(end, hi)
    return _finite(start), _finite(end)


def run_metrics(
    events: pl.DataFrame,
    meta: dict[str, Any],
    *,
    window_s: float = WINDOW_S,
    saturation_threshold_pct: float = SATURATION_THRESHOLD_PCT,
    series_buckets: int = SERIES_BUCKETS,
) -> dict[str, Any]:
    """Every metric of one run as a plain dict (the `RunResult` fields)."""
    start_s, end_s = run_span(events, meta)
    # The pause figures share one narrow copy of the pauses: on a table with many other
    # events (safepoints, concurrent phases) the category is compared once, not three times.
    pauses = pauses_lazy(events, UPTIME_S, DURATION_MS, KIND).collect()
    tp = throughput(pauses, start_s, end_s, window_s=window_s)
    full = full_gc_stats(pauses, window_s=window_s)
    pause_figures = pause_stats(pauses)
    del pauses  # before the other metrics' copies: a big log's peak memory is the sum of both
    heap = downsample(heap_after_series(events), UPTIME_S, HEAP_AFTER_BYTES, series_buckets)
    span_s = end_s - start_s if start_s is not None and end_s is not None else None
    return {
        "start_uptime_s": start_s,
        "end_uptime_s": end_s,
        "window_s": window_s,
        "pauses": pause_figures,
        "throughput_pct": tp["throughput_pct"],
        "throughput_worst_5min_pct": tp["worst_pct"],
        "throughput_worst_5min_start_s": tp["worst_start_s"],
        "full_gc": {"count": full["count"], "max_per_5min": full["max_per_window"]},
        "old_gen": old_gen_saturation(events, meta, end_s, threshold_pct=saturation_threshold_pct),
        **rates(events),
        "concurrent": concurrent.concurrent_stats(events, span_s),
        "stalls": concurrent.stall_stats(events),
        "degenerated_gc_count": concurrent.degenerated_gc_count(events),
        "safepoints": concurrent.safepoint_stats(events),
        "extra": {"heap_exhausted_at_s": heap_exhausted_at(events, meta)},
        "series": {
            "heap_after_gc": {
                UPTIME_S: heap[UPTIME_S].to_list(),
                HEAP_AFTER_BYTES: heap[HEAP_AFTER_BYTES].to_list(),
            }
        },
    }
