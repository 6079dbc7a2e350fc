"""Charts of GC activity: allocation/promotion rate and GC overhead per window, concurrent
cycles and allocation stalls, and the pool occupancy of live recordings."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from gcscope import model
from gcscope.analysis.metrics import end_expr
from gcscope.report.charts._base import (
    MB,
    THRESHOLD_COLOUR,
    byte_scale,
    kind_colour,
    kind_label,
    kind_order,
    new_figure,
    no_data_note,
    pixel_columns,
    set_log_duration_axis,
)
from gcscope.report.charts.heap import event_rows, floats, is_text, time_axis
from gcscope.report.data import RunView
from gcscope.report.downsample import m4_indices

# Window lengths a reader recognises; the chart takes the first giving at most ~120 windows.
NICE_WINDOWS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)
TARGET_WINDOWS = 120
DEFAULT_OVERHEAD_PCT = 10.0  # the field's "GC takes more than 10 % of the time" (rule GCS006)


def window_s_for(span_s: float) -> float:
    for window in NICE_WINDOWS_S:
        if span_s / window <= TARGET_WINDOWS:
            return float(window)
    return float(NICE_WINDOWS_S[-1] * math.ceil(span_s / TARGET_WINDOWS / NICE_WINDOWS_S[-1]))


def _window_sums(t: np.ndarray, w: np.ndarray, t0: float, window: float, n: int) -> np.ndarray:
    ok = np.isfinite(t) & np.isfinite(w)
    index = np.clip(((t[ok] - t0) // window).astype(np.int64), 0, n - 1)
    return np.bincount(index, weights=w[ok], minlength=n)


def rates_chart(run: RunView, *, dpi: int):
    """Allocation and promotion rate (MB/s) and GC overhead (% of wall time in pauses) per
    window. Allocation in the gap before collection n is heap_before(n) - heap_after(n-1),
    promotion is old-gen growth across a young pause: the definitions of the run's
    `allocation_rate_mb_s` and `promotion_rate_mb_s`, spread over time."""
    timed = pl.col(model.UPTIME_S).is_not_null()
    pauses = event_rows(
        run,
        [model.UPTIME_S, model.DURATION_MS],
        timed & (pl.col(model.CATEGORY) == model.PAUSE) & pl.col(model.DURATION_MS).is_not_null(),
    )
    gcs = event_rows(
        run,
        [model.UPTIME_S, model.KIND, model.HEAP_BEFORE_BYTES, model.HEAP_AFTER_BYTES,
         model.OLD_BEFORE_BYTES, model.OLD_AFTER_BYTES],
        timed & pl.col(model.HEAP_BEFORE_BYTES).is_not_null() & pl.col(model.HEAP_AFTER_BYTES).is_not_null(),
    )
    if pauses.height == 0 and gcs.height < 2:
        return "the log has neither pauses nor heap figures"
    first_s, last_end_s = (
        run.events.lazy().filter(timed)
        .select(pl.col(model.UPTIME_S).min().alias("first_s"), end_expr().max().alias("last_end_s"))
        .collect().row(0)
    )
    start = _first(run.summary.get("start_uptime_s"), float(first_s))
    end = _first(run.summary.get("end_uptime_s"), float(last_end_s))
    span = max(end - start, 1e-3)
    window = window_s_for(span)
    n = max(math.ceil(span / window), 1)
    # The last window may be partial: rates divide by the time it really covers. A stub of
    # less than half a window would show a rate from a few events (or none); it joins the
    # window before it (events past the last window are counted in it, see _window_sums).
    if n > 1 and span - window * (n - 1) < window / 2:
        n -= 1
    lengths = np.full(n, window)
    lengths[-1] = span - window * (n - 1)
    left = start + window * np.arange(n)
    centre = left + lengths / 2

    overhead_line = run.rule_threshold("GCS006", "gc_time_pct", DEFAULT_OVERHEAD_PCT)
    fig, (ax_alloc, ax_promo, ax_gc) = new_figure(dpi, rows=3, height_ratios=[2, 2, 2])
    axis = time_axis(run)
    edges = axis.x(np.r_[left, start + span])

    def steps(ax, values: np.ndarray, colour: str) -> None:
        # A step per window, the last one drawn to the end of the run.
        ax.stairs(values, edges, color=colour, linewidth=2.2, baseline=None)
        ax.set_ylim(0, max(float(np.nanmax(values)) * 1.15, 1e-3))

    promo = None
    if gcs.height >= 2:
        t = floats(gcs, model.UPTIME_S)
        before = floats(gcs, model.HEAP_BEFORE_BYTES)
        after = floats(gcs, model.HEAP_AFTER_BYTES)
        allocated = np.clip(before[1:] - after[:-1], 0, None)
        steps(ax_alloc, _window_sums(t[1:], allocated, start, window, n) / lengths / MB, "#3182bd")
        old_before = floats(gcs, model.OLD_BEFORE_BYTES)[1:]
        old_after = floats(gcs, model.OLD_AFTER_BYTES)[1:]
        young = is_text(gcs, model.KIND, "young")[1:]
        promoted = np.where(young, np.clip(old_after - old_before, 0, None), np.nan)
        if np.isfinite(promoted).any():
            promo = _window_sums(t[1:], promoted, start, window, n) / lengths / MB
            steps(ax_promo, promo, "#e6550d")
    else:
        no_data_note(ax_alloc, "no heap before/after figures: allocation rate unknown")
    if promo is None:
        no_data_note(ax_promo, "no Old Gen figures around young pauses: promotion unknown")
    ax_alloc.set_ylabel("Allocation\n(MB/s)")
    ax_promo.set_ylabel("Promotion\n(MB/s)")
    ax_alloc.set_title(
        f"Allocation rate, promotion rate and GC overhead, per {window_label(window)}"
    )

    if pauses.height:
        paused_s = _window_sums(
            floats(pauses, model.UPTIME_S),
            floats(pauses, model.DURATION_MS) / 1e3,
            start,
            window,
            n,
        )
        overhead = np.minimum(100.0 * paused_s / lengths, 100.0)
        colours = np.where(overhead > overhead_line, THRESHOLD_COLOUR, "#756bb1")
        width = (axis.x(left + lengths) - axis.x(left)) * 0.9
        ax_gc.bar(axis.x(centre), overhead, width=width, color=colours)
        ax_gc.axhline(overhead_line, color=THRESHOLD_COLOUR, linestyle="--", linewidth=1.6)
        top = max(overhead_line * 1.3, float(overhead.max()) * 1.15)
        ax_gc.set_ylim(0, top)
        ax_gc.annotate(
            f"{overhead_line:g} %",
            xy=(1.0, overhead_line),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 4),
            textcoords="offset points",
            ha="right",
            va="bottom",
            color=THRESHOLD_COLOUR,
            fontsize=13,
            zorder=5,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
        )
    else:
        no_data_note(ax_gc, "no pauses")
    ax_gc.set_ylabel("GC overhead\n(% of time)")
    axis.apply(ax_gc)
    return fig


def window_label(window_s: float) -> str:
    if window_s < 60:
        return f"{window_s:g} s"
    if window_s < 3600:
        return f"{window_s / 60:g} min"
    return f"{window_s / 3600:g} h"


def _first(value, fallback: float) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else fallback


def concurrent_chart(run: RunView, *, dpi: int):
    """Concurrent cycle durations per kind and allocation stalls (ZGC, Shenandoah, G1 marking).
    One legend below the chart, for both panels: the data may be anywhere."""
    events = event_rows(
        run,
        [model.UPTIME_S, model.DURATION_MS, model.CATEGORY, model.KIND],
        pl.col(model.UPTIME_S).is_not_null() & pl.col(model.DURATION_MS).is_not_null(),
    )
    cycles = events.filter(pl.col(model.CATEGORY) == model.CONCURRENT)
    stalls = events.filter(pl.col(model.CATEGORY) == model.STALL)
    if cycles.height == 0 and stalls.height == 0:
        return "the log has no concurrent cycles or allocation stalls"
    if stalls.height:
        fig, (ax_cycle, ax_stall) = new_figure(dpi, rows=2, height_ratios=[3, 2])
    else:
        fig, (ax_cycle,) = new_figure(dpi)
        ax_stall = None
    axis = time_axis(run)
    columns = pixel_columns(fig)
    if cycles.height:
        t_all = floats(cycles, model.UPTIME_S)
        d_all = floats(cycles, model.DURATION_MS)
        kinds = cycles[model.KIND].cast(pl.String).fill_null("cycle").unique().to_list()
        for kind in kind_order(kinds):
            mask = is_text(cycles, model.KIND, kind, null_as="cycle")
            keep = m4_indices(t_all[mask], d_all[mask], columns)
            # Few cycles read best joined (a trend); many would weave a solid ribbon.
            joined = keep.size <= 200
            ax_cycle.plot(
                axis.x(t_all[mask][keep]),
                d_all[mask][keep],
                marker="o",
                markersize=5 if joined else 3,
                linewidth=1.2 if joined else 0,
                alpha=1.0 if joined else 0.8,
                color=kind_colour(kind, model.CONCURRENT),
                label=f"{kind_label(kind, model.CONCURRENT)} ({int(mask.sum()):,})",
            )
        set_log_duration_axis(ax_cycle, d_all)
    else:
        no_data_note(ax_cycle, "no concurrent cycles in this log")
    ax_cycle.set_ylabel("Cycle duration")
    if ax_stall is None:
        ax_cycle.set_title("Concurrent cycles (no allocation stalls in this log)")
        axis.apply(ax_cycle)
        _legend_below(fig, [ax_cycle])
        return fig
    ax_cycle.set_title("Concurrent cycles and allocation stalls")
    t = floats(stalls, model.UPTIME_S)
    d = floats(stalls, model.DURATION_MS)
    # Every stall is an incident: none is dropped by the downsampling.
    keep = m4_indices(t, d, columns, keep=np.ones(d.size, dtype=bool))
    ax_stall.scatter(
        axis.x(t[keep]),
        d[keep],
        s=40,
        color=THRESHOLD_COLOUR,
        label=f"allocation stalls ({stalls.height:,})",
        linewidths=0,
    )
    set_log_duration_axis(ax_stall, d)
    ax_stall.set_ylabel("Stall duration")
    axis.apply(ax_stall)
    _legend_below(fig, [ax_cycle, ax_stall])
    return fig


def _legend_below(fig, axes) -> None:
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.append(handle)
            labels.append(label)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(handles)))


# Pools drawn by the live chart, in this order; the others (code cache…) are left out.
POOL_PANELS = ("eden", "survivor", "young", "old", "heap", "metaspace")


def pools_chart(run: RunView, *, dpi: int):
    """Live recordings: used, committed and max of each memory pool over time."""
    samples = run.samples
    if samples is None or samples.height == 0:
        return None  # a log, not a live recording: the chart does not apply
    samples = samples.filter(pl.col(model.UPTIME_S).is_not_null())
    present = set(samples[model.POOL_CATEGORY].drop_nulls().to_list())
    panels = [c for c in POOL_PANELS if c in present]
    if not panels:
        return "the samples have no heap or metaspace pools"
    rows = math.ceil(len(panels) / 2)
    fig, _ = new_figure(dpi, rows=1)
    fig.clear()
    axes = fig.subplots(rows, 2 if len(panels) > 1 else 1, sharex=True, squeeze=False).ravel()
    axis = time_axis(run)
    columns = pixel_columns(fig) // 2
    for ax, category in zip(axes, panels, strict=False):
        rows_c = samples.filter(pl.col(model.POOL_CATEGORY) == category)
        t = floats(rows_c, model.UPTIME_S)
        used = floats(rows_c, model.USED_BYTES)
        committed = floats(rows_c, model.COMMITTED_BYTES)
        maximum = floats(rows_c, model.MAX_BYTES)
        scale = byte_scale(np.nanmax(np.r_[used, committed, np.nan_to_num(maximum)]))
        keep = m4_indices(t, used, columns)
        ax.plot(axis.x(t[keep]), used[keep] / scale.divisor, color="#3182bd", label="used")
        keep = m4_indices(t, committed, columns)
        ax.step(
            axis.x(t[keep]),
            committed[keep] / scale.divisor,
            where="post",
            color="#31a354",
            linestyle="--",
            label="committed",
        )
        if np.isfinite(maximum).any():
            ax.axhline(
                np.nanmax(maximum) / scale.divisor, color="#444444", linestyle=":", label="max"
            )
        pools = ", ".join(sorted(set(rows_c[model.POOL].drop_nulls().to_list())))
        ax.set_title(f"{category.capitalize()}: {pools}", fontsize=15)
        ax.set_ylabel(scale.unit)
        ax.set_ylim(
            0, np.nanmax(np.r_[used, committed, np.nan_to_num(maximum)]) / scale.divisor * 1.12
        )
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[-2:]:
        axis.apply(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1 : len(panels)]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels))
    fig.suptitle(
        "Memory pools over time (live samples)", fontsize=19, fontweight="bold", x=0.01, ha="left"
    )
    return fig
