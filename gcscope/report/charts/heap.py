"""Heap charts: occupancy over time with the leak trend, Old Gen saturation, metaspace."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from gcscope import model
from gcscope.report.charts._base import (
    COMMITTED_COLOUR,
    MAX_HEAP_COLOUR,
    TREND_COLOUR,
    TimeAxis,
    byte_scale,
    format_duration_s,
    kind_colour,
    kind_label,
    kind_order,
    legend,
    new_figure,
    pixel_columns,
)
from gcscope.report.data import RunView
from gcscope.report.downsample import m4_indices, polyline_envelope

RISING_VERDICTS = ("leak", "suspected")
MB_TOL = 1 << 20  # committed within 1 MB of max heap is "the whole heap committed"
# Pauses that neither evacuate nor compact the heap: marking and reference-updating phases of
# G1, CMS, ZGC and Shenandoah. Their "after" is wherever allocation had got to.
NON_MOVING_KINDS = (
    "remark",
    "cleanup",
    "initial_mark",
    "final_mark",
    "mark_start",
    "mark_end",
    "relocate_start",
    "update_refs",
    "final_roots",
)
# What heap figures after a collection of each kind are called in the legend.
_AFTER_PAUSE = {
    "young": "after young GC",
    "mixed": "after mixed GC",
    "full": "after full GC",
    "degenerated": "after degenerated GC",
    "other": "after other pauses",
}


def after_label(kind: str, category: str) -> str:
    """ "after young GC", "after full GC", "after concurrent cycle", "after minor collection"."""
    if category == model.PAUSE:
        return _AFTER_PAUSE.get(kind) or f"after {kind_label(kind)}"
    if category == model.HEAP_SAMPLE:  # Epsilon never collects: it logs its occupancy
        return "heap used, as logged (no GC)"
    return f"after {kind_label(kind, category)}"


def logs_gc_star(run: RunView) -> bool:
    """Whether the log shows more than `-Xlog:gc` (start-up lines of gc+init or gc+heap, or CPU
    times of gc+cpu): then a missing series is one this JVM does not print, and advice to add
    `gc*` would be wrong."""
    summary = run.summary
    if any(summary.get(k) for k in ("cpus", "jvm_version", "heap_reserved_bytes", "memory_bytes")):
        return True
    return bool(run.events[model.USER_S].is_not_null().any()) if run.events.height else False


def floats(frame: pl.DataFrame, column: str) -> np.ndarray:
    """A column as float64 numpy, nulls as NaN."""
    return frame[column].cast(pl.Float64).to_numpy()


def event_rows(run: RunView, columns: list[str], where: pl.Expr) -> pl.DataFrame:
    """The run's events that `where` keeps, with only `columns`: a filter of the whole table
    would copy every column (2 GB log: ~300 MB a chart)."""
    return run.events.lazy().filter(where).select(columns).collect()


def is_text(frame: pl.DataFrame, column: str, value: str, *, null_as: str | None = None) -> np.ndarray:
    """Where a text column equals `value`, as a numpy bool array (nulls read as `null_as`). Not
    `to_numpy() == value`: a text column as numpy is one Python string object a row (2 M
    pauses: ~130 MB)."""
    text = pl.col(column) if null_as is None else pl.col(column).cast(pl.String).fill_null(null_as)
    return frame.select((text == value).fill_null(False)).to_series().to_numpy()


def time_axis(run: RunView) -> TimeAxis:
    uptime = floats(run.events, model.UPTIME_S)
    time_ms = run.events[model.TIME].dt.epoch("ms").cast(pl.Float64).to_numpy()
    if run.samples is not None and run.samples.height:
        uptime = np.r_[uptime, floats(run.samples, model.UPTIME_S)]
        time_ms = np.r_[time_ms, run.samples[model.TIME].dt.epoch("ms").cast(pl.Float64)]
    return TimeAxis.for_run(
        uptime,
        time_ms,
        _number(run.summary.get("start_uptime_s")),
        _number(run.summary.get("end_uptime_s")),
    )


def event_end_s(frame: pl.DataFrame) -> np.ndarray:
    """When each event ended (after-GC figures belong there): start + duration."""
    return floats(frame, model.UPTIME_S) + np.nan_to_num(floats(frame, model.DURATION_MS)) / 1e3


# --- the leak trend --------------------------------------------------------------------------------
def baseline_points(leak: Mapping[str, Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """The post-GC baseline points the leak verdict was fitted on: (uptime_s, bytes)."""
    evidence = (leak or {}).get("evidence") or {}
    points = evidence.get("points") if isinstance(evidence, Mapping) else None
    if not points:
        return np.empty(0), np.empty(0)
    if isinstance(points, Mapping):  # columnar: {"uptime_s": [...], "heap_after_bytes": [...]}
        t = points.get(model.UPTIME_S) or []
        y = points.get(model.HEAP_AFTER_BYTES) or points.get("bytes") or []
    elif isinstance(points[0], Mapping):  # rows of dicts
        t = [p.get(model.UPTIME_S) for p in points]
        y = [p.get(model.HEAP_AFTER_BYTES, p.get("bytes")) for p in points]
    else:  # rows of [uptime_s, bytes]
        t = [p[0] for p in points]
        y = [p[1] for p in points]
    return np.asarray(t, dtype=float), np.asarray(y, dtype=float)


def trend_line(
    leak: Mapping[str, Any] | None, heap_max: float | None
) -> tuple[float, float] | None:
    """(slope bytes/s, intercept bytes at uptime 0) of the fitted baseline, or None.

    Uses the fit the verdict reports; when it gives only the slope (% of max heap per hour),
    the intercept is the median of y - slope * t over its points (the Theil–Sen intercept).
    """
    if not leak:
        return None
    fit = leak.get("fit") if isinstance(leak.get("fit"), Mapping) else {}
    slope = _number(fit.get("slope_bytes_per_s") if fit else None)
    if slope is None:
        slope = _number(leak.get("slope_bytes_per_s"))
    if slope is None:
        pct_h = _number(leak.get("slope_pct_per_hour"))
        if pct_h is None or not heap_max:
            return None
        slope = pct_h / 100.0 * heap_max / 3600.0
    intercept = _number(fit.get("intercept_bytes") if fit else None)
    if intercept is None:
        intercept = _number(leak.get("intercept_bytes"))
    if intercept is None:
        t, y = baseline_points(leak)
        if not t.size:
            return None
        intercept = float(np.median(y - slope * t))
    return slope, intercept


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


# --- heap over time --------------------------------------------------------------------------------
def heap_chart(run: RunView, *, dpi: int):
    """Heap used before and after each GC (the sawtooth), committed and max heap, the post-GC
    baseline points and the leak trend extended to where it reaches max heap."""
    gcs = event_rows(
        run,
        [model.UPTIME_S, model.DURATION_MS, model.HEAP_BEFORE_BYTES, model.HEAP_AFTER_BYTES,
         model.HEAP_COMMITTED_BYTES, model.KIND, model.CATEGORY],
        pl.col(model.HEAP_AFTER_BYTES).is_not_null() & pl.col(model.UPTIME_S).is_not_null(),
    )
    if gcs.height == 0:
        return "the log has no heap occupancy figures"
    fig, (ax,) = new_figure(dpi)
    axis = time_axis(run)
    columns = pixel_columns(fig)
    heap_max = run.heap_max_bytes
    start = floats(gcs, model.UPTIME_S)
    end = event_end_s(gcs)
    before = floats(gcs, model.HEAP_BEFORE_BYTES)
    after = floats(gcs, model.HEAP_AFTER_BYTES)
    committed = floats(gcs, model.HEAP_COMMITTED_BYTES)
    # each array's own maximum: concatenating them first copies every figure once more
    peak = max(float(np.nanmax(values, initial=0.0)) for values in (before, after, committed, [heap_max or 0.0]))
    scale = byte_scale(peak)
    div = scale.divisor

    # The sawtooth: heap climbs between GCs (allocation) and drops in each GC.
    saw_t = np.column_stack([start, end]).ravel()
    saw_y = np.column_stack([np.where(np.isnan(before), after, before), after]).ravel()
    if gcs.height * 3 > columns:
        # Teeth narrower than ~3 pixels merge into a band anyway: draw the band, each pixel
        # column filled over the range the sawtooth's strokes cross in it.
        centre, low, high = polyline_envelope(saw_t, saw_y, columns)
        ax.fill_between(
            axis.x(centre),
            low / div,
            high / div,
            step="mid",
            color="#9ecae1",
            linewidth=0,
            zorder=1,
            label="heap used",
        )
    else:
        keep = m4_indices(saw_t, saw_y, columns)
        ax.plot(
            axis.x(saw_t[keep]),
            saw_y[keep] / div,
            color="#9ecae1",
            linewidth=1.0,
            zorder=1,
            label="heap used",
        )
    del saw_t, saw_y  # twice the events each: let go before the other series take theirs
    # Committed is drawn over the max line: most runs commit their whole heap at start, and a
    # line hidden under another must not stand in the legend.
    max_label = f"max heap {heap_max / div:,.0f} {scale.unit}" if heap_max else None
    finite_committed = committed[np.isfinite(committed)]
    committed_is_max = bool(
        heap_max and finite_committed.size and np.all(np.abs(finite_committed - heap_max) < MB_TOL)
    )
    any_committed = bool(finite_committed.size)
    del finite_committed
    if committed_is_max:
        max_label = f"max heap = committed, {heap_max / div:,.0f} {scale.unit}"
    elif any_committed:
        keep = m4_indices(end, committed, columns)
        ax.step(
            axis.x(end[keep]),
            committed[keep] / div,
            where="post",
            color=COMMITTED_COLOUR,
            linewidth=2.2,
            label="committed",
            zorder=3,
        )
    if heap_max:
        ax.axhline(
            heap_max / div,
            color=MAX_HEAP_COLOUR,
            linestyle="--",
            linewidth=1.8,
            label=max_label,
            zorder=2,
        )
    # Marking and other non-moving pauses move nothing: points for them would only scatter
    # noise over the sawtooth (their floor values are still drawn as baseline points when the
    # leak verdict used them).
    pairs = (
        gcs.select(
            pl.col(model.CATEGORY).fill_null(model.PAUSE), pl.col(model.KIND).fill_null("other")
        )
        .unique()
        .rows()
    )
    series = {
        (str(c), str(k)) for c, k in pairs if not (c == model.PAUSE and k in NON_MOVING_KINDS)
    }
    order = kind_order(sorted({k for _, k in series}))
    for category, kind in sorted(series, key=lambda ck: (ck[0] != model.PAUSE, order.index(ck[1]))):
        mask = is_text(gcs, model.KIND, kind, null_as="other") & is_text(
            gcs, model.CATEGORY, category, null_as=model.PAUSE
        )
        keep = m4_indices(end[mask], after[mask], columns)
        common = kind in ("young", "other") or category != model.PAUSE
        ax.scatter(
            axis.x(end[mask][keep]),
            after[mask][keep] / div,
            s=16 if common else 40,  # the rarer old collections stand out
            color=kind_colour(kind, category),
            label=after_label(kind, category),
            zorder=4 if common else 5,
            linewidths=0,
        )

    x_right = float(np.nanmax(end))
    span = max(x_right - float(np.nanmin(start)), 1.0)
    t_base, y_base = baseline_points(run.leak)
    # Without a verdict the fitted line is not evidence of anything: show the points only.
    decided = (run.leak or {}).get("verdict") not in (None, "insufficient_evidence")
    if t_base.size:
        ax.scatter(
            axis.x(t_base),
            y_base / div,
            s=70,
            facecolor="none",
            edgecolor=TREND_COLOUR,
            linewidths=2.0,
            label="post-GC baseline" if decided else "post-GC baseline (too little for a verdict)",
            zorder=6,
        )
    trend = trend_line(run.leak, heap_max) if decided else None
    right_s = None
    if trend is not None:
        slope, intercept = trend
        t0 = float(t_base.min()) if t_base.size else float(np.nanmin(start))
        run_end = _number(run.summary.get("end_uptime_s")) or x_right
        ts = np.array([t0, max(run_end, x_right)])
        rate = _number((run.leak or {}).get("slope_pct_per_hour"))
        label = "baseline trend" + (f" ({rate:+.1f} % of max heap/h)" if rate is not None else "")
        ax.plot(
            axis.x(ts),
            (intercept + slope * ts) / div,
            color=TREND_COLOUR,
            linestyle="--",
            linewidth=2.6,
            label=label,
            zorder=6,
        )
        right_s = _draw_oom_projection(ax, axis, run, ts[-1], intercept + slope * ts[-1], span, div)
    ax.set_ylim(0, peak / div * 1.12)
    ax.set_ylabel(f"Heap ({scale.unit})")
    ax.set_title("Heap before and after each GC")
    axis.apply(ax, right_s=right_s)
    legend(ax, outside_over=0, markerscale=1.5)  # below the chart: the sawtooth fills it
    return fig


def _draw_oom_projection(
    ax, axis: TimeAxis, run: RunView, t_end: float, y_end: float, span: float, div: float
) -> float | None:
    """From the end of the fitted floor to max heap at the verdict's time to OOM: a dotted
    line and a cross, or an arrow at the chart's edge when that is more than a span away."""
    leak = run.leak or {}
    eta = _number(leak.get("oom_eta_s"))
    heap_max = run.heap_max_bytes
    if leak.get("verdict") not in RISING_VERDICTS or eta is None or not heap_max:
        return None
    t_oom = t_end + eta
    # Never squash the data into a sliver: the axis grows by at most one data span.
    t_edge = min(t_oom, t_end + span)
    y_edge = y_end + (heap_max - y_end) * ((t_edge - t_end) / eta if eta > 0 else 1.0)
    ax.plot(
        axis.x([t_end, t_edge]),
        [y_end / div, y_edge / div],
        color="#b30000",
        linestyle=":",
        linewidth=2.6,
        label="projection to max heap",
        zorder=6,
    )
    text = f"max heap reached in ~{format_duration_s(eta)}"
    if t_oom <= t_edge:
        ax.scatter(axis.x([t_oom]), [heap_max / div], marker="X", s=180, color="#b30000", zorder=7)
    else:
        text += " (beyond this chart)"
    # Above the max-heap line (the axis leaves 12 % of room there), right-aligned to where the
    # projection meets it, on a white box: neither the dashed line nor the grid runs through it.
    ax.annotate(
        text,
        xy=(axis.x(t_edge), heap_max / div),
        xytext=(-6, 7),
        textcoords="offset points",
        ha="right",
        va="bottom",
        color="#b30000",
        fontsize=15,
        fontweight="bold",
        zorder=8,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.92, "pad": 2.0},
    )
    return t_edge


# --- old generation --------------------------------------------------------------------------------
# (y label, title) per saturation basis of the result (`old_gen.basis`).
OLD_GEN_BASES = {
    "old+humongous/heap_max": ("Old + humongous, % of max heap", "Old Gen occupancy after GC"),
    "old/old_capacity": ("Old Gen, % of its capacity", "Old Gen occupancy after GC"),
    "heap_after/heap_max": (
        "Heap after GC, % of max heap",
        "Heap occupancy after GC (one space: no separate Old Gen)",
    ),
}


def old_gen_chart(run: RunView, *, dpi: int):
    """Old Gen occupancy after each GC as % of its capacity, with the 80 % line. For a
    collector without an old generation (ZGC before generational mode, Shenandoah, Epsilon)
    the same series is the heap after each GC as % of max heap, and the chart says so."""
    from gcscope.analysis.metrics import (
        SATURATION_THRESHOLD_PCT,
        old_gen_basis,
        old_gen_saturation_series,
    )

    series = old_gen_saturation_series(run.events, dict(run.summary))
    if series.height == 0:
        if logs_gc_star(run):
            return "the log has no old-generation figures (this JVM prints none for this collector)"
        return "the log has no old-generation figures (add -Xlog:gc+heap=debug or gc*)"
    threshold = _number((run.summary.get("old_gen") or {}).get("threshold_pct"))
    threshold = threshold or SATURATION_THRESHOLD_PCT
    fig, (ax,) = new_figure(dpi)
    axis = time_axis(run)
    t = floats(series, model.UPTIME_S)
    pct = floats(series, "saturation_pct")
    keep = m4_indices(t, pct, pixel_columns(fig))
    ax.plot(
        axis.x(t[keep]),
        pct[keep],
        color="#3182bd",
        linewidth=1.6,
        marker="o" if keep.size <= 300 else None,
        markersize=4,
        label=f"after GC (last {pct[-1]:.1f} %, max {np.nanmax(pct):.1f} %)",
    )
    ax.axhline(
        threshold,
        color="#c00000",
        linestyle="--",
        linewidth=1.8,
        label=f"{threshold:g} % saturation line",
    )
    top = max(105.0, float(np.nanmax(pct)) * 1.05)
    ax.axhspan(threshold, top, color="#c00000", alpha=0.06, zorder=0)
    ax.set_ylim(0, top)
    basis = (run.summary.get("old_gen") or {}).get("basis") or old_gen_basis(
        run.events, dict(run.summary)
    )
    ylabel, title = OLD_GEN_BASES.get(basis, OLD_GEN_BASES["old/old_capacity"])
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    axis.apply(ax)
    legend(ax, outside_over=0)  # below the chart: points run anywhere from 0 to 100 %
    return fig


# --- metaspace -----------------------------------------------------------------------------------
def metaspace_chart(run: RunView, *, dpi: int):
    """Metaspace used after each GC and committed: a class-loader leak shows as a rising line."""
    rows = event_rows(
        run,
        [model.UPTIME_S, model.DURATION_MS, model.METASPACE_AFTER_BYTES, model.METASPACE_COMMITTED_BYTES],
        pl.col(model.METASPACE_AFTER_BYTES).is_not_null(),
    )
    if rows.height == 0:
        if logs_gc_star(run):
            return "the log has no metaspace figures (this JVM prints none for this collector)"
        return "the log has no metaspace figures (add -Xlog:gc+metaspace or gc*)"
    t = event_end_s(rows)
    used = floats(rows, model.METASPACE_AFTER_BYTES)
    committed = floats(rows, model.METASPACE_COMMITTED_BYTES)
    peak = np.nanmax(np.r_[used, committed])
    if not peak > 0:  # JDK 17 ZGC prints "Metaspace: 0M used, 0M committed" after every GC
        return "the log gives metaspace as 0 after every GC (JDK 17's ZGC prints no real figure)"
    fig, (ax,) = new_figure(dpi)
    axis = time_axis(run)
    columns = pixel_columns(fig)
    scale = byte_scale(peak)
    keep = m4_indices(t, used, columns)
    ax.plot(
        axis.x(t[keep]),
        used[keep] / scale.divisor,
        color="#756bb1",
        marker="o",
        markersize=3,
        linewidth=1.6,
        label="used after GC",
    )
    if np.isfinite(committed).any():
        keep = m4_indices(t, committed, columns)
        ax.step(
            axis.x(t[keep]),
            committed[keep] / scale.divisor,
            where="post",
            color=COMMITTED_COLOUR,
            linewidth=2.0,
            label="committed",
        )
    ax.set_ylim(0, peak / scale.divisor * 1.15)
    ax.set_ylabel(f"Metaspace ({scale.unit})")
    ax.set_title("Metaspace over time")
    axis.apply(ax)
    legend(ax, loc="lower right")
    return fig
