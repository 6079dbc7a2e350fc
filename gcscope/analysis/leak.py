"""The leak verdict of one JVM run: is the post-GC floor of the heap rising, how, how fast, and
when does it reach the maximum heap.

A healthy heap is a sawtooth whose troughs stay level. The troughs are read from the model
columns only, so every collector the grammars know is covered without code here:

- the *baseline*: heap after the collections that reclaimed the old generation (pause kinds in
  `gcscope.model.OLD_RECLAIMING_KINDS`, and concurrent cycles that print heap after, except
  young-only ones), after a warm-up;
- when fewer than `min_points` of those exist, the *lower envelope* of heap after any GC (its
  lowest point per time bin). That envelope still holds old-generation garbage no collection
  has reclaimed yet, so a rising envelope alone can only make a run `suspected`, never `leak`.

A robust Theil–Sen line through the baseline (as % of max heap against hours) gives the slope,
its 95 % interval and the Mann–Kendall p-value. The verdict is `insufficient_evidence` when the
run cannot tell (too few points, too short; then it carries no slope or fit either),
`healthy` when the floor does not rise significantly faster than the threshold, `leak` when it
does by a clear margin, `suspected` in between. A heap that ran out is conclusive however short
the run: the floor climbed to where whole-heap collections free almost nothing, or the run ended
in back-to-back full (or degenerated) GCs that freed nothing after the floor climbed by a clear
margin; collections after those (the heap freed once the OutOfMemoryError dropped the work) are
left out. Parameters are the thresholds of rule GCS001 (`gcscope/rules/catalogue.toml`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from gcscope.analysis.metrics import end_expr
from gcscope.analysis.texts import contains_any
from gcscope.analysis.trend import (
    TrendFit,
    acceleration,
    is_staircase,
    level_segments,
    lower_envelope,
    theil_sen,
)
from gcscope.model import (
    CATEGORY,
    CAUSE,
    CONCURRENT,
    DURATION_MS,
    HEAP_AFTER_BYTES,
    HEAP_BEFORE_BYTES,
    HEAP_COMMITTED_BYTES,
    KIND,
    OLD_RECLAIMING_KINDS,
    PAUSE,
    SOURCE_FILE,
    SOURCE_LINE,
    UPTIME_S,
)

# The verdict's frame: numbers, what each row is as flags, and its row in the event table (the
# text columns, the file names above all, would be copied by every sort and filter).
_VERDICT_COLUMNS = (
    DURATION_MS,
    HEAP_AFTER_BYTES,
    HEAP_BEFORE_BYTES,
    HEAP_COMMITTED_BYTES,
    UPTIME_S,
)
_ROW = "_row"  # the row in the run's event table, for file:line evidence
_STW_WHOLE = "_stw_whole"  # a stop-the-world whole-heap collection not asked for (_exhaustion)
_WHOLE = "_whole"  # a whole-heap collection of any kind, concurrent cycles included (_end_fill_pct)

VERDICTS = ("leak", "suspected", "healthy", "insufficient_evidence")
SHAPES = ("sawtooth", "rising_floor", "hockey_stick", "staircase")
SHAPE_WORDS = {
    "rising_floor": "steadily",
    "hockey_stick": "faster and faster (a hockey stick)",
    "staircase": "in steps that hold (a staircase)",
}

# Concurrent cycles that collect only the young generation (generational ZGC/Shenandoah minor
# cycles): their heap after still holds every dead old object, so they are not a floor.
YOUNG_ONLY_KINDS = ("young", "minor")
# Pauses that collect the whole heap (with concurrent cycles): when they free nothing, the
# heap has run out.
WHOLE_HEAP_KINDS = ("full", "degenerated")
# Causes of a collection someone asked for (System.gc(), jcmd GC.run, a heap dump or inspection,
# JVMTI, WhiteBox): it finds the heap however full it is, so freeing little proves nothing.
REQUESTED_CAUSES = (
    "system.gc",
    "diagnostic command",
    "jvmti",
    "heap inspection",
    "heap dump",
    "whitebox",
)
# A run that ends in exhaustion: at least this many back-to-back stop-the-world whole-heap
# collections that free (almost) nothing ...
EXHAUSTION_MIN_COLLECTIONS = 2
# ... followed by at most this many collections (once the OutOfMemoryError has dropped the work
# that held the heap, one more collection frees it: that is no floor).
EXHAUSTION_MAX_AFTER = 2
FLOOR_BINS = 60  # old collections: at most this many troughs over the analysed span
ENVELOPE_BINS = 30  # lower envelope of all collections: at most this many troughs
EVIDENCE_MAX_POINTS = 200  # points listed in the JSON evidence (all are used in the fit)
EXAMPLE_LINES = 5
# A floor step must be at least this many points of max heap to count as a stair.
MIN_STEP_PCT = 2.0

_T = "_t_end_s"


def _param(params: Mapping[str, Any], key: str) -> Any:
    try:
        return params[key]
    except KeyError:
        raise KeyError(f"leak verdict parameter {key!r} missing (see rule GCS001)") from None


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def baseline_kinds_expr() -> pl.Expr:
    """Rows whose heap-after is a floor point: old-reclaiming pauses and concurrent cycles."""
    old_pause = (pl.col(CATEGORY) == PAUSE) & pl.col(KIND).is_in(list(OLD_RECLAIMING_KINDS))
    cycle = (pl.col(CATEGORY) == CONCURRENT) & ~pl.col(KIND).fill_null("").is_in(
        list(YOUNG_ONLY_KINDS)
    )
    return old_pause | cycle


def heap_max_of(events: pl.DataFrame, meta: Mapping[str, Any]) -> tuple[float | None, str]:
    """The maximum heap and where it came from: the run's -Xmx, else the largest committed heap
    (or heap before a GC) the log shows, which understates it when the heap never grew fully."""
    value = meta.get("heap_max_bytes")
    if value:
        return float(value), "heap_max_bytes"
    for column in (HEAP_COMMITTED_BYTES, HEAP_BEFORE_BYTES):
        top = events[column].max() if column in events.columns else None
        if top:
            return float(top), f"max {column}"  # type: ignore[arg-type]
    return None, "unknown"


def _insufficient(reason: str, **extra: Any) -> dict[str, Any]:
    out = {
        "verdict": "insufficient_evidence",
        "shape": None,
        "slope_pct_per_hour": None,
        "fit": None,
        "points": 0,
        "span_s": None,
        "oom_eta_s": None,
        "reason": reason,
        "evidence": {},
    }
    out.update(extra)
    return out


# Figures of the evidence that come from the fit: a run without a verdict shows none.
FIT_EVIDENCE = ("floor_start_pct", "floor_end_pct", "rise_pct", "recent_slope_pct_per_hour")


def _withdrawn(out: dict[str, Any], reason: str) -> dict[str, Any]:
    """`out` turned into insufficient_evidence: the points stay in the evidence, but no slope,
    fit or figure derived from them (a line through too little is no finding)."""
    out.update(
        verdict="insufficient_evidence",
        shape=None,
        slope_pct_per_hour=None,
        fit=None,
        oom_eta_s=None,
        reason=reason,
    )
    evidence = out.get("evidence") or {}
    for key in FIT_EVIDENCE:
        if key in evidence:
            evidence[key] = None
    return out


def _thin_indices(n: int, limit: int) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(int))


def _examples(events: pl.DataFrame, frame: pl.DataFrame, limit: int = EXAMPLE_LINES) -> list[str]:
    """file:line of up to `limit` points spread over `frame` (first and last included), rows of
    `events` by their `_row`."""
    if frame.height == 0 or SOURCE_FILE not in events.columns:
        return []
    rows = frame[_ROW].gather(_thin_indices(frame.height, limit))
    picked = events.select(SOURCE_FILE, SOURCE_LINE)[rows]
    out = []
    for file, line in zip(picked[SOURCE_FILE], picked[SOURCE_LINE], strict=True):
        if file is not None:
            out.append(f"{file}:{line}" if line is not None else str(file))
    return out


def _troughs(frame: pl.DataFrame, bins: int) -> pl.DataFrame:
    """The row with the lowest heap after GC in each of `bins` equal time bins."""
    if frame.height == 0:
        return frame
    t, _ = lower_envelope(frame[_T].to_numpy(), frame[HEAP_AFTER_BYTES].to_numpy(), bins=bins)
    return frame.filter(pl.col(_T).is_in(t.tolist())).unique(_T, keep="first").sort(_T)


def requested_expr(events: pl.DataFrame) -> pl.Expr:
    """Rows of `events` whose cause is a request (REQUESTED_CAUSES), not the heap's state."""
    return contains_any(events, CAUSE, REQUESTED_CAUSES)


def _fill_pct(frame: pl.DataFrame, heap_max: float) -> pl.Series:
    """Per collection: the higher of heap after as % of the committed heap (else max heap) and
    as % of heap before (what the collection found)."""
    after = frame[HEAP_AFTER_BYTES].cast(pl.Float64)
    capacity = frame[HEAP_COMMITTED_BYTES].cast(pl.Float64).fill_null(heap_max)
    of_capacity = after / capacity * 100.0
    of_found = (after / frame[HEAP_BEFORE_BYTES].cast(pl.Float64) * 100.0).fill_null(0.0)
    return pl.select(pl.max_horizontal(of_capacity, of_found)).to_series().fill_null(0.0)


def _exhaustion(gcs: pl.DataFrame, heap_max: float, exhausted_pct: float) -> pl.DataFrame | None:
    """The collections in which the run ran out of heap, or None: the last back-to-back
    stop-the-world whole-heap collections (full, degenerated; at least
    EXHAUSTION_MIN_COLLECTIONS, none of them requested) that each left the heap at least
    `exhausted_pct` full (of the committed heap, or of what it found), with at most
    EXHAUSTION_MAX_AFTER collections of any kind after them. A column `_fill` holds each one's
    fill. Concurrent cycles do not count: allocation during a cycle makes what it found
    meaningless."""
    indexed = gcs.with_row_index("_i")
    whole = indexed.filter(pl.col(_STW_WHOLE))
    if whole.height < EXHAUSTION_MIN_COLLECTIONS:
        return None
    whole = whole.with_columns(_fill_pct(whole, heap_max).alias("_fill"))
    full = (whole["_fill"] >= exhausted_pct).to_list()
    last = max((i for i, hit in enumerate(full) if hit), default=None)
    if last is None or gcs.height - 1 - int(whole["_i"][last]) > EXHAUSTION_MAX_AFTER:
        return None
    first = last
    while first > 0 and full[first - 1]:
        first -= 1
    if last - first + 1 < EXHAUSTION_MIN_COLLECTIONS:
        return None
    return whole.slice(first, last - first + 1).drop("_i")


def _end_fill_pct(base: pl.DataFrame, heap_max: float, since_s: float) -> float | None:
    """How full the heap stayed after the last whole-heap collections (full, degenerated,
    concurrent cycles; at most three, after `since_s`): the higher of the heap in use as % of
    the committed heap (else max heap) and as % of what the collection found. Either near 100
    means collecting no longer frees memory. None when no such collection came that late.

    Partial collections (G1 mixed, remark, cleanup) do not count: a remark that frees nothing
    is normal."""
    tail = base.filter(pl.col(_WHOLE) & (pl.col(_T) >= since_s)).tail(3)
    if tail.height == 0:
        return None
    after = tail[HEAP_AFTER_BYTES].cast(pl.Float64)
    capacity = tail[HEAP_COMMITTED_BYTES].cast(pl.Float64).fill_null(heap_max)
    of_capacity = float(np.median(after / capacity * 100.0))
    before = tail[HEAP_BEFORE_BYTES].cast(pl.Float64)
    kept = (after / before * 100.0).drop_nulls()
    of_found = float(np.median(kept)) if kept.len() else 0.0
    return max(of_capacity, of_found)


def _fit_summary(fit: TrendFit, heap_max: float) -> dict[str, Any]:
    per_h_to_bytes_s = heap_max / 100.0 / 3600.0
    return {
        "method": "theil_sen",
        "r2": _finite(fit.r2),
        "p_value": _finite(fit.p_value),
        "kendall_tau": _finite(fit.tau),
        "slope_ci95_pct_per_hour": [_finite(fit.slope_low), _finite(fit.slope_high)],
        # The same line in bytes against uptime seconds, for charts.
        "slope_bytes_per_s": _finite(fit.slope * per_h_to_bytes_s),
        "intercept_bytes": _finite(fit.intercept / 100.0 * heap_max),
    }


def leak_verdict(
    events: pl.DataFrame,
    meta: Mapping[str, Any],
    params: Mapping[str, Any],
    *,
    run_end_s: float | None = None,
) -> dict[str, Any]:
    """The leak verdict of ONE run (its events and run-meta dict), as a JSON-ready dict.

    `params` are GCS001's thresholds: slope_pct_per_hour, max_p_value, min_points, min_span_s,
    min_rise_pct, warmup_pct, warmup_max_s, warmup_collections, exhausted_pct. `run_end_s` is
    where the run ends (default: the meta's end_uptime_s, else the last event); the time to OOM
    is counted from there.
    """
    min_points = int(_param(params, "min_points"))
    heap_max, heap_max_basis = heap_max_of(events, meta)
    if heap_max is None:
        return _insufficient("the log shows no heap size, so the floor cannot be scaled")

    # only the columns the verdict reads: a copy of the whole table would cost its size again
    whole_heap = pl.col(KIND).is_in(list(WHOLE_HEAP_KINDS))
    gcs = (
        events.lazy()
        .with_row_index(_ROW)
        .filter(pl.col(UPTIME_S).is_not_null() & pl.col(HEAP_AFTER_BYTES).is_not_null())
        .select(
            _ROW,
            *_VERDICT_COLUMNS,
            end_expr().alias(_T),
            baseline_kinds_expr().fill_null(False).alias("_base"),
            ((pl.col(CATEGORY) == PAUSE) & whole_heap & ~requested_expr(events))
            .fill_null(False)
            .alias(_STW_WHOLE),
            ((pl.col(CATEGORY) == CONCURRENT) | whole_heap).fill_null(False).alias(_WHOLE),
        )
        .sort(_T)
        .collect()
    )
    if gcs.height == 0:
        return _insufficient("the log has no collection with heap figures")

    start = _finite(meta.get("start_uptime_s"))
    start = float(gcs[_T][0]) if start is None else min(start, float(events[UPTIME_S].min()))
    end = run_end_s if run_end_s is not None else _finite(meta.get("end_uptime_s"))
    end = max(end or 0.0, float(gcs[_T][-1]))
    span = end - start
    warmup_end = start + min(
        float(_param(params, "warmup_pct")) / 100.0 * span, float(_param(params, "warmup_max_s"))
    )
    exhausted_pct = float(_param(params, "exhausted_pct"))
    # A run that ended in exhaustion: what comes after (the heap freed once the error dropped
    # the work) is neither floor nor trend.
    ran_dry = _exhaustion(gcs, heap_max, exhausted_pct)
    if ran_dry is not None and float(ran_dry[_T][0]) < warmup_end:
        ran_dry = None
    after_exhaustion = 0
    if ran_dry is not None:
        cut = float(ran_dry[_T][-1])
        after_exhaustion = gcs.filter(pl.col(_T) > cut).height
        gcs = gcs.filter(pl.col(_T) <= cut)
    base = gcs.filter(pl.col("_base"))
    skip = int(_param(params, "warmup_collections"))
    base = base.slice(min(skip, base.height)).filter(pl.col(_T) >= warmup_end)
    old_count = base.height

    # One floor point per time bin, the trough of the bin. Old collections come in bursts (a G1
    # mixed phase, back-to-back full GCs before an OOM): without this a burst would weigh as
    # much as the rest of the run, and its highest points (a remark with a full eden) would
    # count as floor.
    used = _troughs(base, FLOOR_BINS)
    source = "old_collections"
    if used.height < min_points:
        after = gcs.filter(pl.col(_T) >= warmup_end)
        if after.height == 0:
            return _insufficient(
                f"no collection after the warm-up (which ends at {warmup_end:.1f} s)"
            )
        used = _troughs(after, ENVELOPE_BINS)
        source = "lower_envelope"
        if used.height < min_points and ran_dry is None:
            return _insufficient(
                f"{old_count} old-generation collection(s) and {after.height} collection(s) in"
                f" all after the warm-up: at least {min_points} floor points are needed",
                points=used.height,
            )

    t = used[_T].to_numpy()
    y_bytes = used[HEAP_AFTER_BYTES].to_numpy().astype(float)
    y = y_bytes / heap_max * 100.0
    points_span = float(t[-1] - t[0])
    evidence: dict[str, Any] = {
        "baseline": source,
        "old_collections": old_count,
        "start_uptime_s": _finite(t[0]),
        "end_uptime_s": _finite(t[-1]),
        "warmup_end_s": _finite(warmup_end),
        "heap_max_bytes": int(heap_max),
        "heap_max_basis": heap_max_basis,
        "lines": _examples(events, used),
    }
    keep = _thin_indices(t.size, EVIDENCE_MAX_POINTS)
    evidence["points"] = {
        UPTIME_S: [round(float(v), 3) for v in t[keep]],
        HEAP_AFTER_BYTES: [int(v) for v in y_bytes[keep]],
    }
    if points_span <= 0:
        return _insufficient(
            "all floor points fall at the same moment", evidence=evidence, points=int(t.size)
        )

    fit = theil_sen(t / 3600.0, y)
    fit_end = float(fit.predict([end / 3600.0])[0])
    fit_start = float(fit.predict([t[0] / 3600.0])[0])
    fit_last = float(fit.predict([t[-1] / 3600.0])[0])
    rise = fit.slope * points_span / 3600.0
    min_rise = float(_param(params, "min_rise_pct"))
    # The last collections, not the end of the run: the JVM's exit report comes later.
    last_gc = float(gcs[_T][-1])
    climb = None
    if ran_dry is not None:
        end_fill: float | None = float(ran_dry["_fill"].median())  # type: ignore[arg-type]
        level = float(np.median(ran_dry[HEAP_AFTER_BYTES].to_numpy() / heap_max * 100.0))
        before = y[t < float(ran_dry[_T][0])]
        if before.size:  # from the early floor (its first third) to where the heap ran out
            climb = level - float(np.median(before[: max(1, before.size // 3)]))
        evidence["exhaustion"] = {
            "collections": ran_dry.height,
            "start_uptime_s": _finite(ran_dry[UPTIME_S][0]),
            "end_uptime_s": _finite(ran_dry[_T][-1]),
            "heap_after_pct": _finite(level),
            "climb_pct": _finite(climb),
            "collections_after": after_exhaustion,
            "lines": _examples(events, ran_dry),
        }
    else:
        end_fill = _end_fill_pct(base, heap_max, t[0] + 0.75 * (last_gc - t[0]))
    evidence.update(
        floor_start_pct=_finite(fit_start),
        floor_end_pct=_finite(fit_end),
        rise_pct=_finite(rise),
        end_fill_pct=_finite(end_fill),
    )
    out: dict[str, Any] = {
        "verdict": "healthy",
        "shape": "sawtooth",
        "slope_pct_per_hour": _finite(fit.slope),
        "fit": _fit_summary(fit, heap_max),
        "points": int(t.size),
        "span_s": _finite(points_span),
        "oom_eta_s": None,
        "reason": "",
        "evidence": evidence,
    }

    threshold = float(_param(params, "slope_pct_per_hour"))
    significant = fit.p_value < float(_param(params, "max_p_value")) and fit.slope_low > 0
    end_fill = evidence["end_fill_pct"]
    exhausted = end_fill is not None and end_fill >= exhausted_pct
    # A heap that ran out: the floor climbed (significantly, by a clear margin) to the top,
    # where old collections free almost nothing; or the run ended in back-to-back full GCs
    # that freed nothing after the floor climbed by a clear margin to there. That is conclusive
    # however short the run or few the points, so it bypasses min_span_s and min_points.
    ended_exhausted = climb is not None and climb >= min_rise
    ran_out = (significant and exhausted and rise >= min_rise) or ended_exhausted

    min_span = float(_param(params, "min_span_s"))
    if points_span < min_span and not ran_out:
        return _withdrawn(
            out,
            f"the floor points span {points_span:.0f} s; at least {min_span:.0f} s are needed to"
            " tell a trend",
        )
    if used.height < min_points and not ran_out:  # kept only for a run that may have run out
        return _withdrawn(
            out,
            f"{old_count} old-generation collection(s) after the warm-up give {used.height}"
            f" floor points: at least {min_points} are needed",
        )

    ci = f"95 % interval {fit.slope_low:.1f} to {fit.slope_high:.1f} %/h"
    if not ran_out and not (significant and fit.slope > threshold):
        why = (
            f"not above {threshold:g} %/h"
            if fit.slope <= threshold
            else f"not significant (p = {fit.p_value:.2g}, {ci})"
        )
        out["reason"] = (
            f"the heap floor after GC stays level: {fit.slope:+.1f} % of max heap per hour"
            f" over {points_span:.0f} s and {t.size} points, {why}"
        )
        return out

    shape = _shape(t, y, exhausted=exhausted)
    out["shape"] = shape
    slope_now = fit.slope
    floor_now = fit_end
    if shape == "hockey_stick":
        # The recent half predicts the end better than a line through an accelerating floor.
        half = t.size // 2
        recent = theil_sen(t[half:] / 3600.0, y[half:])
        if recent.slope > slope_now:
            slope_now = recent.slope
            floor_now = float(recent.predict([end / 3600.0])[0])
        evidence["recent_slope_pct_per_hour"] = _finite(recent.slope)
    if ended_exhausted:
        out["oom_eta_s"] = 0.0  # it has run out
    else:
        out["oom_eta_s"] = _finite(max(0.0, (100.0 - floor_now) / slope_now * 3600.0))

    conclusive = source == "old_collections" and rise >= min_rise
    out["verdict"] = "leak" if conclusive or ran_out else "suspected"
    notes = []
    if ended_exhausted and ran_dry is not None:
        notes.append(
            f"the run ended in {ran_dry.height} back-to-back whole-heap collections that left"
            f" the heap {end_fill:.0f} % full, after the floor climbed {climb:.0f} points of max"
            " heap: the heap has run out"
        )
    elif exhausted:
        notes.append(
            f"the last whole-heap collections left the heap {end_fill:.0f} % full: the heap has"
            " run out"
        )
    if out["verdict"] == "suspected" and source != "old_collections":
        notes.append(
            f"only {old_count} old-generation collection(s), so the floor is the lowest heap"
            " after any GC, which may still hold garbage no collection reclaimed"
        )
    elif out["verdict"] == "suspected":
        notes.append(
            f"the floor rose only {rise:.1f} points of max heap (a leak needs {min_rise:g})"
        )
    doubt = "".join(f"; {note}" for note in notes)
    out["reason"] = (
        f"the heap floor after GC rises {SHAPE_WORDS[shape]}, {fit.slope:+.1f} % of max heap"
        f" per hour ({ci}, p = {fit.p_value:.2g}) over {points_span:.0f} s and {t.size} points,"
        f" from {fit_start:.0f} % to {min(fit_last, 100.0):.0f} % of max heap{doubt}"
    )
    return out


def _shape(t: np.ndarray, y: np.ndarray, *, exhausted: bool) -> str:
    """How a rising floor rises (the caller has established that it does)."""
    if exhausted:
        return "hockey_stick"
    segments = level_segments(y, min_jump=MIN_STEP_PCT)
    if is_staircase(t, y, segments):
        return "staircase"
    if acceleration(t, y).accelerating:
        return "hockey_stick"
    return "rising_floor"
