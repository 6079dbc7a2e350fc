"""Pause charts: every pause over time, and the pause duration distribution per kind."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from gcscope import model
from gcscope.report.charts._base import (
    THRESHOLD_COLOUR,
    format_duration_ms,
    kind_colour,
    kind_order,
    legend,
    new_figure,
    pixel_columns,
    set_log_duration_axis,
)
from gcscope.report.charts.heap import floats, time_axis
from gcscope.report.data import RunView
from gcscope.report.downsample import m4_indices, sorted_curve_indices

# Marked on the distribution chart: (label, fraction, key of the result's pause stats).
MARKED_PERCENTILES = (
    ("p50", 0.50, "p50_ms"),
    ("p90", 0.90, "p90_ms"),
    ("p99", 0.99, "p99_ms"),
    ("p99.9", 0.999, "p999_ms"),
)


def _pauses(run: RunView) -> pl.DataFrame:
    return run.events.filter(
        (pl.col(model.CATEGORY) == model.PAUSE)
        & pl.col(model.DURATION_MS).is_not_null()
        & pl.col(model.UPTIME_S).is_not_null()
    ).with_columns(pl.col(model.KIND).fill_null("other"))


def pauses_chart(run: RunView, *, dpi: int):
    """Each pause as a point (one series per kind) on a log duration axis, with the long-pause
    threshold and the p99. Downsampled per pixel column, but every pause above the threshold
    is drawn."""
    pauses = _pauses(run)
    if pauses.height == 0:
        return "the log has no pauses"
    fig, (ax,) = new_figure(dpi)
    axis = time_axis(run)
    columns = pixel_columns(fig)
    threshold = run.pause_threshold_ms
    t_all = floats(pauses, model.UPTIME_S)
    d_all = floats(pauses, model.DURATION_MS)
    kinds = pauses[model.KIND].to_numpy()
    stats = run.summary.get("pauses") or {}
    by_kind = stats.get("by_kind") or {}
    for kind in kind_order(list(set(kinds.tolist()))):
        mask = kinds == kind
        t, d = t_all[mask], d_all[mask]
        keep = m4_indices(t, d, columns, keep=d > threshold)
        count = (by_kind.get(kind) or {}).get("count", int(mask.sum()))
        ax.scatter(
            axis.x(t[keep]),
            d[keep],
            s=22 if kind in ("young", "other") else 34,
            color=kind_colour(kind),
            label=f"{kind} ({count:,})",
            linewidths=0,
            alpha=0.85,
            zorder=3,
        )
    p99 = stats.get("p99_ms")
    if isinstance(p99, int | float) and p99 > 0:
        ax.axhline(
            p99,
            color="#555555",
            linestyle=":",
            linewidth=2.0,
            label=f"p99 {format_duration_ms(p99)}",
            zorder=2,
        )
    ax.axhline(
        threshold,
        color=THRESHOLD_COLOUR,
        linestyle="--",
        linewidth=2.0,
        label=f"threshold {format_duration_ms(threshold)}",
        zorder=2,
    )
    over = int((d_all > threshold).sum())
    if over:
        ax.text(
            0.99,
            0.98,
            f"{over:,} pause{'s' if over > 1 else ''} above the threshold",
            transform=ax.transAxes,
            ha="right",
            va="top",
            color=THRESHOLD_COLOUR,
            fontsize=15,
            fontweight="bold",
        )
    set_log_duration_axis(ax, d_all, extra=(threshold,))
    ax.set_ylabel("Pause duration")
    ax.set_title("Pauses over time")
    axis.apply(ax)
    legend(ax, markerscale=1.6)
    return fig


def _percentile_x(fraction: np.ndarray | float) -> np.ndarray:
    """Position of a percentile on the axis: -log10(1 - p), so 90 %, 99 %, 99.9 % are equally
    spaced and the tail gets the room it deserves."""
    return -np.log10(1.0 - np.asarray(fraction, dtype=float))


def pause_distribution_chart(run: RunView, *, dpi: int):
    """Pause duration by percentile, one curve per kind, with p50/p90/p99/p99.9 marked on each
    curve and the maximum labelled at its end."""
    pauses = _pauses(run)
    if pauses.height == 0:
        return "the log has no pauses"
    fig, (ax,) = new_figure(dpi)
    columns = pixel_columns(fig)
    stats = (run.summary.get("pauses") or {}).get("by_kind") or {}
    groups = {
        kind: np.sort(frame[model.DURATION_MS].cast(pl.Float64).to_numpy())
        for (kind,), frame in pauses.group_by(model.KIND)
    }
    x_max = 1.0
    markers = ("o", "s", "D", "^")
    for kind in kind_order(list(groups)):
        values = groups[kind]
        n = values.size
        colour = kind_colour(kind)
        # The i-th smallest of n pauses is exceeded by a fraction (n - i - 1) / n of them.
        x = _percentile_x(np.arange(n) / n)
        keep = sorted_curve_indices(x, columns)
        kind_stats = stats.get(kind) or {}
        maximum = kind_stats.get("max_ms") or float(values[-1])
        summary = ", ".join(
            f"{label} {format_duration_ms(kind_stats[key])}"
            for label, _, key in (MARKED_PERCENTILES[0], MARKED_PERCENTILES[2])
            if kind_stats.get(key) is not None
        )
        ax.step(
            x[keep],
            values[keep],
            where="post",
            color=colour,
            linewidth=2.4,
            label=f"{kind} (n={n:,}): {summary + ', ' if summary else ''}"
            f"max {format_duration_ms(maximum)}",
        )
        for (label, fraction, key), marker in zip(MARKED_PERCENTILES, markers, strict=True):
            value = kind_stats.get(key)
            # Only percentiles the sample can resolve: p99.9 of 50 pauses is just the max.
            if value is None or fraction > (n - 1) / n:
                continue
            ax.scatter(
                _percentile_x(fraction),
                value,
                marker=marker,
                s=60,
                color=colour,
                edgecolor="white",
                linewidths=0.8,
                zorder=4,
            )
        x_end = float(x[-1]) if n > 1 else 0.0
        x_max = max(x_max, x_end)
        ax.scatter(
            [x_end],
            [maximum],
            marker="*",
            s=260,
            color=colour,
            edgecolor="black",
            linewidths=0.6,
            zorder=5,
        )
    threshold = run.pause_threshold_ms
    ax.axhline(
        threshold,
        color=THRESHOLD_COLOUR,
        linestyle="--",
        linewidth=1.8,
        label=f"threshold {format_duration_ms(threshold)}",
    )
    ax.text(
        0.99,
        0.02,
        "on each curve:  \u25cf p50   \u25a0 p90   \u25c6 p99   \u25b2 p99.9   \u2605 max",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=14,
        color="#333333",
    )
    ticks = [(0.0, "min")] + [
        (float(_percentile_x(f)), label) for label, f, _ in MARKED_PERCENTILES[1:]
    ]
    ticks += [(float(_percentile_x(0.5)), "p50")]
    decades = math.ceil(x_max + 0.05)
    ticks += [(float(k), f"p{100 - 10 ** (2 - k):g}") for k in range(4, decades + 1)]
    ticks.sort()
    ax.set_xticks([t for t, _ in ticks], [label for _, label in ticks])
    ax.set_xlim(-0.05, max(decades, 1) + 0.35)
    values_all = np.concatenate(list(groups.values()))
    set_log_duration_axis(ax, values_all, extra=(threshold,))
    ax.set_xlabel("Percentile of pauses (log scale of the tail: each step is 10× rarer)")
    ax.set_ylabel("Pause duration")
    ax.set_title("Pause duration distribution")
    legend(ax, outside_over=2)
    return fig
