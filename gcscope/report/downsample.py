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
        order, starts = _groups(bins, columns)
        picks = []
        for key in (xs, ys):
            # Per bin, the first index holding its smallest key and the last holding its
            # largest (ties: the earliest minimum, the latest maximum).
            sorted_key = key[order]
            picks.append(
                order[_first_where(sorted_key, np.minimum.reduceat(sorted_key, starts), starts)]
            )
            picks.append(
                order[_last_where(sorted_key, np.maximum.reduceat(sorted_key, starts), starts)]
            )
        chosen = finite[np.unique(np.concatenate(picks))]
    if keep is not None:
        extra = np.flatnonzero(np.asarray(keep, dtype=bool) & np.isfinite(x) & np.isfinite(y))
        chosen = np.union1d(chosen, extra)
    return chosen


def _groups(bins: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """A stable order grouping equal bins, and where each group starts in it. Bins fit in 16
    bits for any chart width, where numpy's stable sort is a linear radix sort."""
    small = bins.astype(np.int16) if columns < 32768 else bins
    order = np.argsort(small, kind="stable")
    sorted_bins = small[order]
    starts = np.flatnonzero(np.r_[True, sorted_bins[1:] != sorted_bins[:-1]])
    return order, starts


def _first_where(values: np.ndarray, group_values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per group (of sorted `values` starting at `starts`), the first position equal to its
    group's value."""
    counts = np.diff(np.r_[starts, values.size])
    hits = np.flatnonzero(values == np.repeat(group_values, counts))
    group = np.searchsorted(starts, hits, side="right") - 1
    return hits[np.r_[True, group[1:] != group[:-1]]]


def _last_where(values: np.ndarray, group_values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    counts = np.diff(np.r_[starts, values.size])
    hits = np.flatnonzero(values == np.repeat(group_values, counts))
    group = np.searchsorted(starts, hits, side="right") - 1
    return hits[np.r_[group[1:] != group[:-1], True]]


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


# Points reduced at once by polyline_envelope: its temporaries take ~50 bytes a point, so a
# 2 GB log's sawtooth (4.2 M points) reduced whole held ~200 MB beside the event table.
ENVELOPE_SLICE_POINTS = 1 << 20


def polyline_envelope(
    x: np.ndarray, y: np.ndarray, columns: int, *, x_range: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel column that the line through the points (in order) crosses: its centre, and
    the lowest and highest `y` of the line within the column.

    Unlike `column_envelope`, which sees the points only, a segment that crosses columns
    without a point in them (the climb of the heap between two GCs) fills each with the part
    of the segment inside it, so a dense sawtooth drawn as this band has no holes. Within a
    column a segment is straight, so its extremes there are its points and the values where
    it crosses the column's edges: those are all that is reduced. A segment with a NaN end
    is a gap. Long lines are reduced in slices of ENVELOPE_SLICE_POINTS that share their end
    points (so every segment is in one slice), and the slices' extremes merged per column.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return np.empty(0), np.empty(0), np.empty(0)
    if x_range is not None:
        lo_x, hi_x = x_range
    else:
        lo_x, hi_x = float(x[finite].min()), float(x[finite].max())
    del finite
    width = (hi_x - lo_x) / columns if hi_x > lo_x else 1.0 / columns
    low = np.full(columns, np.inf)
    high = np.full(columns, -np.inf)
    for first in range(0, max(x.size - 1, 1), ENVELOPE_SLICE_POINTS):
        part = slice(first, first + ENVELOPE_SLICE_POINTS + 1)
        used, part_low, part_high = _envelope_part(x[part], y[part], lo_x, width, columns)
        np.minimum.at(low, used, part_low)
        np.maximum.at(high, used, part_high)
    used = np.flatnonzero(np.isfinite(low))
    return lo_x + (used + 0.5) * width, low[used], high[used]


def _envelope_part(
    x: np.ndarray, y: np.ndarray, lo_x: float, width: float, columns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """polyline_envelope of one slice of the line, on the whole line's columns: the columns
    it touches, and its lowest and highest `y` in each."""
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)

    def column_of(values: np.ndarray) -> np.ndarray:
        return np.clip(((values - lo_x) / width).astype(np.int64), 0, columns - 1)

    col = column_of(np.where(finite, x, lo_x))
    # Segments between finite neighbours that cross one or more column edges.
    ok = finite[:-1] & finite[1:]
    c0, c1 = col[:-1], col[1:]
    crossing = np.flatnonzero(ok & (c0 != c1))
    left_col = np.minimum(c0[crossing], c1[crossing])
    edges = np.abs(c1[crossing] - c0[crossing])
    seg = np.repeat(crossing, edges)
    edge_col = (
        np.repeat(left_col, edges)
        + 1
        + (np.arange(seg.size) - np.repeat(np.cumsum(edges) - edges, edges))
    )
    x_edge = lo_x + edge_col * width
    x0, x1, y0, y1 = x[seg], x[seg + 1], y[seg], y[seg + 1]
    y_edge = y0 + (y1 - y0) * (x_edge - x0) / (x1 - x0)
    # Each edge value belongs to the columns on both sides of the edge.
    columns_all = np.concatenate([col[finite], edge_col - 1, edge_col])
    values = np.concatenate([y[finite], y_edge, y_edge])
    order, starts = _groups(columns_all, columns)
    sorted_values = values[order]
    return (
        columns_all[order][starts],
        np.minimum.reduceat(sorted_values, starts),
        np.maximum.reduceat(sorted_values, starts),
    )
