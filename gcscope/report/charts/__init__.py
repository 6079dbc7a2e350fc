"""PNG trend charts: one pure function per chart, of one run of a `ReportData`.

Each chart function takes a `RunView` (one JVM run of the report data) and `dpi`, and returns
a matplotlib `Figure`; or, when the run has nothing to draw for it, a short sentence saying
why (the HTML report lists such charts as "not drawn" with that reason; `--png` writes no
file for them); or None when the chart does not apply to the input at all (pool charts of a
log file, which has no live samples): it is left out silently. Charts are 16 x 9 inches: 1600 x 900 pixels at the default 100 dpi.

File names are stable: `<name>.png` (e.g. `heap.png`) for an input with one JVM run, and
`<name>.run<N>.png` for each run N when the input holds several (a JVM restart).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from gcscope.report.charts._base import DEFAULT_DPI, FIG_HEIGHT_IN, FIG_WIDTH_IN, png_bytes, styled
from gcscope.report.charts.activity import concurrent_chart, pools_chart, rates_chart
from gcscope.report.charts.heap import heap_chart, metaspace_chart, old_gen_chart
from gcscope.report.charts.pauses import pause_distribution_chart, pauses_chart
from gcscope.report.data import ReportData, RunView


@dataclass(frozen=True)
class ChartSpec:
    name: str  # stable file stem
    title: str
    draw: Callable[..., object]  # (RunView, *, dpi) -> Figure | str (why not drawn) | None


# Order: the order of the report's chart section.
CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("heap", "Heap before and after each GC", heap_chart),
    ChartSpec("pauses", "Pauses over time", pauses_chart),
    ChartSpec("pause-distribution", "Pause duration distribution", pause_distribution_chart),
    ChartSpec("old-gen", "Old Gen occupancy after GC", old_gen_chart),
    ChartSpec("rates", "Allocation, promotion and GC overhead", rates_chart),
    ChartSpec("metaspace", "Metaspace", metaspace_chart),
    ChartSpec("concurrent", "Concurrent cycles and allocation stalls", concurrent_chart),
    ChartSpec("pools", "Memory pools (live samples)", pools_chart),
)
CHART_NAMES = tuple(spec.name for spec in CHARTS)


@dataclass(frozen=True)
class RenderedChart:
    name: str
    title: str
    run_id: int
    file_name: str  # stable PNG file name, see the module docstring
    png: bytes | None  # None: not drawn, see `note`
    note: str | None
    width_px: int
    height_px: int


def chart_size_px(dpi: int = DEFAULT_DPI) -> tuple[int, int]:
    return round(FIG_WIDTH_IN * dpi), round(FIG_HEIGHT_IN * dpi)


def render_run(
    run: RunView,
    *,
    dpi: int = DEFAULT_DPI,
    several_runs: bool = False,
    names: Iterable[str] | None = None,
) -> list[RenderedChart]:
    wanted = set(names) if names is not None else None
    width, height = chart_size_px(dpi)
    out = []
    with styled():
        for spec in CHARTS:
            if wanted is not None and spec.name not in wanted:
                continue
            file_name = f"{spec.name}.run{run.run_id}.png" if several_runs else f"{spec.name}.png"
            drawn = spec.draw(run, dpi=dpi)
            if drawn is None:  # does not apply to this input (pools of a log): not listed
                continue
            if isinstance(drawn, str):
                out.append(
                    RenderedChart(
                        spec.name, spec.title, run.run_id, file_name, None, drawn, width, height
                    )
                )
                continue
            out.append(
                RenderedChart(
                    spec.name,
                    spec.title,
                    run.run_id,
                    file_name,
                    png_bytes(drawn),
                    None,
                    width,
                    height,
                )
            )
    return out


def render_charts(
    data: ReportData, *, dpi: int = DEFAULT_DPI, names: Iterable[str] | None = None
) -> list[RenderedChart]:
    """Every chart of every run, in report order (charts with no data carry their reason)."""
    runs = list(data.runs())
    names = list(names) if names is not None else None
    charts: list[RenderedChart] = []
    for run in runs:
        charts += render_run(run, dpi=dpi, several_runs=len(runs) > 1, names=names)
    return charts


def write_pngs(charts: Iterable[RenderedChart], directory: str | Path) -> list[Path]:
    """Write the drawn charts into `directory` (created if needed); returns the files."""
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in charts:
        if chart.png is None:
            continue
        path = out_dir / chart.file_name
        path.write_bytes(chart.png)
        written.append(path)
    return written
