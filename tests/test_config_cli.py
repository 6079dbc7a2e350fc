"""Thresholds through the command line: `--config FILE`, ./gcscope.toml, `--set`, and the leak
verdict's warm-up configured by each, on real logs from sample_logs/leak/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_LOGS
from tests.test_check_compare_cli import gcscope

LEAK = SAMPLE_LOGS / "leak"
SERIAL_LEAK = LEAK / "serial-leak.log"
SERIAL_STEADY = LEAK / "serial-steady.log"
G1_STEADY = LEAK / "g1-steady.log"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def analysed(*args, cwd: Path) -> dict:
    done = gcscope("analyze", "--json", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def finding_ids(result: dict) -> set[str]:
    return {f["id"] for f in result["findings"]}


# --- --config FILE ------------------------------------------------------------------------------


def test_config_file_given_on_the_command_line_sets_thresholds(tmp_path):
    config = write(tmp_path / "ci" / "thresholds.toml", "[rules.GCS004]\npause_ms = 50\n")
    default = analysed(G1_STEADY, cwd=tmp_path)
    assert "GCS004" not in finding_ids(default)  # the longest pause is 197 ms, under 500
    strict = analysed(G1_STEADY, "--config", config, cwd=tmp_path)
    gcs004 = next(f for f in strict["findings"] if f["id"] == "GCS004")
    assert gcs004["evidence"]["thresholds"] == {"pause_ms": 50.0}
    assert gcs004["evidence"]["values"]["max_ms"] > 50
    assert strict["config"]["sources"] == [str(config)]
    assert strict["thresholds"]["pause_threshold_ms"] == 50.0
    # check gates on it too: GCS004 is a warning
    assert gcscope("check", G1_STEADY, "--config", config, cwd=tmp_path).returncode == 0
    warned = gcscope("check", G1_STEADY, "--config", config, "--fail-on", "warning", cwd=tmp_path)
    assert warned.returncode == 1 and "GCS004" in warned.stdout


def test_config_file_replaces_the_working_directory_one_and_set_overrides_it(tmp_path):
    write(tmp_path / "gcscope.toml", "[rules.GCS004]\npause_ms = 10\n")
    other = write(tmp_path / "other.toml", "[rules.GCS004]\npause_ms = 100\n")
    from_cwd = analysed(G1_STEADY, cwd=tmp_path)
    assert from_cwd["config"]["rules"]["GCS004"]["pause_ms"] == 10.0
    given = analysed(G1_STEADY, "--config", other, cwd=tmp_path)
    assert given["config"]["rules"]["GCS004"]["pause_ms"] == 100.0  # ./gcscope.toml not read
    assert given["config"]["sources"] == [str(other)]
    both = analysed(G1_STEADY, "--config", other, "--set", "GCS004.pause_ms=300", cwd=tmp_path)
    assert both["config"]["rules"]["GCS004"]["pause_ms"] == 300.0
    assert both["config"]["sources"] == [str(other), "--set GCS004.pause_ms"]
    assert "GCS004" not in finding_ids(both)


@pytest.mark.parametrize("command", ["analyze", "check", "compare", "rules"])
def test_a_missing_or_bad_config_file_is_exit_2_naming_it(tmp_path, command):
    logs = {"analyze": [G1_STEADY], "check": [G1_STEADY], "compare": [G1_STEADY, G1_STEADY]}
    missing = tmp_path / "nope.toml"
    done = gcscope(command, *logs.get(command, []), "--config", missing, cwd=tmp_path)
    assert done.returncode == 2
    assert f"{missing}: no such configuration file" in done.stderr
    bad = write(tmp_path / "bad.toml", "[rules.GCS003]\nwindow_s = 0\n")
    done = gcscope(command, *logs.get(command, []), "--config", bad, cwd=tmp_path)
    assert done.returncode == 2
    assert f"{bad}: GCS003.window_s: expected a number above 0, got 0" in done.stderr
    assert "Traceback" not in done.stderr


def test_compare_and_rules_read_the_config_file(tmp_path):
    config = write(
        tmp_path / "t.toml",
        "[compare]\nleak = false\nfull_gc_rate_pct = 100000\n"
        "p99_pause_pct = 100000\nmax_pause_pct = 100000\nthroughput_points = 100\n",
    )
    done = gcscope(
        "compare", SERIAL_STEADY, SERIAL_LEAK, "--json", "--config", config, cwd=tmp_path
    )
    out = json.loads(done.stdout)
    assert done.returncode == 0, out["regressions"]
    assert out["tolerances"]["leak"] is False
    listed = json.loads(gcscope("rules", "--json", "--config", config, cwd=tmp_path).stdout)
    assert listed["compare"]["full_gc_rate_pct"]["value"] == 100000.0


# --- warm-up of the leak verdict ----------------------------------------------------------------


def leak_of(result: dict) -> dict:
    (run,) = result["runs"]
    return run["leak"] | {"_run": run}


def test_warm_up_in_gcscope_toml_and_set_change_the_verdicts_points(tmp_path):
    default = leak_of(analysed(SERIAL_LEAK, cwd=tmp_path))
    run = default["_run"]
    span = run["end_uptime_s"] - run["start_uptime_s"]
    assert default["evidence"]["warmup_end_s"] == pytest.approx(run["start_uptime_s"] + 0.1 * span)

    write(tmp_path / "gcscope.toml", "[rules.GCS001]\nwarmup_pct = 30\nwarmup_max_s = 300\n")
    later = leak_of(analysed(SERIAL_LEAK, cwd=tmp_path))
    warmup_end = run["start_uptime_s"] + 0.3 * span
    assert later["evidence"]["warmup_end_s"] == pytest.approx(warmup_end)
    assert min(later["evidence"]["points"]["uptime_s"]) >= warmup_end
    # (the number of points stays near 30: the floor is thinned to 60 time bins of what is left)
    assert min(later["evidence"]["points"]["uptime_s"]) > min(
        default["evidence"]["points"]["uptime_s"]
    )
    assert later["points"] == len(later["evidence"]["points"]["uptime_s"])
    assert later["evidence"]["old_collections"] < default["evidence"]["old_collections"]
    assert later["verdict"] == "leak"  # still enough: 44 s of a rising floor

    # --set overrides the file: no warm-up at all, by time or by collections
    none = leak_of(
        analysed(
            SERIAL_LEAK,
            "--set",
            "GCS001.warmup_pct=0",
            "--set",
            "GCS001.warmup_collections=0",
            cwd=tmp_path,
        )
    )
    assert none["evidence"]["warmup_end_s"] == pytest.approx(run["start_uptime_s"])
    assert none["evidence"]["old_collections"] > default["evidence"]["old_collections"]
    assert min(none["evidence"]["points"]["uptime_s"]) < min(
        default["evidence"]["points"]["uptime_s"]
    )

    # a cap in seconds wins over the share of the run
    capped = leak_of(analysed(SERIAL_LEAK, "--set", "GCS001.warmup_max_s=2", cwd=tmp_path))
    assert capped["evidence"]["warmup_end_s"] == pytest.approx(run["start_uptime_s"] + 2.0)

    # a warm-up that leaves too little to tell: no verdict, and no slope
    most = leak_of(analysed(SERIAL_LEAK, "--set", "GCS001.warmup_pct=95", cwd=tmp_path))
    assert most["verdict"] == "insufficient_evidence"
    assert most["slope_pct_per_hour"] is None and most["fit"] is None


def test_check_follows_the_configured_warm_up(tmp_path):
    assert gcscope("check", SERIAL_LEAK, cwd=tmp_path).returncode == 1  # GCS001, an error
    write(tmp_path / "gcscope.toml", "[rules.GCS001]\nwarmup_pct = 95\n")
    done = gcscope("check", SERIAL_LEAK, "--json", cwd=tmp_path)
    result = json.loads(done.stdout)
    assert result["runs"][0]["leak"]["verdict"] == "insufficient_evidence"
    assert "GCS001" not in finding_ids(result)
