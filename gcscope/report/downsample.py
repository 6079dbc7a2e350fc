"""Downsampling per pixel column, so a million events plot in a fraction of a second.

A chart cannot show more than one value range per pixel column. For each column we keep the
first, last, lowest and highest point (the "M4" reduction): lines and scatter plots drawn from
the kept points look the same as from all points, and extremes are never lost. Callers add
points that must survive whatever their neighbours (every pause above the threshold).
"""

from __future__ import annotations

import numpy as np


def m4_indices(
    x: np.ndarray,
    y: np.ndarray,
    columns: int,
    *,
    x_range: tuple[float, float] | None = None,
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """Indices (ascending) of the points to draw: per pixel column of the x range, the first,
    last, minimum and maximum point; plus every index where `keep` is true.

    `x` need not be sorted; NaN in `x` or `y` is dropped. With no more points than four per
    column, every finite point is kept.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if finite.size <= 4 * max(columns, 1):
        chosen = finite
    else:
        xs, ys = x[finite], y[finite]
        lo, hi = x_range if x_range is not None else (float(xs.min()), float(xs.max()))
        width = hi - lo if hi > lo else 1.0
        bins = np.clip(((xs - lo) / width * columns).astype(np.int64), 0, columns - 1)
        picks = []
        for key in (xs, ys):
            # Sorted by (bin, key): the first of each bin has the smallest key, the last the
            # largest. Stable, so ties keep their original order.
            order = np.lexsort((key, bins))
            sorted_bins = bins[order]
            starts = np.flatnonzero(np.r_[True, sorted_bins[1:] != sorted_bins[:-1]])
            ends = np.r_[starts[1:] - 1, sorted_bins.size - 1]
            picks.append(order[starts])
            picks.append(order[ends])
        chosen = finite[np.unique(np.concatenate(picks))]
    if keep is not None:
        extra = np.flatnonzero(np.asarray(keep, dtype=bool) & np.isfinite(x) & np.isfinite(y))
        chosen = np.union1d(chosen, extra)
    return chosen


def sorted_curve_indices(x: np.ndarray, columns: int) -> np.ndarray:
    """For a curve whose `x` is already sorted ascending (an ECDF, a percentile curve): per
    pixel column the first and last point, which together carry the whole vertical extent."""
    x = np.asarray(x, dtype=float)
    n = x.size
    if n <= 2 * max(columns, 1):
        return np.arange(n)
    lo, hi = float(x[0]), float(x[-1])
    width = hi - lo if hi > lo else 1.0
    bins = np.clip(((x - lo) / width * columns).astype(np.int64), 0, columns - 1)
    starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
    ends = np.r_[starts[1:] - 1, n - 1]
    return np.unique(np.concatenate([starts, ends]))


def column_envelope(
    x: np.ndarray, y: np.ndarray, columns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel column with data: its centre, the lowest and the highest `y`. A series too
    dense to show its single strokes (a sawtooth of thousands of GCs) is drawn as this band:
    the same pixels, at a fraction of the cost of stroking every tooth."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        return np.empty(0), np.empty(0), np.empty(0)
    lo_x, hi_x = float(x.min()), float(x.max())
    width = hi_x - lo_x if hi_x > lo_x else 1.0
    bins = np.clip(((x - lo_x) / width * columns).astype(np.int64), 0, columns - 1)
    order = np.argsort(bins, kind="stable")
    sorted_bins = bins[order]
    starts = np.flatnonzero(np.r_[True, sorted_bins[1:] != sorted_bins[:-1]])
    ys = y[order]
    centres = lo_x + (sorted_bins[starts] + 0.5) * width / columns
    return centres, np.minimum.reduceat(ys, starts), np.maximum.reduceat(ys, starts)


def polyline_envelope(
    x: np.ndarray, y: np.ndarray, columns: int, *, x_range: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel column that the line through the points (in order) crosses: its centre, and
    the lowest and highest `y` of the line within the column.

    Unlike `column_envelope`, which sees the points only, a segment that crosses columns
    without a point in them (the climb of the heap between two GCs) fills each with the part
    of the segment inside it, so a dense sawtooth drawn as this band has no holes. A segment
    with a NaN end is a gap.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return np.empty(0), np.empty(0), np.empty(0)
    lo_x, hi_x = (
        x_range if x_range is not None else (float(x[finite].min()), float(x[finite].max()))
    )
    width = (hi_x - lo_x) / columns if hi_x > lo_x else 1.0 / columns
    x0, x1, y0, y1 = x[:-1], x[1:], y[:-1], y[1:]
    ok = finite[:-1] & finite[1:]
    swap = x1 < x0  # an event that began before the previous one ended: draw it all the same
    x0, x1 = np.where(swap, x1, x0)[ok], np.where(swap, x0, x1)[ok]
    y0, y1 = np.where(swap, y1, y0)[ok], np.where(swap, y0, y1)[ok]
    # Lone points (no segment): a series of one point, or points between NaN gaps.
    alone = finite & ~np.r_[ok, False] & ~np.r_[False, ok]
    x0, x1 = np.r_[x0, x[alone]], np.r_[x1, x[alone]]
    y0, y1 = np.r_[y0, y[alone]], np.r_[y1, y[alone]]
    c0 = np.clip(((x0 - lo_x) / width).astype(np.int64), 0, columns - 1)
    c1 = np.clip(((x1 - lo_x) / width).astype(np.int64), 0, columns - 1)
    spans = c1 - c0 + 1
    seg = np.repeat(np.arange(spans.size), spans)
    column = c0[seg] + (np.arange(seg.size) - np.repeat(np.cumsum(spans) - spans, spans))
    left = np.maximum(x0[seg], lo_x + column * width)
    right = np.minimum(x1[seg], lo_x + (column + 1) * width)
    dx = x1[seg] - x0[seg]
    slope = np.divide(y1[seg] - y0[seg], dx, out=np.zeros_like(dx), where=dx > 0)
    ya = np.where(dx > 0, y0[seg] + slope * (left - x0[seg]), y0[seg])
    yb = np.where(dx > 0, y0[seg] + slope * (right - x0[seg]), y1[seg])
    low = np.full(columns, np.inf)
    high = np.full(columns, -np.inf)
    np.minimum.at(low, column, np.minimum(ya, yb))
    np.maximum.at(high, column, np.maximum(ya, yb))
    used = np.isfinite(low)
    centres = lo_x + (np.flatnonzero(used) + 0.5) * width
    return centres, low[used], high[used]
