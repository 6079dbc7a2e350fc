"""Synthetic event frames for the chart and report tests that need a size or shape no small
sample log has (a million events, several runs, live samples). Real logs are used wherever
one exists; this only builds frames in `gcscope.model.EVENT_SCHEMA`."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from gcscope import model

MB = 1 << 20


def g1_like_events(
    n_young: int = 2000,
    *,
    run_id: int = 0,
    leak_mb_per_gc: float = 0.02,
    interval_s: float = 1.5,
    with_time: bool = True,
    long_pause_every: int = 0,
    seed: int = 0,
) -> pl.DataFrame:
    """Young pauses with a sawtooth heap, a mixed pause every 50 and a mark cycle (remark,
    cleanup, concurrent cycle) before each, one full GC at 2/3 of the run; the floor rises
    by `leak_mb_per_gc` per young GC; every `long_pause_every`-th young pause lasts 700 ms."""
    rng = np.random.default_rng(seed)
    heap_max = 1024 * MB
    t = np.cumsum(rng.uniform(0.5, 1.5, n_young) * interval_s) + 5.0
    floor = 120 * MB + np.arange(n_young) * leak_mb_per_gc * MB
    after = floor + rng.uniform(0, 20 * MB, n_young)
    before = after + rng.uniform(300 * MB, 400 * MB, n_young)
    duration = rng.lognormal(np.log(8.0), 0.5, n_young)
    if long_pause_every:
        duration[long_pause_every - 1 :: long_pause_every] = 700.0
    kind = np.array(["young"] * n_young, dtype=object)
    kind[49::50] = "mixed"
    old_after = floor
    old_before = floor - rng.uniform(0, 2 * MB, n_young)
    rows = {
        model.UPTIME_S: t,
        model.KIND: kind,
        model.CATEGORY: np.array([model.PAUSE] * n_young, dtype=object),
        model.DURATION_MS: duration,
        model.HEAP_BEFORE_BYTES: before.astype(np.int64),
        model.HEAP_AFTER_BYTES: after.astype(np.int64),
        model.HEAP_COMMITTED_BYTES: np.full(n_young, heap_max, dtype=np.int64),
        model.OLD_BEFORE_BYTES: old_before.astype(np.int64),
        model.OLD_AFTER_BYTES: old_after.astype(np.int64),
        model.METASPACE_AFTER_BYTES: (30 * MB + np.arange(n_young) * 1000).astype(np.int64),
        model.METASPACE_COMMITTED_BYTES: np.full(n_young, 40 * MB, dtype=np.int64),
    }
    frame = pl.DataFrame(rows)
    marks = t[40::50] + 0.2
    extra = pl.DataFrame(
        {
            model.UPTIME_S: np.r_[marks, marks + 0.5, marks - 1.0, [t[len(t) * 2 // 3] + 0.1]],
            model.KIND: ["remark"] * len(marks)
            + ["cleanup"] * len(marks)
            + ["mark"] * len(marks)
            + ["full"],
            model.CATEGORY: [model.PAUSE] * (2 * len(marks))
            + [model.CONCURRENT] * len(marks)
            + [model.PAUSE],
            model.DURATION_MS: np.r_[
                rng.uniform(5, 20, len(marks)),
                rng.uniform(0.5, 2, len(marks)),
                rng.uniform(200, 900, len(marks)),
                [1800.0],
            ],
        }
    )
    frame = pl.concat([model.conform_events(frame), model.conform_events(extra)])
    frame = frame.with_columns(pl.lit(run_id, pl.UInt32).alias(model.RUN_ID)).sort(model.UPTIME_S)
    if with_time:
        start = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
        frame = frame.with_columns(
            (pl.lit(start) + pl.duration(milliseconds=pl.col(model.UPTIME_S) * 1000))
            .dt.cast_time_unit("ms")
            .alias(model.TIME)
        )
    frame = frame.with_columns(
        pl.lit("gc.log").alias(model.SOURCE_FILE),
        pl.int_range(1, frame.height + 1).cast(pl.UInt32).alias(model.SOURCE_LINE),
        pl.int_range(0, frame.height).alias(model.GC_ID),
    )
    return model.conform_events(frame)


def g1_meta(run_id: int = 0) -> dict:
    return {
        model.RUN_ID: run_id,
        "collector": "G1",
        "jvm_version": "17.0.15+6",
        "heap_max_bytes": 1024 * MB,
        "region_size_bytes": MB,
        "cpus": 2,
    }


def live_samples(n: int = 600, *, run_id: int = 0) -> pl.DataFrame:
    """Pool samples once a second: Eden sawtooth, Old Gen slowly growing, Metaspace flat."""
    t = np.arange(n, dtype=float)
    pools = [
        ("G1 Eden Space", "eden", (t % 20) * 10 * MB, 256 * MB, None),
        ("G1 Survivor Space", "survivor", np.full(n, 8 * MB), 16 * MB, None),
        ("G1 Old Gen", "old", 100 * MB + t * 0.1 * MB, 512 * MB, 1024 * MB),
        ("Metaspace", "metaspace", np.full(n, 30 * MB), 40 * MB, None),
    ]
    frames = []
    for pool, category, used, committed, maximum in pools:
        frames.append(
            pl.DataFrame(
                {
                    model.RUN_ID: [run_id] * n,
                    model.UPTIME_S: t,
                    model.POOL: [pool] * n,
                    model.POOL_CATEGORY: [category] * n,
                    model.USED_BYTES: np.asarray(used, dtype=np.int64),
                    model.COMMITTED_BYTES: [int(committed)] * n,
                    model.MAX_BYTES: [maximum] * n,
                },
                schema_overrides={model.MAX_BYTES: pl.Int64, model.RUN_ID: pl.UInt32},
            )
        )
    return pl.concat(frames).with_columns(pl.lit(None, pl.Datetime("ms", "UTC")).alias(model.TIME))
