"""PNG charts: `gcscope analyze LOG --png DIR` on logs written by a real JVM (`sample_logs/`),
and the chart layer on synthetic frames where a size or shape is needed that no small log has
(a hundred thousand pauses, several runs, live pool samples)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image

from gcscope import cli, model
from gcscope.analysis.metrics import run_metrics
from gcscope.errors import ExitStatus
from gcscope.report.charts import CHART_NAMES, chart_size_px, render_charts
from gcscope.report.charts._base import TimeAxis
from gcscope.report.charts.pauses import pauses_chart
from gcscope.report.data import ReportData
from gcscope.report.downsample import column_envelope, m4_indices, sorted_curve_indices
from tests.report_synthetic import g1_like_events, g1_meta, live_samples

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs" / "jdk17"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# What each `-Xlog:gc*` log holds, known from how it was made (README of sample_logs): heap
# figures, pauses, per-generation and metaspace lines; G1 also logs its concurrent mark cycles.
# `-Xlog:gc` alone has only the pause summaries (heap before/after, no generations, no
# metaspace), so its report must draw the first four and list old-gen and metaspace as not drawn.
GC_STAR = {"heap", "pauses", "pause-distribution", "old-gen", "rates", "metaspace"}
EXPECTED_CHARTS = {
    "g1-gcstar-leak.log": GC_STAR | {"concurrent"},
    "g1-gcstar-time-uptime-level-tags.log": GC_STAR | {"concurrent"},
    "parallel-gcstar-leak.log": GC_STAR,
    "serial-gcstar-leak.log": GC_STAR,
    "g1-gc.log": {"heap", "pauses", "pause-distribution", "rates", "concurrent"},
}


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR is always the first chunk)."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def assert_valid_png(path: Path, size: tuple[int, int]) -> None:
    data = path.read_bytes()
    assert png_size(data) == size, path
    with Image.open(path) as image:
        image.verify()  # checks every chunk's CRC and the structure


@pytest.mark.parametrize("log_name", sorted(EXPECTED_CHARTS))
def test_analyze_writes_one_valid_png_per_chart(tmp_path: Path, log_name: str) -> None:
    out = tmp_path / "charts"
    status = cli.main(["analyze", str(SAMPLES / log_name), "--png", str(out)])
    assert status == ExitStatus.OK
    written = {p.name for p in out.iterdir()}
    assert written == {f"{name}.png" for name in EXPECTED_CHARTS[log_name]}
    for path in out.iterdir():
        assert_valid_png(path, (1600, 900))


def test_logs_of_the_other_collectors_render_valid_pngs_and_html(tmp_path: Path) -> None:
    """A `gc*` log of each collector the sample logs were made with beyond those above (ZGC,
    Shenandoah, Epsilon): whatever the engine reads from it is drawn into valid PNGs of the
    declared size, and the page is written (a small dpi keeps the test fast)."""
    covered = {name.split("-")[0] for name in EXPECTED_CHARTS}
    others: dict[str, Path] = {}
    for log in sorted(SAMPLES.glob("*-gcstar*.log")):
        collector = log.name.split("-")[0]
        if collector not in covered:
            others.setdefault(collector, log)
    assert others, "no sample log of another collector"
    for log in others.values():
        out, html = tmp_path / log.stem, tmp_path / f"{log.stem}.html"
        args = ["analyze", str(log), "--png", str(out), "--html", str(html), "--dpi", "30"]
        assert cli.main(args) == 0, log
        assert "<!DOCTYPE html>" in html.read_text()
        for path in out.glob("*.png") if out.exists() else []:
            assert_valid_png(path, (480, 270))
            assert path.stem in CHART_NAMES


def test_dpi_scales_the_png_and_names_are_stable(tmp_path: Path) -> None:
    log = SAMPLES / "serial-gcstar-leak.log"
    assert cli.main(["analyze", str(log), "--png", str(tmp_path), "--dpi", "50"]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {f"{name}.png" for name in EXPECTED_CHARTS[log.name]}
    for name in names:
        assert png_size((tmp_path / name).read_bytes()) == (800, 450)
    assert chart_size_px(50) == (800, 450) and chart_size_px() == (1600, 900)


@pytest.mark.parametrize("bad", ["0", "abc", "100000"])
def test_bad_dpi_is_a_usage_error(tmp_path: Path, bad: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["analyze", str(SAMPLES / "g1-gc.log"), "--png", str(tmp_path), "--dpi", bad])
    assert exit_info.value.code == ExitStatus.USAGE
    assert "--dpi" in capsys.readouterr().err


# --- downsampling ---------------------------------------------------------------------------------
def test_downsampling_keeps_each_columns_extremes_and_every_long_pause() -> None:
    rng = np.random.default_rng(7)
    n, columns, threshold = 1_000_000, 1400, 500.0
    x = np.sort(rng.uniform(0, 86_400, n))
    y = rng.lognormal(np.log(10), 1.3, n)
    long = y > threshold
    assert 100 < long.sum() < 10_000  # the data really has long pauses to keep
    kept = m4_indices(x, y, columns, keep=long, x_range=(0.0, 86_400.0))
    assert kept.size <= 4 * columns + long.sum()
    assert set(np.flatnonzero(long)) <= set(kept.tolist())
    # Per column, the lowest and highest point are kept (what a pixel column shows).
    bins = np.clip((x / 86_400 * columns).astype(int), 0, columns - 1)
    frame = pl.DataFrame({"b": bins, "y": y, "i": np.arange(n)})
    extremes = frame.group_by("b").agg(
        pl.col("i").sort_by("y").first().alias("lo"), pl.col("i").sort_by("y").last().alias("hi")
    )
    kept_set = set(kept.tolist())
    assert all(i in kept_set for i in extremes["lo"]) and all(i in kept_set for i in extremes["hi"])


def test_downsampling_leaves_small_series_alone_and_drops_nan() -> None:
    x = np.array([0.0, 1.0, 2.0, np.nan, 4.0])
    y = np.array([1.0, np.nan, 3.0, 4.0, 5.0])
    assert m4_indices(x, y, 100).tolist() == [0, 2, 4]
    curve = np.linspace(0, 5, 100_000)
    kept = sorted_curve_indices(curve, 500)
    assert kept[0] == 0 and kept[-1] == curve.size - 1 and kept.size <= 1000


def test_dense_series_become_a_band_of_each_columns_range() -> None:
    x = np.array([0.0, 0.1, 0.2, 5.0, 9.9, 10.0])
    y = np.array([3.0, 9.0, 1.0, 4.0, 7.0, 2.0])
    centre, low, high = column_envelope(x, y, 2)  # columns [0, 5) and [5, 10]
    assert centre.tolist() == [2.5, 7.5]
    assert low.tolist() == [1.0, 2.0] and high.tolist() == [9.0, 7.0]


def test_pauses_chart_of_many_events_draws_few_points_but_every_long_pause() -> None:
    events = g1_like_events(100_000, long_pause_every=997, with_time=False)
    meta = g1_meta()
    data = ReportData({"runs": [{**meta, **run_metrics(events, meta)}]}, events)
    run = next(data.runs())
    fig = pauses_chart(run, dpi=100)
    drawn = sum(len(c.get_offsets()) for c in fig.axes[0].collections)
    durations = events.filter(pl.col(model.CATEGORY) == model.PAUSE)[model.DURATION_MS]
    assert drawn < 0.2 * durations.len()
    long_drawn = sum(
        int((np.asarray(c.get_offsets())[:, 1] > run.pause_threshold_ms).sum())
        for c in fig.axes[0].collections
    )
    assert long_drawn == int((durations > run.pause_threshold_ms).sum()) >= 100


# --- the chart layer on synthetic data ----------------------------------------------------------
def test_several_runs_get_one_chart_set_each_with_the_run_in_the_name(tmp_path: Path) -> None:
    """Two JVM lifetimes in one file (uptime starts again: a restart)."""
    log = tmp_path / "restarted.log"
    log.write_text(
        (SAMPLES / "g1-gcstar-steady.log").read_text()
        + (SAMPLES / "g1-gcstar-leak.log").read_text()
    )
    out = tmp_path / "png"
    assert cli.main(["analyze", str(log), "--png", str(out), "--dpi", "30"]) == 0
    names = {p.name for p in out.iterdir()}
    charts = GC_STAR | {"concurrent"}
    assert names == {f"{n}.run{r}.png" for n in charts for r in (0, 1)}


def test_live_samples_draw_the_pool_chart(tmp_path: Path) -> None:
    events = g1_like_events(200, with_time=False)
    meta = g1_meta()
    data = ReportData({"runs": [{**meta, **run_metrics(events, meta)}]}, events, live_samples())
    charts = {c.name: c for c in render_charts(data, dpi=40, names=["pools"])}
    assert charts["pools"].png is not None
    assert png_size(charts["pools"].png) == (640, 360)
    # A log without samples leaves the pool chart out rather than listing it as missing.
    no_samples = ReportData(data.result, events)
    drawn = {c.name for c in render_charts(no_samples, dpi=40, names=["heap", "pools"])}
    assert drawn == {"heap"}


def test_time_axis_is_wall_clock_when_events_carry_time_else_uptime() -> None:
    uptime = np.array([10.0, 20.0, 4000.0])
    wall = TimeAxis.for_run(uptime, 1_700_000_000_000 + uptime * 1000)
    assert wall.is_wall_clock and wall.label() == "Time (UTC)"
    assert wall.x(np.array([10.0]))[0] == np.datetime64(1_700_000_010_000, "ms")
    plain = TimeAxis.for_run(uptime, np.full(3, np.nan))
    assert not plain.is_wall_clock and plain.label() == "JVM uptime (min)"
    assert plain.x(np.array([120.0]))[0] == pytest.approx(2.0)
