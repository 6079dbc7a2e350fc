"""Pause percentiles stay exact (no sketch) up to and beyond ten million pauses.

Synthetic durations are fine here: this is a pure metric test. They are rounded to the
microsecond like the JVM's own figures, so there are many ties, and heavy-tailed, so the high
percentiles fall between far-apart neighbours (where an approximation would show).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from gcscope import model
from gcscope.analysis.metrics import PERCENTILES, pause_stats

COUNT = 10_000_000


def test_percentiles_of_ten_million_pauses_are_numpys_exact_ones():
    rng = np.random.default_rng(8)
    durations = np.round(rng.lognormal(mean=1.0, sigma=1.2, size=COUNT), 3)
    durations[rng.integers(0, COUNT, 20)] = rng.uniform(2_000, 9_000, 20)  # a few long stalls
    kinds = np.where(rng.random(COUNT) < 0.9, "young", "mixed")
    events = pl.DataFrame({
        model.CATEGORY: pl.Series([model.PAUSE], dtype=pl.String).new_from_index(0, COUNT),
        model.KIND: kinds,
        model.DURATION_MS: durations,
    })
    stats = pause_stats(events)
    assert stats["count"] == COUNT
    assert stats["max_ms"] == durations.max()
    assert stats["total_ms"] == pytest.approx(durations.sum(), rel=1e-12)
    for key, q in PERCENTILES:
        assert stats[key] == pytest.approx(np.percentile(durations, q * 100), rel=1e-12, abs=1e-12), key
    young = durations[kinds == "young"]
    assert stats["by_kind"]["young"]["count"] == young.size
    for key, q in PERCENTILES:
        expected = np.percentile(young, q * 100)
        assert stats["by_kind"]["young"][key] == pytest.approx(expected, rel=1e-12, abs=1e-12), key
