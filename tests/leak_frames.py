"""Synthetic event frames for the leak verdict and rule tests: a heap whose post-GC floor
follows a known curve, written as the model columns any collector's grammar would produce."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from gcscope import model

MB = 1024 * 1024
HEAP_MAX = 1024 * MB


def heap_frame(
    floor_pct: Callable[[np.ndarray], np.ndarray],
    *,
    seconds: float = 600.0,
    old_every_s: float = 20.0,
    young_per_old: int = 4,
    old_kind: str | None = "full",
    old_category: str = model.PAUSE,
    noise_pct: float = 0.0,
    seed: int = 7,
    heap_max: int = HEAP_MAX,
    extra: Sequence[dict] = (),
) -> pl.DataFrame:
    """Old collections every `old_every_s` leave the heap at `floor_pct(t)` % of `heap_max`
    (plus normal noise); between them `young_per_old` young pauses leave it higher, since
    old garbage accumulates until the next old collection. `extra` rows are appended."""
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    line = 1
    t_old = np.arange(old_every_s / 2, seconds, old_every_s)
    for t in t_old:
        floor = (
            float(floor_pct(np.array([t]))[0]) + rng.normal(0, noise_pct)
            if noise_pct
            else (float(floor_pct(np.array([t]))[0]))
        )
        for k in range(young_per_old):
            ty = t + (k + 1) * old_every_s / (young_per_old + 1)
            if ty >= seconds:
                break
            after = min(99.0, floor + 5.0 + 3.0 * k)
            rows.append(_row(line, ty, model.PAUSE, "young", after, heap_max, 5.0))
            line += 3
        rows.append(_row(line, float(t), old_category, old_kind, floor, heap_max, 50.0))
        line += 3
    for item in extra:
        rows.append({"source_file": "synthetic.log", "source_line": line, **item})
        line += 1
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return model.conform_events(frame).sort(model.UPTIME_S)


def _row(line, t, category, kind, pct, heap_max, duration_ms) -> dict:
    after = int(max(pct, 0.5) / 100.0 * heap_max)
    return {
        model.RUN_ID: 0,
        model.SOURCE_FILE: "synthetic.log",
        model.SOURCE_LINE: line,
        model.UPTIME_S: t,
        model.CATEGORY: category,
        model.KIND: kind,
        model.DURATION_MS: duration_ms,
        model.HEAP_BEFORE_BYTES: min(heap_max, after + heap_max // 5),
        model.HEAP_AFTER_BYTES: after,
        model.HEAP_COMMITTED_BYTES: heap_max,
    }


def meta(seconds: float = 600.0, heap_max: int | None = HEAP_MAX, **more) -> dict:
    return {
        model.RUN_ID: 0,
        "collector": "Synthetic",
        "heap_max_bytes": heap_max,
        "start_uptime_s": 0.0,
        "end_uptime_s": seconds,
        "files": ["synthetic.log"],
        **more,
    }
