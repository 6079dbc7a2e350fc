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
    kind_label,
    kind_order,
    legend,
    new_figure,
    off_scale_note,
    pixel_columns,
    set_log_duration_axis,
)
from gcscope.report.charts.heap import event_rows, floats, is_text, time_axis
from gcscope.report.data import RunView
from gcscope.report.downsample import m4_indices

# Marked on the distribution chart: (label, fraction, key of the result's pause stats).
MARKED_PERCENTILES = (
    ("p50", 0.50, "p50_ms"),
    ("p90", 0.90, "p90_ms"),
    ("p99", 0.99, "p99_ms"),
    ("p99.9", 0.999, "p999_ms"),
)


def _pauses(run: RunView) -> pl.DataFrame:
    return event_rows(
        run,
        [model.UPTIME_S, model.DURATION_MS, model.KIND, model.CATEGORY],
        (pl.col(model.CATEGORY) == model.PAUSE)
        & pl.col(model.DURATION_MS).is_not_null()
        & pl.col(model.UPTIME_S).is_not_null(),
    ).with_columns(pl.col(model.KIND).cast(pl.String).fill_null("other"))


# Kinds that are rare and bad news: drawn last, on top of the common ones, and larger.
SEVERE_KINDS = ("full", "degenerated")
DENSE_POINTS = 3000  # a series drawing more points than this is drawn small and translucent


def pauses_chart(run: RunView, *, dpi: int):
    """Each pause as a point (one series per kind) on a log duration axis, with the long-pause
    threshold and the p99. Downsampled per pixel column, but every pause above the threshold
    is drawn. The axis fits the pauses: a threshold far above them is named at the top."""
    pauses = _pauses(run)
    if pauses.height == 0:
        return "the log has no pauses"
    fig, (ax,) = new_figure(dpi)
    axis = time_axis(run)
    columns = pixel_columns(fig)
    threshold = run.pause_threshold_ms
    t_all = floats(pauses, model.UPTIME_S)
    d_all = floats(pauses, model.DURATION_MS)
    stats = run.summary.get("pauses") or {}
    by_kind = stats.get("by_kind") or {}
    drawn = []
    for kind in kind_order(pauses[model.KIND].unique().to_list()):
        mask = is_text(pauses, model.KIND, kind)
        t, d = t_all[mask], d_all[mask]
        keep = m4_indices(t, d, columns, keep=d > threshold)
        count = (by_kind.get(kind) or {}).get("count", int(mask.sum()))
        drawn.append((kind, t[keep], d[keep], count))
    # The most numerous first, the rarest (and full GCs) last: rare points are never buried.
    drawn.sort(key=lambda item: (item[0] in SEVERE_KINDS, -item[2].size))
    handles = {}
    for layer, (kind, t, d, count) in enumerate(drawn):
        dense = d.size > DENSE_POINTS
        severe = kind in SEVERE_KINDS
        handles[kind] = ax.scatter(
            axis.x(t),
            d,
            s=60 if severe else 9 if dense else 22 if kind in ("young", "other") else 30,
            color=kind_colour(kind),
            label=f"{kind_label(kind)} ({count:,})",
            linewidths=0.6 if severe else 0,
            edgecolors="black" if severe else "none",
            alpha=0.45 if dense else 0.9,
            zorder=3 + layer,
        )
    p99 = stats.get("p99_ms")
    has_p99 = isinstance(p99, int | float) and p99 > 0
    _bottom, top = set_log_duration_axis(
        ax, d_all, extra=(threshold,) + ((float(p99),) if has_p99 else ())
    )
    if has_p99:
        ax.axhline(
            p99,
            color="#555555",
            linestyle=":",
            linewidth=2.0,
            label=f"p99 {format_duration_ms(p99)}",
            zorder=2,
        )
    _threshold_line(
        ax, threshold, top, linewidth=2.0, zorder=2,
        longest=f" (longest pause {format_duration_ms(float(np.nanmax(d_all)))})",
    )  # fmt: skip
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
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
            zorder=20,
        )
    ax.set_ylabel("Pause duration")
    ax.set_title("Pauses over time")
    axis.apply(ax)
    # The legend lists kinds in the schema's order whatever order they were drawn in, then
    # the reference lines.
    entries = [handles[kind] for kind in kind_order(list(handles))]
    entries += [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    key = ax.figure.legend(
        entries,
        [entry.get_label() for entry in entries],
        loc="outside lower center",
        ncol=min(4, len(entries)),
        markerscale=1.6,
    )
    for handle in key.legend_handles:  # translucent dense series: opaque in the legend
        handle.set_alpha(1.0)
    return fig


def _percentile_x(fraction: np.ndarray | float) -> np.ndarray:
    """Position of a percentile on the axis: -log10(1 - p), so 90 %, 99 %, 99.9 % are equally
    spaced and the tail gets the room it deserves."""
    return -np.log10(1.0 - np.asarray(fraction, dtype=float))


def _quantile_curve(values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Pause duration at each axis position: the same linear interpolation between the two
    nearest ranks as the result's percentiles (numpy's default), so p50, p90, p99 of the
    result sit exactly on the curve."""
    p = 1.0 - 10.0 ** (-x)
    return np.quantile(values, np.clip(p, 0.0, 1.0))


def pause_distribution_chart(run: RunView, *, dpi: int):
    """Pause duration by percentile, one curve per kind, with p50/p90/p99/p99.9 marked on each
    curve and the maximum at its end. Curves and markers use the same percentile definition
    as the result (linear interpolation between ranks)."""
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
    stars: list[tuple[float, float, str]] = []
    for kind in kind_order(list(groups)):
        values = groups[kind]
        n = values.size
        colour = kind_colour(kind)
        # The curve runs to the (n-1)/n-th percentile, the last one n pauses resolve; the max
        # is the star at its end.
        x_end = float(_percentile_x((n - 1) / n)) if n > 1 else 0.0
        grid = np.linspace(0.0, x_end, max(2 * columns, 2))
        if n <= 2 * columns:  # the vertices of the interpolation, so no step is cut short
            ranks = np.arange(n - 1) / (n - 1) if n > 1 else np.zeros(1)
            grid = np.union1d(grid, _percentile_x(ranks[ranks <= (n - 1) / n]))
        curve = _quantile_curve(values, grid)
        kind_stats = stats.get(kind) or {}
        maximum = kind_stats.get("max_ms") or float(values[-1])
        summary = ", ".join(
            f"{label} {format_duration_ms(kind_stats[key])}"
            for label, _, key in (MARKED_PERCENTILES[0], MARKED_PERCENTILES[2])
            if kind_stats.get(key) is not None
        )
        ax.plot(
            grid,
            curve,
            color=colour,
            linewidth=2.4,
            label=f"{kind_label(kind)} (n={n:,}): {summary + ', ' if summary else ''}"
            f"max {format_duration_ms(maximum)}",
            zorder=3,
        )
        ax.plot([x_end, x_end], [curve[-1], maximum], color=colour, linewidth=2.4, zorder=3)
        for (_label, fraction, _key), marker in zip(MARKED_PERCENTILES, markers, strict=True):
            # Only percentiles the sample can resolve: p99.9 of 50 pauses is just the max.
            if n < 2 or fraction > (n - 1) / n:
                continue
            ax.scatter(
                _percentile_x(fraction),
                float(np.quantile(values, fraction)),
                marker=marker,
                s=64,
                color=colour,
                edgecolor="white",
                linewidths=0.9,
                zorder=5,
            )
        x_max = max(x_max, x_end)
        stars.append((x_end, float(maximum), colour))
    for x_star, y_star, colour, x_curve in _spread_stars(stars):
        if x_star != x_curve:  # moved aside: a thin tie to the top of its curve
            ax.plot([x_curve, x_star], [y_star, y_star], color=colour, linewidth=1.2, zorder=3)
        ax.scatter(
            [x_star],
            [y_star],
            marker="*",
            s=260,
            color=colour,
            edgecolor="black",
            linewidths=0.6,
            zorder=6,
        )
    threshold = run.pause_threshold_ms
    values_all = np.concatenate(list(groups.values()))
    _bottom, top = set_log_duration_axis(ax, values_all, extra=(threshold,))
    _threshold_line(ax, threshold, top, linewidth=1.8)
    ax.text(
        0.99,
        0.02,
        "on each curve:  \u25cf p50   \u25a0 p90   \u25c6 p99   \u25b2 p99.9   \u2605 max",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=14,
        color="#333333",
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
        zorder=7,
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
    ax.set_xlabel("Percentile of pauses (log scale of the tail: each step is 10× rarer)")
    ax.set_ylabel("Pause duration")
    ax.set_title("Pause duration distribution")
    legend(ax, outside_over=2)
    return fig


def _spread_stars(
    stars: list[tuple[float, float, str]], *, dx: float = 0.09, dlog: float = 0.12
) -> list[tuple[float, float, str, float]]:
    """Max stars that would cover each other (kinds of the same count and a similar maximum)
    are moved apart sideways, each by the least that frees it: (x, y, colour, x of its curve)."""
    placed: list[tuple[float, float, str, float]] = []
    for x, y, colour in sorted(stars, key=lambda s: -s[1]):
        shifted = x
        while any(
            abs(shifted - px) < dx and abs(math.log10(y) - math.log10(py)) < dlog
            for px, py, _, _ in placed
            if y > 0 and py > 0
        ):
            shifted += dx
        placed.append((shifted, y, colour, x))
    return placed


def _threshold_line(ax, threshold: float, top: float, *, linewidth: float,
                    zorder: float | None = None, longest: str = "") -> None:
    """The long-pause threshold as a dashed line, or, above the fitted scale, said in words."""
    if threshold <= top:
        ax.axhline(
            threshold,
            color=THRESHOLD_COLOUR,
            linestyle="--",
            linewidth=linewidth,
            label=f"threshold {format_duration_ms(threshold)}",
            **({} if zorder is None else {"zorder": zorder}),
        )
    else:
        off_scale_note(
            ax, f"long-pause threshold {format_duration_ms(threshold)}: above this chart{longest}"
        )
