"""Time the metrics step (`gcscope.analysis.metrics.run_metrics`) on a synthetic event table.

    python bench/bench_metrics.py                 # 1,000,000 pauses
    python bench/bench_metrics.py --pauses 10000000 --other 0
    python bench/bench_metrics.py --other 1000000 # plus a million non-pause events

The table has the full event schema (G1-like: young/mixed/full pauses with heap and
old/humongous figures, pauses every ~0.5 s) so projection and filtering cost what they cost on
real input. Prints the best of --repeat runs, overall and per metric, and the load average
(the figures are only comparable on an otherwise idle machine).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import polars as pl

from gcscope import model
from gcscope.analysis import metrics


def synthetic_events(pauses: int, other: int, seed: int = 1) -> tuple[pl.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    n = pauses + other
    uptime = np.cumsum(rng.exponential(0.5 * pauses / n, n))
    is_pause = np.zeros(n, dtype=bool)
    is_pause[rng.choice(n, pauses, replace=False)] = True
    kind = np.where(
        rng.random(n) < 0.001, "full", np.where(rng.random(n) < 0.1, "mixed", "young")
    )
    heap_before = rng.integers(500 << 20, 900 << 20, n)
    old_before = rng.integers(100 << 20, 300 << 20, n)
    frame = pl.DataFrame(
        {
            model.RUN_ID: np.zeros(n, dtype=np.uint32),
            model.UPTIME_S: uptime,
            model.CATEGORY: np.where(is_pause, "pause", "safepoint"),
            model.KIND: kind,
            model.DURATION_MS: rng.lognormal(2.0, 1.0, n),
            model.HEAP_BEFORE_BYTES: np.where(is_pause, heap_before, 0),
            model.HEAP_AFTER_BYTES: heap_before - rng.integers(100 << 20, 400 << 20, n),
            model.OLD_BEFORE_BYTES: old_before,
            model.OLD_AFTER_BYTES: old_before + rng.integers(0, 10 << 20, n),
            model.gen_col("humongous", "after_bytes"): np.zeros(n, dtype=np.int64),
        }
    ).with_columns(
        # Non-pause rows carry no heap figures, as safepoint lines do not.
        *(
            pl.when(pl.col(model.CATEGORY) == "pause").then(pl.col(c)).otherwise(None).alias(c)
            for c in (
                model.KIND,
                model.HEAP_BEFORE_BYTES,
                model.HEAP_AFTER_BYTES,
                model.OLD_BEFORE_BYTES,
                model.OLD_AFTER_BYTES,
                model.gen_col("humongous", "after_bytes"),
            )
        )
    )
    meta = {
        "collector": "G1",
        "heap_max_bytes": 1 << 30,
        "start_uptime_s": 0.0,
        "end_uptime_s": float(uptime[-1]) + 1.0,
    }
    return model.conform_events(frame), meta


def best_ms(fn, repeat: int) -> tuple[float, float]:
    """Best wall time and best CPU time (all threads) in ms. On a busy machine the wall time
    grows with other processes' load; the CPU time shows the work itself."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall * 1000, cpu * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pauses", type=int, default=1_000_000)
    parser.add_argument("--other", type=int, default=0, help="non-pause events (safepoints)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    events, meta = synthetic_events(args.pauses, args.other)
    end = meta["end_uptime_s"]
    print(
        f"{events.height:,} events ({args.pauses:,} pauses), {len(events.columns)} columns; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    parts = {
        "pause_stats": lambda: metrics.pause_stats(events),
        "throughput (+ worst 5 min)": lambda: metrics.throughput(events, 0.0, end),
        "full_gc_stats": lambda: metrics.full_gc_stats(events),
        "old_gen_saturation": lambda: metrics.old_gen_saturation(events, meta, end),
        "rates": lambda: metrics.rates(events),
        "heap series + downsample": lambda: metrics.downsample(
            metrics.heap_after_series(events), model.UPTIME_S, model.HEAP_AFTER_BYTES, 250
        ),
    }
    print(f"{'':<30}{'wall':>8}{'cpu':>9}   (ms, best of {args.repeat})")
    wall, cpu = best_ms(lambda: metrics.run_metrics(events, meta), args.repeat)
    print(f"{'run_metrics (everything)':<30}{wall:8.0f}{cpu:9.0f}")
    for name, fn in parts.items():
        wall, cpu = best_ms(fn, args.repeat)
        print(f"  {name:<28}{wall:8.0f}{cpu:9.0f}")


if __name__ == "__main__":
    main()
