"""The leak verdict on synthetic heaps whose floor is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from gcscope import model
from gcscope.analysis.leak import VERDICTS, leak_verdict
from gcscope.config import default_config
from tests.leak_frames import HEAP_MAX, heap_frame, meta

PARAMS = default_config().params("GCS001")


def verdict(frame, seconds=600.0, **params):
    return leak_verdict(frame, meta(seconds), {**PARAMS, **params})


def test_level_floor_is_healthy_sawtooth():
    out = verdict(heap_frame(lambda t: np.full_like(t, 30.0), noise_pct=1.0))
    assert out["verdict"] == "healthy"
    assert out["shape"] == "sawtooth"
    assert out["oom_eta_s"] is None
    assert out["evidence"]["baseline"] == "old_collections"
    assert "level" in out["reason"]


def test_linear_floor_is_a_leak_with_known_slope_and_eta():
    # 20 % of max heap + 0.01 % per second = 36 % per hour; at 600 s the floor is at 26 %,
    # so it reaches 100 % after another 74 / 0.01 = 7400 s.
    out = verdict(heap_frame(lambda t: 20.0 + 0.01 * t))
    assert out["verdict"] == "leak"
    assert out["shape"] == "rising_floor"
    assert out["slope_pct_per_hour"] == pytest.approx(36.0, rel=1e-6)
    assert out["oom_eta_s"] == pytest.approx(7400.0, rel=1e-3)
    assert out["fit"]["r2"] == pytest.approx(1.0)
    assert out["fit"]["slope_bytes_per_s"] == pytest.approx(0.0001 * HEAP_MAX)
    ev = out["evidence"]
    assert ev["start_uptime_s"] < ev["end_uptime_s"]
    assert len(ev["points"][model.UPTIME_S]) == out["points"]
    assert 1 <= len(ev["lines"]) <= 5 and ev["lines"][0].startswith("synthetic.log:")


def test_noisy_linear_floor_is_still_a_leak_and_slope_within_interval():
    out = verdict(heap_frame(lambda t: 20.0 + 0.02 * t, noise_pct=1.5, old_every_s=10))
    assert out["verdict"] == "leak"
    low, high = out["fit"]["slope_ci95_pct_per_hour"]
    assert low < 72.0 < high


def test_outlier_collections_do_not_make_a_level_floor_rise():
    spikes = [
        {
            model.UPTIME_S: t,
            model.CATEGORY: model.PAUSE,
            model.KIND: "full",
            model.HEAP_AFTER_BYTES: int(0.7 * HEAP_MAX),
            model.HEAP_COMMITTED_BYTES: HEAP_MAX,
            model.DURATION_MS: 80.0,
        }
        for t in (400.0, 455.0, 515.0, 575.0)  # System.gc() in the middle of bursts, late
    ]
    out = verdict(heap_frame(lambda t: np.full_like(t, 30.0), noise_pct=0.5, extra=spikes))
    assert out["verdict"] == "healthy"


def test_accelerating_floor_is_a_hockey_stick():
    out = verdict(heap_frame(lambda t: 10.0 + 0.00015 * t**2, old_every_s=10))
    assert out["verdict"] == "leak"
    assert out["shape"] == "hockey_stick"
    # The time to OOM uses the recent (steeper) half, so it is shorter than the whole-run line.
    assert out["evidence"]["recent_slope_pct_per_hour"] > out["slope_pct_per_hour"]
    whole_line_eta = (100 - out["evidence"]["floor_end_pct"]) / out["slope_pct_per_hour"] * 3600
    assert 0 < out["oom_eta_s"] < whole_line_eta


def test_floor_that_steps_up_and_holds_is_a_staircase():
    out = verdict(heap_frame(lambda t: 20.0 + 10.0 * np.floor(t / 150.0), old_every_s=10))
    assert out["verdict"] == "leak"
    assert out["shape"] == "staircase"


def test_heap_that_ran_out_is_a_leak_even_when_short():
    # 25 s from 40 % to 98 %, full GCs back to back at the end: shorter than min_span_s.
    frame = heap_frame(lambda t: np.minimum(40.0 + 2.4 * t, 98.0), seconds=30, old_every_s=1)
    out = verdict(frame, seconds=30)
    assert out["span_s"] < PARAMS["min_span_s"]
    assert out["verdict"] == "leak"
    assert out["shape"] == "hockey_stick"
    assert out["oom_eta_s"] == pytest.approx(0.0, abs=5.0)


def test_too_short_run_is_insufficient_evidence_with_reason():
    frame = heap_frame(lambda t: 20.0 + 0.05 * t, seconds=20, old_every_s=2)
    out = verdict(frame, seconds=20)
    assert out["verdict"] == "insufficient_evidence"
    assert out["shape"] is None and out["oom_eta_s"] is None
    assert "at least 30 s" in out["reason"]


def test_too_few_collections_is_insufficient_evidence():
    frame = heap_frame(lambda t: 20.0 + 0.05 * t, seconds=600, old_every_s=200, young_per_old=0)
    out = verdict(frame)
    assert out["verdict"] == "insufficient_evidence"
    assert "at least 6 floor points" in out["reason"]


def test_rising_envelope_without_old_collections_is_only_suspected():
    # Only young collections: their floor still holds old garbage, so never more than suspected.
    frame = heap_frame(lambda t: 20.0 + 0.02 * t, old_kind="young", old_every_s=10)
    out = verdict(frame)
    assert out["evidence"]["baseline"] == "lower_envelope"
    assert out["verdict"] == "suspected"
    assert out["slope_pct_per_hour"] > 0 and out["oom_eta_s"] is not None


def test_small_significant_rise_is_suspected_not_leak():
    # 10 %/h over 10 minutes is 1.7 points of max heap: rising, but below min_rise_pct (5).
    out = verdict(heap_frame(lambda t: 30.0 + 10.0 / 3600 * t, old_every_s=10))
    assert out["verdict"] == "suspected"
    assert "rose only" in out["reason"]


def test_slow_rise_below_threshold_is_healthy():
    out = verdict(heap_frame(lambda t: 30.0 + 3.0 / 3600 * t, old_every_s=10))
    assert out["verdict"] == "healthy"
    assert out["slope_pct_per_hour"] == pytest.approx(3.0, rel=1e-3)


def test_same_floor_as_concurrent_cycles_gives_the_same_verdict():
    """No collector-specific code: the floor read from concurrent cycles (ZGC, Shenandoah),
    from mixed collections (G1) or from full GCs (Parallel, Serial) gives one answer."""
    curve = lambda t: 20.0 + 0.01 * t
    as_full = verdict(heap_frame(curve))
    as_cycles = verdict(heap_frame(curve, old_kind=None, old_category=model.CONCURRENT))
    as_mixed = verdict(heap_frame(curve, old_kind="mixed"))
    for out in (as_cycles, as_mixed):
        assert out["verdict"] == as_full["verdict"] == "leak"
        assert out["slope_pct_per_hour"] == pytest.approx(as_full["slope_pct_per_hour"])


def test_young_only_concurrent_cycles_are_not_a_floor():
    frame = heap_frame(lambda t: 20.0 + 0.01 * t, old_kind="minor", old_category=model.CONCURRENT)
    out = verdict(frame)
    assert out["evidence"]["baseline"] == "lower_envelope"


def test_warm_up_is_excluded():
    # The heap fills during start-up (first minute), then stays level.
    out = verdict(heap_frame(lambda t: np.where(t < 60, 5.0 + t / 2, 35.0)))
    assert out["verdict"] == "healthy"
    assert out["evidence"]["warmup_end_s"] == pytest.approx(60.0)
    without = verdict(
        heap_frame(lambda t: np.where(t < 60, 5.0 + t / 2, 35.0)),
        warmup_pct=0.0,
        warmup_collections=0,
    )
    assert without["evidence"]["start_uptime_s"] < 60


def test_heap_max_from_committed_when_meta_lacks_it():
    frame = heap_frame(lambda t: 20.0 + 0.01 * t)
    out = leak_verdict(frame, meta(heap_max=None), PARAMS)
    assert out["verdict"] == "leak"
    assert out["evidence"]["heap_max_basis"] == "max heap_committed_bytes"


def test_no_heap_figures_is_insufficient_evidence():
    frame = heap_frame(lambda t: 20.0 + 0.01 * t).with_columns(
        **{
            c: None
            for c in (model.HEAP_AFTER_BYTES, model.HEAP_COMMITTED_BYTES, model.HEAP_BEFORE_BYTES)
        }
    )
    out = leak_verdict(model.conform_events(frame), meta(heap_max=None), PARAMS)
    assert out["verdict"] == "insufficient_evidence"
    assert out["verdict"] in VERDICTS
