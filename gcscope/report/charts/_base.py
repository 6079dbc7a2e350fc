"""What every chart shares: the figure, the style, the time axis, units and colours.

Figures are made with `matplotlib.figure.Figure` and drawn by the Agg canvas directly; pyplot
is never imported, so no global backend or figure registry is touched.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gcscope import model

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FIG_WIDTH_IN = 16.0
FIG_HEIGHT_IN = 9.0
DEFAULT_DPI = 100  # 16 x 9 inches at 100 dpi = 1600 x 900 pixels

MB = 1 << 20  # the JVM's "M" is 2**20 bytes; charts label it MB as the logs do
GB = 1 << 30

# Sized for a 1600 x 900 image shown at about half size in the HTML report.
STYLE = {
    "font.size": 15,
    "axes.titlesize": 19,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 15,
    "xtick.labelsize": 14,
    "ytick.labelsize": 14,
    "legend.fontsize": 13,
    "legend.framealpha": 0.9,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "lines.linewidth": 2.0,
    "path.simplify": True,
}

# One colour per kind, the same in every chart, and never shared between two kinds: pause kinds
# and concurrent kinds are told apart too (a generational Shenandoah "young" cycle is not a
# young pause). Colours of the reference lines (threshold red, trend orange, committed green,
# max heap grey) are not used for kinds.
PAUSE_COLOURS = {
    "young": "#1f77b4",  # blue
    "mixed": "#17becf",  # cyan
    "full": "#d62728",  # red
    "remark": "#9467bd",  # purple
    "cleanup": "#ff7f0e",  # orange
    "initial_mark": "#8c564b",  # brown
    "final_mark": "#e377c2",  # pink
    "mark_start": "#bcbd22",  # olive
    "mark_end": "#393b79",  # indigo
    "relocate_start": "#17a589",  # teal
    "update_refs": "#6b6ecf",  # periwinkle
    "final_roots": "#e7ba52",  # gold
    "degenerated": "#8b0000",  # dark red
    "other": "#7f7f7f",  # grey
}
CONCURRENT_COLOURS = {
    "mark_cycle": "#1b9e77",  # green-teal
    "cycle": "#e7298a",  # magenta
    "minor": "#66a61e",  # lime
    "major": "#d95f02",  # dark orange
    "young": "#b15928",  # rust
    "old": "#6a3d9a",  # deep purple
    "global": "#01665e",  # dark teal
}
# For kinds no table names (a grammar added one): a colour no named kind uses.
_SPARE = ("#a6761d", "#5b5b5b", "#c51b7d", "#4d9221", "#2166ac", "#8073ac", "#b35806", "#35978f")
THRESHOLD_COLOUR = "#c00000"
TREND_COLOUR = "#e6550d"
COMMITTED_COLOUR = "#31a354"
MAX_HEAP_COLOUR = "#444444"

# How a kind reads in a legend: the model's identifiers are snake_case.
PAUSE_LABELS = {
    "young": "young",
    "mixed": "mixed",
    "full": "full GC",
    "remark": "remark",
    "cleanup": "cleanup",
    "initial_mark": "initial mark",
    "final_mark": "final mark",
    "mark_start": "mark start",
    "mark_end": "mark end",
    "relocate_start": "relocate start",
    "update_refs": "update refs",
    "final_roots": "final roots",
    "degenerated": "degenerated GC",
    "other": "other pauses",
}
CONCURRENT_LABELS = {
    "mark_cycle": "concurrent mark cycle",
    "cycle": "concurrent cycle",
    "minor": "minor collection",
    "major": "major collection",
    "young": "young cycle",
    "old": "old cycle",
    "global": "global cycle",
}


def kind_colour(kind: str | None, category: str = model.PAUSE) -> str:
    """Stable colour of a pause (or, with `category="concurrent"`, a concurrent) kind."""
    table = CONCURRENT_COLOURS if category == model.CONCURRENT else PAUSE_COLOURS
    if kind in table:
        return table[kind]
    return _SPARE[sum(map(ord, kind or "")) % len(_SPARE)]


def kind_label(kind: str | None, category: str = model.PAUSE) -> str:
    """A kind as a reader says it: "initial mark", "full GC", "concurrent cycle"."""
    table = CONCURRENT_LABELS if category == model.CONCURRENT else PAUSE_LABELS
    if kind in table:
        return table[kind]
    return (kind or "other").replace("_", " ")


def kind_order(kinds: list[str]) -> list[str]:
    """Kinds in the schema's order (young first), unknown ones after, alphabetically."""
    order = model.PAUSE_KINDS + tuple(
        k for k in model.CONCURRENT_KINDS if k not in model.PAUSE_KINDS
    )
    known = [k for k in order if k in kinds]
    return known + sorted(k for k in kinds if k not in known)


@contextmanager
def styled() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def new_figure(dpi: int = DEFAULT_DPI, rows: int = 1, *, height_ratios=None, sharex=True):
    """A 16 x 9 inch figure with `rows` stacked axes; returns (figure, [axes])."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(FIG_WIDTH_IN, FIG_HEIGHT_IN), dpi=dpi, layout="constrained")
    fig.get_layout_engine().set(h_pad=0.12, w_pad=0.12, hspace=0.06)
    axes = fig.subplots(
        rows, 1, sharex=sharex, squeeze=False, gridspec_kw={"height_ratios": height_ratios}
    )[:, 0]
    return fig, list(axes)


def pixel_columns(fig: Figure) -> int:
    """How many pixel columns the data area has, roughly (the figure width minus margins)."""
    return max(int(fig.get_figwidth() * fig.dpi * 0.9), 100)


def png_bytes(fig: Figure) -> bytes:
    """The figure as a PNG of exactly its declared size (16 x 9 inches at its dpi).

    Drawn once by the Agg canvas and encoded with an adaptive 256-colour palette: charts have
    few colours, and the palette makes the PNG about 4 times smaller and faster to write than
    matplotlib's RGBA output (which also draws the figure a second time).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.frombuffer(
        "RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
    ).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(
        buffer, format="png", optimize=False, compress_level=6
    )
    return buffer.getvalue()


# --- units ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ByteScale:
    divisor: float
    unit: str


def byte_scale(max_bytes: float | None) -> ByteScale:
    """MB up to 10 GB, GB above, KB for tiny heaps (metaspace of a hello-world)."""
    if max_bytes is None or not math.isfinite(max_bytes) or max_bytes < 4 * MB:
        return ByteScale(1024.0, "KB")
    if max_bytes < 10 * GB:
        return ByteScale(float(MB), "MB")
    return ByteScale(float(GB), "GB")


def format_bytes(value: float | None) -> str:
    """1.5 KB, 96.0 MB, 1.2 GB (binary units, as the JVM prints them)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    size = abs(value)
    if size < 1024:
        return f"{value:,.0f} B"
    for unit, divisor in (("KB", 1024.0), ("MB", float(MB)), ("GB", float(GB))):
        number = value / divisor
        if abs(number) < 1024 or unit == "GB":
            return f"{number:,.0f} {unit}" if abs(number) >= 100 else f"{number:,.1f} {unit}"
    return f"{value / GB:,.1f} GB"


def format_duration_ms(ms: float | None) -> str:
    """1.23 ms, 456 ms, 1.2 s, 3.4 min, 2.0 h, 3.1 d."""
    if ms is None or not math.isfinite(ms):
        return "n/a"
    if ms < 1:  # two significant figures: 0.61 ms, 0.047 ms, 0.0081 ms
        return f"{float(f'{ms:.2g}'):g} ms" if ms > 0 else "0 ms"
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return format_duration_s(ms / 1000.0)


def format_duration_s(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "n/a"
    if s < 1:
        return format_duration_ms(s * 1000.0)
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    if s < 3 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def duration_tick_formatter():
    """Tick labels for a log-scaled milliseconds axis: 0.1 ms, 1 ms, 10 ms, 1 s, 10 s."""
    from matplotlib.ticker import FuncFormatter

    def label(value: float, _pos: int) -> str:
        if value <= 0:
            return ""
        if value >= 1000:
            s = value / 1000
            return f"{s:g} s"
        return f"{value:g} ms"

    return FuncFormatter(label)


def set_log_duration_axis(
    ax: Axes, values: np.ndarray, *, extra: tuple[float, ...] = ()
) -> tuple[float, float]:
    """Log y axis in ms fitted to the data (a fifth of a decade of room each side, at least one
    decade in all), with readable ticks: 1-2-5 steps when the axis spans up to 2.6 decades, 1-3 steps up to
    five, decades beyond.

    A reference line in `extra` widens the axis only when it lies within a factor of 4 of the
    data: a 500 ms threshold over ZGC's 0.01 ms pauses would leave the data a sliver at the
    bottom of empty decades. Returns the (bottom, top) limits, so the caller can label a line
    that is off the scale.
    """
    from matplotlib.ticker import LogLocator, NullFormatter

    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size:
        lo, hi = float(positive.min()), float(positive.max())
    else:
        finite = [v for v in extra if v and math.isfinite(v) and v > 0]
        lo, hi = (min(finite), max(finite)) if finite else (1.0, 10.0)
    for line in extra:
        if line and math.isfinite(line) and line > 0 and lo / 4 <= line <= hi * 4:
            lo, hi = min(lo, line), max(hi, line)
    bottom, top = lo / 1.6, hi * 1.6
    if top / bottom < 10:  # at least one decade, centred on the data
        centre = math.sqrt(top * bottom)
        bottom, top = centre / math.sqrt(10), centre * math.sqrt(10)
    ax.set_yscale("log")
    ax.set_ylim(bottom, top)
    decades = math.log10(top / bottom)
    subs = (1.0, 2.0, 5.0) if decades <= 2.6 else (1.0, 3.0) if decades <= 5.0 else (1.0,)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs, numticks=30))
    ax.yaxis.set_major_formatter(duration_tick_formatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    return bottom, top


def off_scale_note(ax: Axes, text: str, *, colour: str = "#c00000") -> None:
    """A reference line above the fitted scale, said in words above the axes' top right corner
    (the title is on the left), so it covers no data."""
    ax.annotate(
        "\u2191 " + text,
        xy=(1.0, 1.0),
        xycoords="axes fraction",
        xytext=(0, 4),
        textcoords="offset points",
        ha="right",
        va="bottom",
        color=colour,
        fontsize=14,
        fontweight="bold",
    )


# --- time ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeAxis:
    """Maps uptime seconds to the x axis: wall-clock (UTC) when the run's events carry absolute
    time, else uptime in a readable unit."""

    wall_offset_ms: float | None  # epoch milliseconds at uptime 0; None: plot uptime
    divisor: float  # uptime seconds per axis unit
    unit: str
    start_s: float | None = None  # the run's span: every time chart of a run shows all of it
    end_s: float | None = None

    @classmethod
    def for_run(
        cls,
        uptime_s: np.ndarray,
        time_ms: np.ndarray | None,
        start_s: float | None = None,
        end_s: float | None = None,
    ) -> TimeAxis:
        finite = uptime_s[np.isfinite(uptime_s)]
        if start_s is None and finite.size:
            start_s = float(finite.min())
        if end_s is None and finite.size:
            end_s = float(finite.max())
        span = (end_s - start_s) if start_s is not None and end_s is not None else 0.0
        offset = None
        if time_ms is not None and time_ms.size:
            ok = np.isfinite(time_ms) & np.isfinite(uptime_s)
            if ok.any():
                # One offset for the whole run: the median is immune to a few odd stamps.
                offset = float(np.median(time_ms[ok] - uptime_s[ok] * 1000.0))
        if span < 180:
            divisor, unit = 1.0, "s"
        elif span < 3 * 3600:
            divisor, unit = 60.0, "min"
        elif span < 3 * 86400:
            divisor, unit = 3600.0, "h"
        else:
            divisor, unit = 86400.0, "days"
        return cls(offset, divisor, unit, start_s, end_s)

    @property
    def is_wall_clock(self) -> bool:
        return self.wall_offset_ms is not None

    def x(self, uptime_s: np.ndarray | float):
        values = np.asarray(uptime_s, dtype=float)
        if self.wall_offset_ms is None:
            return values / self.divisor
        return (self.wall_offset_ms + values * 1000.0).astype("datetime64[ms]")

    def label(self) -> str:
        return "Time (UTC)" if self.is_wall_clock else f"JVM uptime ({self.unit})"

    def apply(self, ax: Axes, *, right_s: float | None = None) -> None:
        """Label the axis and show the run's whole span (up to `right_s` when later)."""
        ax.set_xlabel(self.label())
        if self.start_s is not None and self.end_s is not None and self.end_s > self.start_s:
            right = max(self.end_s, right_s or self.end_s)
            pad = (right - self.start_s) * 0.015
            ax.set_xlim(self.x(self.start_s - pad), self.x(right + pad))
        if self.is_wall_clock:
            from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

            locator = AutoDateLocator(minticks=5, maxticks=12)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def legend(ax: Axes, *, outside_over: int = 4, **kwargs) -> None:
    """A short legend inside the axes where it covers the least data; a longer one below the
    chart, outside the data, in as many columns as fit."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    if len(handles) <= outside_over:
        kwargs.setdefault("loc", "best")
        ax.legend(handles, labels, **kwargs)
        return
    kwargs.pop("loc", None)
    longest = max(len(label) for label in labels)
    ncol = 4 if longest <= 34 else 3 if longest <= 46 else 2
    ax.figure.legend(
        handles, labels, loc="outside lower center", ncol=min(ncol, len(handles)), **kwargs
    )


def no_data_note(ax: Axes, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="#666666",
        fontsize=15,
    )
    ax.set_yticks([])
