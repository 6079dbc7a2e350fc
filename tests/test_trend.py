"""Trend code on synthetic series whose answers are known by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gcscope.analysis.trend import (
    acceleration,
    huber_fit,
    is_staircase,
    level_segments,
    lower_envelope,
    noise_sigma,
    theil_sen,
)

RNG_SEED = 20240601


def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


def test_level_series_has_zero_slope_and_no_trend():
    x = np.arange(50.0)
    y = np.full(50, 30.0)
    fit = theil_sen(x, y)
    assert fit.slope == 0
    assert fit.intercept == 30
    assert fit.p_value == 1.0
    assert not fit.rising


def test_exact_line_is_recovered():
    x = np.linspace(0, 3600, 40)
    y = 10 + 0.002 * x
    fit = theil_sen(x, y)
    assert fit.slope == pytest.approx(0.002)
    assert fit.intercept == pytest.approx(10)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.tau == pytest.approx(1.0)
    assert fit.p_value < 1e-6
    assert fit.slope_low == pytest.approx(0.002) and fit.slope_high == pytest.approx(0.002)
    assert fit.predict([100.0])[0] == pytest.approx(10.2)


def test_noisy_line_interval_covers_true_slope_and_is_significant():
    x = np.linspace(0, 100, 60)
    y = 5 + 0.3 * x + rng().normal(0, 2.0, x.size)
    fit = theil_sen(x, y)
    assert fit.slope_low < 0.3 < fit.slope_high
    assert fit.slope_low > 0  # 30 units of rise against noise of 2 is unmistakable
    assert fit.rising
    assert 0.8 < fit.r2 <= 1.0


def test_noisy_level_is_not_a_trend():
    x = np.linspace(0, 100, 60)
    y = 40 + rng().normal(0, 2.0, x.size)
    fit = theil_sen(x, y)
    assert fit.slope_low < 0 < fit.slope_high
    assert fit.p_value > 0.05
    assert not fit.rising


def test_outliers_do_not_move_the_theil_sen_slope_but_move_least_squares():
    x = np.arange(30.0)
    y = 2.0 * x + 1
    y[[3, 11, 19, 27]] += np.array([400.0, -350.0, 500.0, 380.0])  # ~13 % wild points
    fit = theil_sen(x, y)
    assert fit.slope == pytest.approx(2.0)
    lsq_slope = np.polyfit(x, y, 1)[0]
    assert abs(lsq_slope - 2.0) > 1.0  # the reason to be robust


def test_huber_fit_ignores_outliers_in_a_quadratic():
    x = np.linspace(-1, 1, 41)
    y = 3 + 2 * x + 5 * x**2
    y[[5, 20, 33]] += [40.0, -30.0, 50.0]
    beta, _ = huber_fit(np.column_stack([np.ones_like(x), x, x**2]), y)
    assert beta == pytest.approx([3, 2, 5], abs=0.3)


def test_long_series_is_thinned_but_reports_all_points():
    x = np.arange(5000.0)
    y = 0.5 * x
    fit = theil_sen(x, y, max_points=300)
    assert fit.n == 5000
    assert fit.slope == pytest.approx(0.5)


def test_too_few_points_is_an_error():
    with pytest.raises(ValueError):
        theil_sen([1.0], [2.0])
    with pytest.raises(ValueError):
        theil_sen([1.0, 1.0], [2.0, 3.0])


def test_accelerating_series_is_a_hockey_stick():
    x = np.linspace(0, 60, 40)
    y = 20 + 0.01 * x**2 + rng().normal(0, 0.3, x.size)
    acc = acceleration(x, y)
    assert acc.accelerating
    assert acc.slope_second > 2 * acc.slope_first > 0
    assert acc.curvature == pytest.approx(0.01, rel=0.3)


def test_flat_then_rising_is_a_hockey_stick():
    x = np.arange(40.0)
    y = np.where(x < 20, 30.0, 30.0 + 2.0 * (x - 20)) + rng().normal(0, 0.2, 40)
    acc = acceleration(x, y)
    assert acc.accelerating
    assert acc.ratio is None or acc.ratio > 2


def test_straight_line_is_not_accelerating():
    x = np.linspace(0, 60, 40)
    y = 20 + 0.5 * x + rng().normal(0, 0.5, x.size)
    acc = acceleration(x, y)
    assert not acc.accelerating
    assert acc.ratio == pytest.approx(1.0, abs=0.3)


def test_level_and_decelerating_series_are_not_accelerating():
    x = np.linspace(0, 60, 40)
    assert not acceleration(x, np.full(40, 50.0)).accelerating
    assert not acceleration(x, 50 * np.sqrt(x + 1)).accelerating


def test_noise_sigma_ignores_trend_and_steps():
    x = np.arange(200.0)
    noise = rng().normal(0, 1.5, x.size)
    assert noise_sigma(3 * x + noise) == pytest.approx(1.5, rel=0.2)
    assert noise_sigma(np.where(x < 100, 0, 80) + noise) == pytest.approx(1.5, rel=0.2)


def test_steps_are_found_where_they_are():
    x = np.arange(60.0)
    y = np.repeat([20.0, 35.0, 50.0], 20) + rng().normal(0, 0.5, 60)
    segs = level_segments(y)
    assert [(s.start, s.end) for s in segs] == [(0, 20), (20, 40), (40, 60)]
    assert [s.level for s in segs] == pytest.approx([20, 35, 50], abs=0.5)
    assert is_staircase(x, y, segs)


def test_step_with_outliers_is_still_a_staircase():
    x = np.arange(40.0)
    y = np.repeat([20.0, 40.0], 20) + rng().normal(0, 0.5, 40)
    y[7] = 70.0  # one collection that ran mid-burst
    segs = level_segments(y)
    assert len(segs) == 2
    assert is_staircase(x, y, segs)


def test_ramp_cut_into_pieces_is_not_a_staircase():
    x = np.arange(60.0)
    for y in (0.8 * x, 0.8 * x + rng().normal(0, 0.5, 60)):
        segs = level_segments(y)
        assert not is_staircase(x, y, segs)


def test_level_noise_is_one_segment():
    y = 40 + rng().normal(0, 1.0, 80)
    assert len(level_segments(y)) == 1
    assert not is_staircase(np.arange(80.0), y, level_segments(y))


def test_step_down_is_not_a_staircase():
    x = np.arange(40.0)
    y = np.repeat([50.0, 20.0], 20)
    segs = level_segments(y)
    assert len(segs) == 2
    assert not is_staircase(x, y, segs)


def test_lower_envelope_picks_the_troughs_of_a_sawtooth():
    x = np.arange(100.0)
    teeth = 10 + (x % 10) * 3  # troughs at 10 every 10 points
    ex, ey = lower_envelope(x, teeth, bins=10)
    assert ey.tolist() == [10.0] * 10
    assert ex.tolist() == [float(i) for i in range(0, 100, 10)]


def test_lower_envelope_of_one_point_and_nan_handling():
    ex, ey = lower_envelope([5.0, math.nan, 6.0], [1.0, 2.0, math.nan], bins=4)
    assert ex.tolist() == [5.0] and ey.tolist() == [1.0]
