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
from gcscope.report.charts import CHARTS, chart_size_px, render_charts
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


# The other collectors' `gc*` logs: what each log holds (sample_logs/README.md says how each
# was made) decides the charts. JDK 17's ZGC prints "Metaspace: 0M used, 0M committed" after
# every cycle and JDK 17's Shenandoah no metaspace line at all, so neither gets that chart;
# Epsilon never collects: heap samples only (no pauses, cycles or heap before/after pairs).
ALL_CHARTS = GC_STAR | {"concurrent"}
OTHER_COLLECTOR_LOGS = {
    "jdk17/zgc-gcstar.log": ALL_CHARTS - {"metaspace"},
    "jdk17/shenandoah-gcstar.log": ALL_CHARTS - {"metaspace"},
    "jdk17/epsilon-gcstar-oom.log": {"heap", "old-gen"},
    "jdk11/cms-gcstar.log": ALL_CHARTS,
    "jdk21/zgc-generational-gcstar.log": ALL_CHARTS,
    "jdk25/zgc-gcstar.log": ALL_CHARTS,  # JDK 25's ZGC is generational only
    "jdk25/shenandoah-generational-gcstar.log": ALL_CHARTS,
}


def charts_the_log_supports(log: Path) -> set[str]:
    """The charts the report's "no data, no chart" rule calls for, from what the engine reads
    out of the log (its events and run metadata), independently of the chart code."""
    from gcscope.ingest import read_events

    ingest = read_events([str(log)])
    events = ingest.events
    collector = (ingest.runs[0] if ingest.runs else {}).get("collector") or ""

    def has(column: str, frame: pl.DataFrame = events) -> bool:
        return bool(frame[column].is_not_null().any())

    timed = events.filter(pl.col(model.DURATION_MS).is_not_null())
    pauses = timed.filter(pl.col(model.CATEGORY) == model.PAUSE)
    cycles = timed.filter(pl.col(model.CATEGORY).is_in([model.CONCURRENT, model.STALL]))
    pairs = events.filter(
        pl.col(model.HEAP_BEFORE_BYTES).is_not_null() & pl.col(model.HEAP_AFTER_BYTES).is_not_null()
    )
    single_space = collector.split()[0] in ("ZGC", "Shenandoah", "Epsilon") if collector else False
    expected = set()
    if has(model.HEAP_AFTER_BYTES):
        expected.add("heap")
    if pauses.height:
        expected |= {"pauses", "pause-distribution"}
    if pauses.height or pairs.height >= 2:
        expected.add("rates")
    if has(model.OLD_AFTER_BYTES) or (single_space and has(model.HEAP_AFTER_BYTES)):
        expected.add("old-gen")
    if bool((events[model.METASPACE_AFTER_BYTES] > 0).any()):
        expected.add("metaspace")
    if cycles.height:
        expected.add("concurrent")
    return expected


@pytest.mark.parametrize("log_name", sorted(OTHER_COLLECTOR_LOGS))
def test_logs_of_the_other_collectors_draw_the_charts_their_content_supports(
    tmp_path: Path, log_name: str
) -> None:
    """ZGC (single-space and generational), Shenandoah (and generational), Epsilon and CMS:
    exactly the charts the log has figures for are written, as valid PNGs of the declared
    size, and embedded in a self-contained page that names every other chart as not drawn
    (a small dpi keeps the test fast)."""
    from tests.test_report_html import assert_self_contained

    log = ROOT / "sample_logs" / log_name
    expected = OTHER_COLLECTOR_LOGS[log_name]
    assert charts_the_log_supports(log) == expected, "the log's content changed: update the table"
    out, html = tmp_path / "png", tmp_path / "r.html"
    args = ["analyze", str(log), "--png", str(out), "--html", str(html), "--dpi", "30"]
    assert cli.main(args) == ExitStatus.OK
    written = {p.name for p in out.iterdir()} if out.exists() else set()
    assert written == {f"{name}.png" for name in expected}
    for path in out.iterdir():
        assert_valid_png(path, (480, 270))
    page = html.read_text(encoding="utf-8")
    assert_self_contained(page)
    assert page.count("<img ") == len(expected)
    not_drawn = page[page.index('id="charts"') : page.index('id="pauses"')]
    for spec in CHARTS:
        if spec.name not in expected and spec.name != "pools":
            assert f"<li>{spec.title}: " in not_drawn, spec.name


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


def test_a_single_runs_charts_read_the_event_table_itself_and_several_runs_their_own_rows() -> None:
    """Memory: a run alone in the table, in uptime order, is drawn from the table as it is (a
    filtered, sorted copy of a 2 GB log's table held ~300 MB while its charts were drawn)."""
    events = g1_like_events(2_000, with_time=False)
    meta = g1_meta()
    data = ReportData({"runs": [{**meta, **run_metrics(events, meta)}]}, events)
    assert next(data.runs()).events is data.events
    # Two runs: each gets its own rows, sorted by uptime.
    second = events.with_columns(pl.lit(1, dtype=events.schema[model.RUN_ID]).alias(model.RUN_ID))
    both = pl.concat([second, events])  # run 1 first: not in run order
    two = ReportData({"runs": [{**meta, "run_id": 0}, {**meta, "run_id": 1}]}, both)
    views = list(two.runs())
    assert [v.events.height for v in views] == [events.height, events.height]
    assert all(v.events[model.RUN_ID].unique().to_list() == [v.run_id] for v in views)
    assert all(v.events[model.UPTIME_S].is_sorted() for v in views)


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


# --- what the charts draw -------------------------------------------------------------------------
def _threshold_lines(fig) -> list[float]:
    """The y of every horizontal line labelled as the long-pause threshold."""
    return [
        float(line.get_ydata()[0])
        for ax in fig.axes
        for line in ax.get_lines()
        if line.get_label().startswith("threshold ")
    ]


def _saved_run(tmp_path: Path, log: Path, *options: str):
    saved = tmp_path / f"r{len(list(tmp_path.iterdir()))}.json"
    assert cli.main(["analyze", str(log), "--save", str(saved), *options]) == ExitStatus.OK
    return next(ReportData.load(saved).runs())


def test_a_configured_pause_threshold_moves_the_threshold_line(tmp_path: Path) -> None:
    """`--set GCS004.pause_ms=20` (rule GCS004's long-pause threshold) is the line both pause
    charts draw, and the pauses above it are counted on the chart; the default 500 ms is far
    above this log's pauses (max 55 ms), so it is named above the chart instead of squashing
    the data into the bottom of empty decades."""
    from gcscope.report.charts.pauses import pause_distribution_chart

    log = SAMPLES / "g1-gcstar-leak.log"
    run = _saved_run(tmp_path, log, "--set", "GCS004.pause_ms=20")
    assert run.pause_threshold_ms == 20.0
    fig = pauses_chart(run, dpi=30)
    assert _threshold_lines(fig) == [20.0]
    assert _threshold_lines(pause_distribution_chart(run, dpi=30)) == [20.0]
    durations = run.events.filter(pl.col(model.CATEGORY) == model.PAUSE)[model.DURATION_MS]
    over = int((durations > 20.0).sum())
    assert over > 0
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"{over:,} pauses above the threshold" in texts
    bottom, top = fig.axes[0].get_ylim()
    assert bottom < 20.0 < top

    default = _saved_run(tmp_path, log)
    assert default.pause_threshold_ms == 500.0
    fig = pauses_chart(default, dpi=30)
    assert _threshold_lines(fig) == []
    assert fig.axes[0].get_ylim()[1] < 500.0  # fitted to the data
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert any("threshold 500 ms: above this chart" in note for note in notes)


def test_heap_chart_shows_committed_and_names_a_fully_committed_heap(tmp_path: Path) -> None:
    """CMS commits 61 MB of its 64 MB: the committed step is drawn, over the max line. G1's
    leak log commits all 96 MB from the start: one line, "max heap = committed"."""
    from gcscope.report.charts.heap import heap_chart

    cms = heap_chart(_saved_run(tmp_path, ROOT / "sample_logs/jdk11/cms-gcstar.log"), dpi=30)
    lines = {line.get_label(): line for line in cms.axes[0].get_lines()}
    assert "committed" in lines and "max heap 64 MB" in lines
    assert lines["committed"].get_zorder() > lines["max heap 64 MB"].get_zorder()
    g1 = heap_chart(_saved_run(tmp_path, SAMPLES / "g1-gcstar-leak.log"), dpi=30)
    labels = [line.get_label() for line in g1.axes[0].get_lines()]
    assert "max heap = committed, 96 MB" in labels and "committed" not in labels


def test_heap_after_points_are_named_by_kind_and_non_moving_pauses_left_out(
    tmp_path: Path,
) -> None:
    from gcscope.report.charts.heap import heap_chart

    def scatter_labels(log: str) -> set[str]:
        fig = heap_chart(_saved_run(tmp_path, ROOT / "sample_logs" / log), dpi=30)
        return {c.get_label() for c in fig.axes[0].collections if c.get_label().startswith("after")}

    # CMS initial mark and remark move nothing: no points for them.
    assert scatter_labels("jdk11/cms-gcstar.log") == {"after young GC", "after full GC"}
    assert scatter_labels("jdk17/zgc-gcstar.log") == {"after concurrent cycle"}
    assert scatter_labels("jdk25/zgc-gcstar.log") == {
        "after minor collection",
        "after major collection",
    }


def test_old_gen_chart_is_labelled_by_its_basis(tmp_path: Path) -> None:
    from gcscope.report.charts.heap import old_gen_chart

    zgc = old_gen_chart(_saved_run(tmp_path, SAMPLES / "zgc-gcstar.log"), dpi=30)
    assert zgc.axes[0].get_ylabel() == "Heap after GC, % of max heap"
    assert "no separate Old Gen" in zgc.axes[0].get_title()
    parallel = old_gen_chart(_saved_run(tmp_path, SAMPLES / "parallel-gcstar-leak.log"), dpi=30)
    assert parallel.axes[0].get_ylabel() == "Old Gen, % of its capacity"
    g1 = old_gen_chart(_saved_run(tmp_path, SAMPLES / "g1-gcstar-leak.log"), dpi=30)
    assert g1.axes[0].get_ylabel() == "Old + humongous, % of max heap"
    # The legend is outside the axes: it covers no point.
    assert zgc.axes[0].get_legend() is None and zgc.legends


def test_metaspace_of_zeros_is_not_drawn_and_says_why(tmp_path: Path) -> None:
    from gcscope.report.charts.heap import metaspace_chart

    run = _saved_run(tmp_path, SAMPLES / "zgc-gcstar.log")
    assert run.events[model.METASPACE_AFTER_BYTES].max() == 0  # "Metaspace: 0M used"
    assert "0 after every GC" in metaspace_chart(run, dpi=30)
    # Shenandoah of JDK 17 logs gc* but no metaspace line: no advice to add gc*.
    shenandoah = metaspace_chart(_saved_run(tmp_path, SAMPLES / "shenandoah-gcstar.log"), dpi=30)
    assert "gc*" not in shenandoah and "prints none" in shenandoah
    summary_only = metaspace_chart(_saved_run(tmp_path, SAMPLES / "g1-gc.log"), dpi=30)
    assert "add -Xlog:gc+metaspace or gc*" in summary_only


def test_distribution_markers_sit_on_their_curves_and_agree_with_the_result(
    tmp_path: Path,
) -> None:
    """Each p50/p90/p99 marker lies on its kind's curve, and is the result's percentile."""
    from gcscope.report.charts.pauses import MARKED_PERCENTILES, pause_distribution_chart

    run = _saved_run(tmp_path, SAMPLES / "g1-gcstar-leak.log")
    fig = pause_distribution_chart(run, dpi=30)
    ax = fig.axes[0]
    curves = {line.get_color(): line for line in ax.get_lines() if "(n=" in line.get_label()}
    by_kind = run.summary["pauses"]["by_kind"]
    checked = 0
    for collection in ax.collections:
        offsets = np.asarray(collection.get_offsets())
        if len(offsets) != 1 or collection.get_sizes()[0] > 100:
            continue  # percentile markers only (the max stars are larger)
        colour = collection.get_facecolor()[0]
        matching = [
            line
            for line in curves.values()
            if np.allclose(matplotlib_rgba(line.get_color()), colour, atol=1e-3)
        ]
        if not matching:
            continue
        line = matching[0]
        x, y = offsets[0]
        on_curve = np.interp(x, line.get_xdata(), line.get_ydata())
        assert y == pytest.approx(on_curve, rel=2e-2)
        kind = line.get_label().split(" (n=")[0]
        stats = next(v for k, v in by_kind.items() if kind.startswith(k))
        assert any(y == pytest.approx(stats[key], rel=1e-6) for _, _, key in MARKED_PERCENTILES)
        checked += 1
    assert checked >= 8


def matplotlib_rgba(colour) -> tuple[float, ...]:
    from matplotlib.colors import to_rgba

    return to_rgba(colour)


def test_every_kind_has_its_own_colour_and_a_name_without_underscores() -> None:
    from gcscope.report.charts._base import (
        CONCURRENT_COLOURS,
        MAX_HEAP_COLOUR,
        PAUSE_COLOURS,
        THRESHOLD_COLOUR,
        TREND_COLOUR,
        kind_colour,
        kind_label,
    )

    assert set(PAUSE_COLOURS) == set(model.PAUSE_KINDS)
    assert set(CONCURRENT_COLOURS) == set(model.CONCURRENT_KINDS)
    colours = list(PAUSE_COLOURS.values()) + list(CONCURRENT_COLOURS.values())
    assert len(set(colours)) == len(colours)
    assert not {THRESHOLD_COLOUR, TREND_COLOUR, MAX_HEAP_COLOUR, "#31a354"} & set(colours)
    assert kind_colour("young", model.PAUSE) != kind_colour("young", model.CONCURRENT)
    for kind in model.PAUSE_KINDS:
        assert "_" not in kind_label(kind)
    for kind in model.CONCURRENT_KINDS:
        assert "_" not in kind_label(kind, model.CONCURRENT)


def test_log_duration_axis_fits_the_data_with_enough_tick_labels() -> None:
    from matplotlib.figure import Figure

    from gcscope.report.charts._base import set_log_duration_axis

    ax = Figure().subplots()
    bottom, top = set_log_duration_axis(ax, np.array([4.0, 80.0]), extra=(500.0,))
    assert bottom < 4.0 and 80.0 < top < 500.0  # 500 is more than 4x the data: off scale
    ticks = [t for t in ax.yaxis.get_major_locator()() if bottom <= t <= top]
    assert len(ticks) >= 5  # 1-2-5 steps over two decades, not three decade labels
    _, top = set_log_duration_axis(ax, np.array([4.0, 300.0]), extra=(500.0,))
    assert top > 500.0  # near the data: the line is on the chart


def test_dense_heap_band_fills_the_columns_between_points() -> None:
    """A sawtooth sparser than the pixel columns: every column the strokes cross is filled
    with the part of the stroke inside it (the points alone would leave most columns empty)."""
    from gcscope.report.downsample import polyline_envelope

    x = np.array([0.0, 10.0, 10.0, 20.0])  # climb 0 -> 100, drop to 10, climb to 110
    y = np.array([0.0, 100.0, 10.0, 110.0])
    centre, low, high = polyline_envelope(x, y, 20)
    assert centre.size == 20  # every column, not only the 3 holding a point
    # Columns are 1 wide; the climbs rise 10 per column; the drop is at x = 10 (column 10).
    assert (low[0], high[0]) == pytest.approx((0.0, 10.0))
    assert (low[9], high[9]) == pytest.approx((90.0, 100.0))
    assert (low[10], high[10]) == pytest.approx((10.0, 100.0))
    assert (low[11], high[11]) == pytest.approx((20.0, 30.0))
    points_only = column_envelope(x, y, 20)[0]
    assert points_only.size < 4


@pytest.mark.parametrize("slice_points", [1, 2, 7, 64])
def test_the_band_of_a_line_reduced_in_slices_is_the_band_reduced_whole(monkeypatch, slice_points) -> None:
    """polyline_envelope bounds its memory by reducing long lines in slices: every segment,
    including those joining two slices and those next to a gap, counts exactly as before."""
    from gcscope.report import downsample

    rng = np.random.default_rng(11)
    x = np.cumsum(rng.uniform(0.0, 1.0, 500))
    y = rng.normal(0.0, 10.0, 500)
    y[[40, 41, 300]] = np.nan  # gaps
    monkeypatch.setattr(downsample, "ENVELOPE_SLICE_POINTS", 10**9)
    whole = downsample.polyline_envelope(x, y, 97)
    monkeypatch.setattr(downsample, "ENVELOPE_SLICE_POINTS", slice_points)
    sliced = downsample.polyline_envelope(x, y, 97)
    assert whole[0].size > 50
    for expected, got in zip(whole, sliced, strict=True):
        np.testing.assert_array_equal(got, expected)
