"""Every threshold's valid range: values outside it are a configuration error naming the key
and the expected value (exit 2, no traceback); values at its edges run the rules on real logs
without failing."""

from __future__ import annotations

import math

import pytest

from gcscope.analysis import analyze_ingested
from gcscope.config import ConfigError, Threshold, catalogue, load_config
from gcscope.ingest import read_events
from tests.conftest import SAMPLE_LOGS
from tests.test_check_compare_cli import gcscope

G1_STEADY = SAMPLE_LOGS / "leak" / "g1-steady.log"
SERIAL_OOM = SAMPLE_LOGS / "leak" / "serial-oom.log"


def all_thresholds() -> list[tuple[str, Threshold]]:
    cat = catalogue()
    out = [
        (f"{rule_id}.{name}", t)
        for rule_id, spec in cat.rules.items()
        for name, t in spec.thresholds.items()
    ]
    out += [(f"compare.{name}", t) for name, t in cat.compare.items()]
    return out


NUMERIC = [(key, t) for key, t in all_thresholds() if not isinstance(t.default, bool)]
# Windows and durations: a length of time over which something is measured.
WINDOWS = [(key, t) for key, t in NUMERIC if key.endswith(("window_s", "sustained_s", "span_s"))]


def literal(value: float, like: object) -> str:
    if isinstance(like, int) and float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def outside(t: Threshold) -> list[float]:
    """Values just outside the threshold's range."""
    values = []
    step = 1 if isinstance(t.default, int) else 0.5
    if t.above is not None:
        values.append(t.above)
    elif t.minimum is not None:
        values.append(t.minimum - step)
    if t.maximum is not None:
        values.append(t.maximum + step)
    return values


def edges(t: Threshold) -> list[float]:
    """The extreme values the threshold accepts."""
    values = []
    if t.above is not None:
        values.append(t.above + (1 if isinstance(t.default, int) else 0.001))
    elif t.minimum is not None:
        values.append(t.minimum)
    if t.maximum is not None:
        values.append(t.maximum)
    return values


def test_windows_and_durations_must_be_above_zero():
    assert {key for key, _ in WINDOWS} >= {
        "GCS001.min_span_s",
        "GCS003.window_s",
        "GCS005.sustained_s",
        "GCS006.window_s",
    }
    for key, t in WINDOWS:
        assert t.above == 0, key
        assert not t.in_range(0.0), key


# Shares of something (of the heap, of wall time, percentage points): at most 100.
SHARES = {
    "GCS001.min_rise_pct",
    "GCS001.warmup_pct",
    "GCS001.exhausted_pct",
    "GCS002.saturation_pct",
    "GCS005.used_pct",
    "GCS006.gc_time_pct",
    "GCS007.warmup_pct",
    "GCS008.heap_pct",
    "compare.throughput_points",
    "compare.old_gen_points",
}


def test_every_default_is_in_its_range_and_the_ranges_say_what_they_mean():
    keys = {key for key, _ in NUMERIC}
    assert keys >= SHARES
    for key, t in NUMERIC:
        assert t.in_range(t.default), key
        assert not t.in_range(math.nan) and not t.in_range(math.inf), key
        assert (t.maximum == 100) == (key in SHARES), key
        if key.endswith("p_value"):
            assert (t.above, t.maximum) == (0, 1), key
        if key.endswith(("min_count", "min_gcs")):
            assert t.minimum == 1, key  # "at least 0 events" would fire on none


@pytest.mark.parametrize(("key", "threshold"), NUMERIC, ids=[k for k, _ in NUMERIC])
def test_values_outside_the_range_name_the_key_and_the_expected_value(key, threshold, tmp_path):
    assert outside(threshold), key  # every number has at least a lower bound
    for value in outside(threshold):
        assignment = f"{key}={literal(value, threshold.default)}"
        with pytest.raises(ConfigError) as caught:
            load_config(None, [assignment], cwd=tmp_path)
        message = str(caught.value)
        assert message.startswith(f"--set: {key}: expected {threshold.type_name}, got "), message
    for value in edges(threshold):
        config = load_config(None, [f"{key}={literal(value, threshold.default)}"], cwd=tmp_path)
        section, name = key.split(".")
        got = config.compare[name] if section == "compare" else config.threshold(section, name)
        assert got == pytest.approx(value)


@pytest.mark.parametrize("key", [k for k, _ in WINDOWS])
def test_a_zero_window_is_exit_2_naming_the_key_not_a_traceback(tmp_path, key):
    done = gcscope("check", G1_STEADY, "--set", f"{key}=0", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"--set: {key}: expected a number above 0, got 0" in done.stderr
    assert "Traceback" not in done.stderr and "ZeroDivisionError" not in done.stderr


def test_a_zero_window_in_a_file_is_exit_2_naming_the_file(tmp_path):
    config = tmp_path / "gcscope.toml"
    config.write_text("[rules.GCS006]\nwindow_s = 0\n", encoding="utf-8")
    done = gcscope("check", G1_STEADY, "--config", config, cwd=tmp_path)
    assert done.returncode == 2
    assert f"{config}: GCS006.window_s: expected a number above 0, got 0" in done.stderr


def test_non_finite_numbers_are_refused(tmp_path):
    for value in ("nan", "inf"):
        done = gcscope("check", G1_STEADY, "--set", f"GCS004.pause_ms={value}", cwd=tmp_path)
        assert done.returncode == 2
        assert "GCS004.pause_ms: expected a non-negative number" in done.stderr


@pytest.mark.parametrize("log", [G1_STEADY, SERIAL_OOM], ids=lambda p: p.name)
def test_every_threshold_at_the_edges_of_its_range_runs_on_a_real_log(log, tmp_path):
    ingest = read_events([log])
    for key, threshold in NUMERIC:
        if key.startswith("compare."):
            continue
        for value in edges(threshold):
            config = load_config(None, [f"{key}={literal(value, threshold.default)}"], cwd=tmp_path)
            result = analyze_ingested(ingest, config=config)  # must not raise
            assert result.runs[0].leak["verdict"], key
