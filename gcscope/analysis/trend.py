"""Robust trend fitting for the post-GC baseline: slope, acceleration and steps.

Pure functions on 1-D numeric arrays (numpy, or anything `np.asarray` accepts, such as a polars
Series). Nothing here knows about GC: `gcscope.analysis.leak` decides what the series mean.

Why these methods: a GC floor is noisy (a collection that ran just after a burst of allocation
leaves more behind) and has outliers (a full GC forced by System.gc() in the middle of a burst).
Least squares follows outliers; Theil–Sen (the median of all pairwise slopes) ignores up to ~29 %
of them and comes with a distribution-free confidence interval and the Mann–Kendall test, so a
verdict can say how sure it is. Huber regression is used where a model has more than one
coefficient (the quadratic term that measures acceleration).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

# Two-sided 95 % normal quantile; the confidence level is fixed so results are comparable.
_Z95 = 1.959963984540054
# Pairwise methods are O(n²): above this many points the series is thinned evenly first.
MAX_PAIRWISE_POINTS = 1500
# MAD → standard deviation of a normal distribution.
_MAD_TO_SIGMA = 1.482602218505602


def _as_float_arrays(x, y) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x and y differ in length: {xa.size} != {ya.size}")
    keep = np.isfinite(xa) & np.isfinite(ya)
    return xa[keep], ya[keep]


def _thin(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    if x.size <= limit:
        return x, y
    idx = np.unique(np.linspace(0, x.size - 1, limit).round().astype(int))
    return x[idx], y[idx]


def _tie_term(values: np.ndarray) -> float:
    _, counts = np.unique(values, return_counts=True)
    counts = counts[counts > 1].astype(float)
    return float(np.sum(counts * (counts - 1) * (2 * counts + 5)))


def robust_sigma(values) -> float:
    """Standard deviation estimated from the median absolute deviation (outlier-proof)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0
    return float(_MAD_TO_SIGMA * np.median(np.abs(v - np.median(v))))


@dataclass(frozen=True)
class TrendFit:
    """A robust straight line through a series, with how much to trust it."""

    slope: float  # y units per x unit (median of pairwise slopes)
    intercept: float  # y at x = 0
    slope_low: float  # 95 % confidence interval of the slope (Sen's method)
    slope_high: float
    tau: float  # Kendall's rank correlation of y with x, -1..1
    p_value: float  # two-sided Mann–Kendall test of "no monotonic trend"
    r2: float  # share of the variance of y the line explains (can be < 0 for a bad line)
    n: int  # points used

    def predict(self, x) -> np.ndarray:
        return self.intercept + self.slope * np.asarray(x, dtype=float)

    @property
    def rising(self) -> bool:
        """The whole 95 % interval of the slope is above zero."""
        return self.slope_low > 0


def theil_sen(x, y, *, max_points: int = MAX_PAIRWISE_POINTS) -> TrendFit:
    """Theil–Sen line with Sen's 95 % slope interval, Kendall's tau and the Mann–Kendall p-value.

    Needs at least two distinct x values. Series longer than `max_points` are thinned evenly
    (keeping first and last), which keeps the cost bounded at ~1 M pairs.
    """
    xa, ya = _as_float_arrays(x, y)
    n_all = xa.size
    order = np.argsort(xa, kind="stable")
    xa, ya = _thin(xa[order], ya[order], max_points)
    n = xa.size
    if n < 2 or xa[0] == xa[-1]:
        raise ValueError("a trend needs at least two points at different x")
    i, j = np.triu_indices(n, k=1)
    dx = xa[j] - xa[i]
    dy = ya[j] - ya[i]
    distinct = dx != 0
    slopes = dy[distinct] / dx[distinct]
    n_pairs = slopes.size
    # Mann–Kendall S over x-ordered pairs, variance corrected for ties in y (and x).
    s = float(np.sum(np.sign(dy[distinct])))
    var_s = (n * (n - 1) * (2 * n + 5) - _tie_term(ya) - _tie_term(xa)) / 18.0
    c = _Z95 * math.sqrt(var_s) if var_s > 0 else 0.0
    lo = min(max(math.floor((n_pairs - c) / 2.0), 0), n_pairs - 1)
    hi = min(max(math.ceil((n_pairs + c) / 2.0), 0), n_pairs - 1)
    # Only these order statistics are read: one selection (O(n)) instead of sorting ~1 M slopes.
    middle = sorted({(n_pairs - 1) // 2, n_pairs // 2})
    picked = np.partition(slopes, sorted({lo, hi, *middle}))
    slope = float(np.mean(picked[middle]))  # the median
    intercept = float(np.median(ya - slope * xa))
    if var_s > 0:
        z = (s - math.copysign(1.0, s)) / math.sqrt(var_s) if s != 0 else 0.0
        p_value = math.erfc(abs(z) / math.sqrt(2.0))
        slope_low = float(picked[lo])
        slope_high = float(picked[hi])
    else:  # every y equal: no trend, exactly
        p_value, slope_low, slope_high = 1.0, slope, slope
    tau = s / n_pairs if n_pairs else 0.0

    resid = ya - (intercept + slope * xa)
    ss_tot = float(np.sum((ya - ya.mean()) ** 2))
    ss_res = float(np.sum(resid**2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else 0.0)
    return TrendFit(slope, intercept, slope_low, slope_high, tau, p_value, r2, n_all)


def huber_fit(
    design: np.ndarray, y, *, delta: float = 1.345, max_iter: int = 100
) -> tuple[np.ndarray, float]:
    """Huber M-estimate of `y ≈ design @ beta` by iteratively reweighted least squares.

    Returns (beta, scale): scale is the robust residual standard deviation (MAD-based), re-
    estimated at each step; residuals beyond `delta` scales get weight delta·scale/|r|.
    """
    a = np.asarray(design, dtype=float)
    ya = np.asarray(y, dtype=float)
    beta, *_ = np.linalg.lstsq(a, ya, rcond=None)
    scale = 0.0
    for _ in range(max_iter):
        resid = ya - a @ beta
        scale = robust_sigma(resid)
        if scale == 0:
            break
        u = np.abs(resid) / (delta * scale)
        w = np.where(u <= 1, 1.0, 1.0 / np.maximum(u, 1e-12))
        sw = np.sqrt(w)
        new, *_ = np.linalg.lstsq(a * sw[:, None], ya * sw, rcond=None)
        if np.allclose(new, beta, rtol=1e-10, atol=1e-12):
            beta = new
            break
        beta = new
    return beta, scale


@dataclass(frozen=True)
class Acceleration:
    """How the slope of a series changes from its first half to its second half."""

    slope_first: float
    slope_second: float
    ratio: float | None  # slope_second / slope_first when the first half rises, else None
    curvature: float  # robust quadratic coefficient (Huber), y per x², on centred x
    accelerating: bool


def acceleration(x, y, *, min_ratio: float = 2.0, min_points: int = 6) -> Acceleration:
    """Detect a hockey stick: a floor that rises faster and faster.

    Accelerating means: the second half rises (its 95 % interval is above zero), rises more than
    `min_ratio` times as fast as the first half, faster than the first half's 95 % interval allows
    by chance, and a robust quadratic fit bends upwards.
    """
    xa, ya = _as_float_arrays(x, y)
    order = np.argsort(xa, kind="stable")
    xa, ya = xa[order], ya[order]
    if xa.size < min_points or xa[0] == xa[-1]:
        return Acceleration(math.nan, math.nan, None, math.nan, False)
    half = xa.size // 2
    # The halves share the middle point so that each has at least three points.
    first = theil_sen(xa[: half + 1], ya[: half + 1])
    second = theil_sen(xa[half:], ya[half:])
    xc = (xa - xa.mean()) / (xa.max() - xa.min())
    beta, _ = huber_fit(np.column_stack([np.ones_like(xc), xc, xc**2]), ya)
    span = xa.max() - xa.min()
    curvature = float(beta[2]) / span**2
    ratio = second.slope / first.slope if first.slope > 0 else None
    accelerating = (
        second.rising
        and second.slope > first.slope_high
        and (first.slope <= 0 or second.slope >= min_ratio * first.slope)
        and curvature > 0
    )
    return Acceleration(first.slope, second.slope, ratio, curvature, bool(accelerating))


@dataclass(frozen=True)
class Segment:
    """A run of consecutive points at one level: indices [start, end) of the sorted series."""

    start: int
    end: int
    level: float  # median of the segment


def noise_sigma(y) -> float:
    """Point-to-point noise of a series, blind to trends and to a few jumps.

    Uses the MAD of first differences around their median: a linear trend shifts every
    difference equally and a step changes only one, so neither inflates the estimate.
    """
    ya = np.asarray(y, dtype=float)
    if ya.size < 3:
        return 0.0
    return robust_sigma(np.diff(ya)) / math.sqrt(2.0)


def level_segments(
    y, *, min_len: int = 3, jump_sigmas: float = 4.0, min_jump: float = 0.0
) -> list[Segment]:
    """Split a series into level segments by binary segmentation.

    A split is kept where the medians on either side differ by more than `jump_sigmas` times
    the point noise (and more than `min_jump`), and both sides have `min_len` points or more.
    """
    ya = np.asarray(y, dtype=float)
    n = ya.size
    if n == 0:
        return []
    span = float(np.ptp(ya)) if n else 0.0
    threshold = max(jump_sigmas * noise_sigma(ya), min_jump, 1e-9 * span)
    cuts: list[int] = []

    def split(a: int, b: int) -> None:
        if b - a < 2 * min_len:
            return
        seg = ya[a:b]
        csum = np.cumsum(seg)
        total = csum[-1]
        m = b - a
        ks = np.arange(min_len, m - min_len + 1)
        left = csum[ks - 1] / ks
        right = (total - csum[ks - 1]) / (m - ks)
        gain = ks * (m - ks) / m * (left - right) ** 2
        k = int(ks[int(np.argmax(gain))])
        jump = float(np.median(seg[k:]) - np.median(seg[:k]))
        if abs(jump) <= threshold:
            return
        cuts.append(a + k)
        split(a, a + k)
        split(a + k, b)

    split(0, n)
    bounds = [0, *sorted(cuts), n]
    return [Segment(s, e, float(np.median(ya[s:e]))) for s, e in itertools.pairwise(bounds)]


def is_staircase(
    x, y, segments: list[Segment], *, max_drift_share: float = 0.25, min_steps: int = 1
) -> bool:
    """True when the series climbs in steps and holds each level.

    Needs at least `min_steps` upward jumps, no downward one, and the rise within segments
    (each segment's own Theil–Sen slope times its duration) below `max_drift_share` of the total
    rise: a straight ramp cut into pieces fails this, since its rise happens inside the pieces.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if len(segments) < min_steps + 1:
        return False
    levels = np.array([s.level for s in segments])
    jumps = np.diff(levels)
    if np.any(jumps <= 0):
        return False
    total_rise = levels[-1] - levels[0]
    drift = 0.0
    for seg in segments:
        if seg.end - seg.start >= 3 and xa[seg.end - 1] > xa[seg.start]:
            fit = theil_sen(xa[seg.start : seg.end], ya[seg.start : seg.end])
            drift += abs(fit.slope) * (xa[seg.end - 1] - xa[seg.start])
    return bool(drift <= max_drift_share * total_rise)


def lower_envelope(x, y, *, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """The lowest point of each of `bins` equal-width x intervals (empty intervals skipped).

    The troughs of a sawtooth: with heap-after-GC values this approximates the live set when
    no collection that reclaims the old generation is available.
    """
    xa, ya = _as_float_arrays(x, y)
    if xa.size == 0:
        return xa, ya
    lo, hi = float(xa.min()), float(xa.max())
    if hi == lo or bins <= 1:
        k = int(np.argmin(ya))
        return xa[k : k + 1], ya[k : k + 1]
    edges = np.minimum(((xa - lo) / (hi - lo) * bins).astype(int), bins - 1)
    order = np.lexsort((ya, edges))  # by bin, then by y: first of each bin is its minimum
    first = np.ones(order.size, dtype=bool)
    first[1:] = edges[order][1:] != edges[order][:-1]
    pick = np.sort(order[first])
    return xa[pick], ya[pick]
