"""`gcscope check`, `compare` and `rules` as a user (or a CI job) runs them: exit codes, JUnit
XML, JSON, and the configuration errors a user can make."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest

from gcscope.cli import main
from gcscope.config import ConfigError, catalogue, load_config
from tests.conftest import ROOT, SAMPLE_LOGS

LEAK = SAMPLE_LOGS / "leak"
PARALLEL_LEAK = LEAK / "parallel-leak.log"
PARALLEL_STEADY = LEAK / "parallel-steady.log"
G1_STEADY = LEAK / "g1-steady.log"
SERIAL_LEAK = LEAK / "serial-leak.log"
SERIAL_STEADY = LEAK / "serial-steady.log"


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def gcscope(*args: str, cwd: Path = ROOT) -> Done:
    """Run the command line in this process (as `gcscope ARGS` from `cwd`): the same code path
    as the console script, without paying for a new interpreter and polars per call."""
    out, err = io.StringIO(), io.StringIO()
    before = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main([str(a) for a in args])
    finally:
        os.chdir(before)
    return Done(int(status), out.getvalue(), err.getvalue())


def test_console_script_runs_check(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "gcscope.cli", "check", str(G1_STEADY)],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Leak verdict healthy" in done.stdout


# --- check ---------------------------------------------------------------------------------------


def test_check_exits_1_on_a_leak_and_0_on_a_steady_heap(tmp_path):
    leak = gcscope("check", PARALLEL_LEAK, cwd=tmp_path)
    assert leak.returncode == 1, leak.stderr
    assert "GCS001" in leak.stdout and "check failed" in leak.stderr
    steady = gcscope("check", G1_STEADY, cwd=tmp_path)
    assert steady.returncode == 0, steady.stdout + steady.stderr
    assert "check passed" in steady.stderr


def test_check_fail_on_warning_counts_warnings(tmp_path):
    # Parallel's steady heap still does more than one full GC in 5 minutes (GCS003, a warning).
    assert gcscope("check", PARALLEL_STEADY, cwd=tmp_path).returncode == 0
    warned = gcscope("check", PARALLEL_STEADY, "--fail-on", "warning", cwd=tmp_path)
    assert warned.returncode == 1
    assert "GCS003" in warned.stdout
    quiet = gcscope(
        "check",
        PARALLEL_STEADY,
        "--fail-on",
        "warning",
        "--set",
        "GCS003.enabled=false",
        cwd=tmp_path,
    )
    assert quiet.returncode == 0, quiet.stdout


def test_check_json_lists_findings_and_leak_per_run(tmp_path):
    done = gcscope("check", PARALLEL_LEAK, "--json", cwd=tmp_path)
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["runs"][0]["leak"]["verdict"] == "leak"
    ids = [f["id"] for f in result["findings"]]
    assert "GCS001" in ids
    assert result["config"]["rules"]["GCS001"]["slope_pct_per_hour"] == 5.0


def _junit(path: Path) -> tuple[ET.Element, list[ET.Element]]:
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    return suite, suite.findall("testcase")


def test_junit_has_one_case_per_rule_and_fails_those_with_findings(tmp_path):
    out = tmp_path / "gc.xml"
    done = gcscope(
        "check", PARALLEL_LEAK, "--json", "--junit", out, "--fail-on", "warning", cwd=tmp_path
    )
    findings = json.loads(done.stdout)["findings"]
    suite, cases = _junit(out)
    assert len(cases) == len(catalogue().rules) == int(suite.get("tests"))
    failed = {c.get("name").split()[0] for c in cases if c.find("failure") is not None}
    assert failed == {f["id"] for f in findings}  # every finding is a warning or an error
    assert int(suite.get("failures")) == len(failed)
    leak_case = next(c for c in cases if c.get("name").startswith("GCS001"))
    failure = leak_case.find("failure")
    assert failure.get("type") == "error"
    assert str(PARALLEL_LEAK) + ":" in failure.text  # the evidence lines


def test_junit_with_fail_on_error_keeps_warnings_as_output_only(tmp_path):
    out = tmp_path / "gc.xml"
    done = gcscope(
        "check", PARALLEL_STEADY, "--junit", out, "--set", "GCS011.enabled=false", cwd=tmp_path
    )
    assert done.returncode == 0
    suite, cases = _junit(out)
    assert int(suite.get("failures")) == 0
    assert int(suite.get("skipped")) == 1
    full_gcs = next(c for c in cases if c.get("name").startswith("GCS003"))
    assert full_gcs.find("failure") is None
    assert "full GCs" in full_gcs.find("system-out").text
    skipped = next(c for c in cases if c.get("name").startswith("GCS011"))
    assert skipped.find("skipped") is not None


def test_check_unreadable_log_exits_3(tmp_path):
    done = gcscope("check", tmp_path / "missing.log", cwd=tmp_path)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr


# --- configuration ------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[rules.GCS099]\npause_ms = 1\n", "GCS099: unknown rule"),
        ("[rules.GCS004]\npause_msec = 1\n", "GCS004.pause_msec: unknown key"),
        ('[rules.GCS004]\npause_ms = "long"\n', "GCS004.pause_ms: expected a non-negative number"),
        ("[rules.GCS004]\npause_ms = -5\n", "GCS004.pause_ms: expected a non-negative number"),
        ("[rules.GCS003]\nmax_per_window = 1.5\n", "expected a non-negative integer"),
        ('[rules.GCS003]\nenabled = "no"\n', "GCS003.enabled: expected true or false"),
        ('[rules.GCS003]\nseverity = "fatal"\n', "expected one of info, warning, error"),
        ("[compare]\np99_pause = 10\n", "compare.p99_pause: unknown key"),
        ("[limits]\nx = 1\n", "limits: unknown section"),
        ("[rules.GCS004\n", "invalid TOML"),
    ],
)
def test_config_errors_name_file_key_and_expected_type(tmp_path, toml, expected):
    path = write(tmp_path / "gcscope.toml", toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_bad_config_exits_2_before_reading_logs(tmp_path):
    write(tmp_path / "gcscope.toml", "[rules.GCS004]\npause_ms = -1\n")
    for command in ("check", "analyze"):
        done = gcscope(command, tmp_path / "not-read.log", cwd=tmp_path)
        assert done.returncode == 2, (command, done.stderr)
        assert "gcscope.toml: GCS004.pause_ms: expected a non-negative number" in done.stderr
        assert "Traceback" not in done.stderr


def test_set_errors_name_the_option(tmp_path):
    for assignment, expected in (
        ("GCS004.pause_ms=abc", "--set: GCS004.pause_ms: expected a non-negative number"),
        ("GCS004=3", "expected RULE.key=value"),
        ("GCS004.nope=3", "--set: GCS004.nope: unknown key"),
    ):
        done = gcscope("check", G1_STEADY, "--set", assignment, cwd=tmp_path)
        assert done.returncode == 2
        assert expected in done.stderr


def test_config_file_in_working_directory_and_set_override(tmp_path):
    write(tmp_path / "gcscope.toml", "[rules.GCS004]\npause_ms = 200\n[compare]\nleak = false\n")
    config = load_config(None, ["GCS004.pause_ms=300"], cwd=tmp_path)
    assert config.threshold("GCS004", "pause_ms") == 300.0
    assert config.compare["leak"] is False
    assert config.sources == [str(tmp_path / "gcscope.toml"), "--set GCS004.pause_ms"]
    explicit = write(tmp_path / "other.toml", "[rules.gcs004]\npause_ms = 100\n")
    assert load_config(explicit, cwd=tmp_path).threshold("GCS004", "pause_ms") == 100.0


def test_analyze_takes_config_and_set(tmp_path):
    base = json.loads(gcscope("analyze", "--json", PARALLEL_STEADY, cwd=tmp_path).stdout)
    assert "GCS003" in [f["id"] for f in base["findings"]]
    off = gcscope(
        "analyze", "--json", PARALLEL_STEADY, "--set", "GCS003.enabled=false", cwd=tmp_path
    )
    assert "GCS003" not in [f["id"] for f in json.loads(off.stdout)["findings"]]


# --- rules ---------------------------------------------------------------------------------------


def test_rules_lists_every_rule_with_thresholds(tmp_path):
    done = gcscope("rules", cwd=tmp_path)
    assert done.returncode == 0
    for rule_id, spec in catalogue().rules.items():
        assert rule_id in done.stdout
        for name in spec.thresholds:
            assert name in done.stdout
    data = json.loads(
        gcscope("rules", "--json", "--set", "GCS004.pause_ms=200", cwd=tmp_path).stdout
    )
    pause = next(r for r in data["rules"] if r["id"] == "GCS004")
    assert pause["thresholds"]["pause_ms"] == {
        "value": 200.0,
        "default": 500.0,
        "expected": "a non-negative number",
        "help": pause["thresholds"]["pause_ms"]["help"],
    }
    detail = gcscope("rules", "GCS001", cwd=tmp_path)
    assert "Advice" in detail.stdout and "GCS002" not in detail.stdout
    assert "p99_pause_pct" not in detail.stdout
    assert gcscope("rules", "GCS999", cwd=tmp_path).returncode == 2


def test_rules_lists_the_compare_tolerances_in_force(tmp_path):
    tolerances = catalogue().compare
    listed = gcscope("rules", cwd=tmp_path).stdout
    text = gcscope("rules", "compare", "--set", "compare.p99_pause_pct=7", cwd=tmp_path).stdout
    assert "GCS001" not in text
    for name in tolerances:
        assert name in listed and name in text
    assert "(default 20)" in " ".join(text.split())  # the column wraps
    data = json.loads(
        gcscope("rules", "--json", "--set", "compare.p99_pause_pct=7", cwd=tmp_path).stdout
    )
    assert set(data["compare"]) == set(tolerances)
    assert data["compare"]["p99_pause_pct"] == {
        "value": 7.0,
        "default": 20.0,
        "expected": "a non-negative number",
        "help": tolerances["p99_pause_pct"].help,
    }
    assert data["compare"]["leak"]["value"] is True
    only_rule = json.loads(gcscope("rules", "--json", "GCS004", cwd=tmp_path).stdout)
    assert "compare" not in only_rule and [r["id"] for r in only_rule["rules"]] == ["GCS004"]


# --- compare -------------------------------------------------------------------------------------


def test_compare_same_log_is_no_regression(tmp_path):
    done = gcscope("compare", SERIAL_STEADY, SERIAL_STEADY, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    out = json.loads(done.stdout)
    assert out["regression"] is False
    assert all(row["delta"] in (0, 0.0, None) for row in out["rows"])


def test_compare_steady_against_leak_is_a_regression(tmp_path):
    done = gcscope("compare", SERIAL_STEADY, SERIAL_LEAK, "--json", cwd=tmp_path)
    assert done.returncode == 1
    out = json.loads(done.stdout)
    assert "leak verdict" in out["regressions"]
    row = next(r for r in out["rows"] if r["metric"] == "leak verdict")
    assert (row["base"], row["candidate"]) == ("healthy", "leak")
    # The other way round the leak disappears: an improvement, not a regression.
    back = json.loads(gcscope("compare", SERIAL_LEAK, SERIAL_STEADY, "--json", cwd=tmp_path).stdout)
    assert next(r for r in back["rows"] if r["metric"] == "leak verdict")["status"] == "improved"


def test_compare_reads_saved_results_and_tolerances_decide(tmp_path):
    saved = tmp_path / "base.json"
    saved.write_text(gcscope("analyze", "--json", SERIAL_STEADY, cwd=tmp_path).stdout)
    base = json.loads(saved.read_text())["runs"][0]
    cand = json.loads(gcscope("analyze", "--json", SERIAL_LEAK, cwd=tmp_path).stdout)["runs"][0]
    drop = base["throughput_pct"] - cand["throughput_pct"]
    args = [
        "compare",
        saved,
        SERIAL_LEAK,
        "--json",
        "--set",
        "compare.leak=false",
        "--set",
        "compare.full_gc_rate_pct=1000",
        "--set",
        "compare.p99_pause_pct=1000",
        "--set",
        "compare.max_pause_pct=1000",
        "--set",
        "compare.old_gen_points=100",
    ]
    loose = gcscope(*args, "--set", f"compare.throughput_points={abs(drop) + 1}", cwd=tmp_path)
    assert loose.returncode == 0, loose.stdout
    if drop > 0.1:
        strict = gcscope(*args, "--set", f"compare.throughput_points={drop / 2}", cwd=tmp_path)
        assert strict.returncode == 1
        assert json.loads(strict.stdout)["regressions"] == ["throughput"]


def test_compare_bad_saved_result_exits_3(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"runs": 3}')
    done = gcscope("compare", bad, SERIAL_STEADY, cwd=tmp_path)
    assert done.returncode == 3
    assert str(bad) in done.stderr and "Traceback" not in done.stderr


def test_summary_shows_leak_verdict_and_findings_with_log_lines(tmp_path):
    done = gcscope("analyze", PARALLEL_LEAK, cwd=tmp_path)
    assert done.returncode == 0
    out = done.stdout
    assert "Leak verdict leak (rising floor)" in out
    assert "heap full in ~" in out
    assert "ERROR   GCS001" in out
    assert f"see {PARALLEL_LEAK}:" in out
    oom = gcscope("analyze", LEAK / "serial-oom.log", cwd=tmp_path).stdout
    assert "Leak verdict leak (hockey stick)" in oom and "heap already full" in oom
    short = gcscope("analyze", LEAK / "g1-leak-short.log", cwd=tmp_path).stdout
    assert "Leak verdict insufficient evidence" in short and "Findings none" in short


def test_compare_shows_no_leak_slope_for_a_run_without_verdict(tmp_path):
    short = LEAK / "g1-leak-short.log"
    done = gcscope("compare", short, SERIAL_LEAK, "--json", cwd=tmp_path)
    row = next(r for r in json.loads(done.stdout)["rows"] if r["metric"] == "leak slope")
    assert row["base"] is None and row["delta"] is None
    assert row["candidate"] > 0
    verdicts = next(r for r in json.loads(done.stdout)["rows"] if r["metric"] == "leak verdict")
    assert verdicts["base"] == "insufficient_evidence"
    # A result saved by an older gcscope still carries a slope for insufficient_evidence.
    saved = json.loads(gcscope("analyze", "--json", short, cwd=tmp_path).stdout)
    assert saved["runs"][0]["leak"]["slope_pct_per_hour"] is None
    saved["runs"][0]["leak"]["slope_pct_per_hour"] = 123.4
    old = tmp_path / "old.json"
    old.write_text(json.dumps(saved))
    again = json.loads(gcscope("compare", old, SERIAL_LEAK, "--json", cwd=tmp_path).stdout)
    assert next(r for r in again["rows"] if r["metric"] == "leak slope")["base"] is None
    table = gcscope("compare", old, SERIAL_LEAK, cwd=tmp_path).stdout
    slope_line = next(line for line in table.splitlines() if line.startswith("leak slope"))
    assert "123" not in slope_line and "–" in slope_line


# --- compare: each judged row, from two saved results -------------------------------------------

PAUSE_SUMMARY = re.compile(r"^\[([\d.]+)s\].*\bGC\(\d+\) Pause .* ([\d.]+)ms$")
UPTIME_DECORATION = re.compile(r"^\[([\d.]+)s\]")
# Every tolerance wide open: a test then narrows the one it judges.
LOOSE = {
    "p99_pause_pct": 100000,
    "max_pause_pct": 100000,
    "throughput_points": 100,
    "full_gc_rate_pct": 100000,
    "old_gen_points": 100,
    "leak": "false",
}


def raw_text(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()


def raw_figures(path: Path) -> dict[str, float]:
    """Pause p99 and max, full GCs per hour, from the raw log lines (not gcscope's engine)."""
    lines = raw_text(path).splitlines()
    pauses = np.array([float(m[2]) for line in lines if (m := PAUSE_SUMMARY.match(line))])
    uptimes = [float(m[1]) for line in lines if (m := UPTIME_DECORATION.match(line))]
    full = sum(1 for line in lines if "Pause Full (" in line and PAUSE_SUMMARY.match(line))
    return {
        "pause p99": float(np.percentile(pauses, 99)),
        "pause max": float(pauses.max()),
        "full GCs per hour": full / (max(uptimes) - min(uptimes)) * 3600.0,
    }


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """`gcscope analyze --json` of a log, saved once per module: saved(path) -> the JSON file."""
    where = tmp_path_factory.mktemp("saved")
    files: dict[Path, Path] = {}

    def save(path: Path) -> Path:
        if path not in files:
            done = gcscope("analyze", "--json", path, cwd=where)
            assert done.returncode == 0, done.stderr
            files[path] = where / f"{path.name}.json"
            files[path].write_text(done.stdout)
        return files[path]

    return save


def compare_saved(saved, base: Path, cand: Path, cwd: Path, **tolerances) -> tuple[Done, dict]:
    sets = []
    for key, value in {**LOOSE, **tolerances}.items():
        sets += ["--set", f"compare.{key}={value}"]
    done = gcscope("compare", saved(base), saved(cand), "--json", *sets, cwd=cwd)
    out = json.loads(done.stdout)
    return done, {row["metric"]: row for row in out["rows"]} | {"_out": out}


@pytest.mark.parametrize(
    ("metric", "key", "base", "cand", "unit"),
    [
        ("pause p99", "p99_pause_pct", SERIAL_STEADY, SERIAL_LEAK, "pct"),
        ("pause max", "max_pause_pct", SERIAL_STEADY, SERIAL_LEAK, "pct"),
        ("full GCs per hour", "full_gc_rate_pct", SERIAL_STEADY, SERIAL_LEAK, "pct"),
        ("Old Gen after GC (max)", "old_gen_points", G1_STEADY, LEAK / "g1-oom.log.gz", "points"),
    ],
)
def test_compare_judges_each_row_by_its_tolerance(saved, tmp_path, metric, key, base, cand, unit):
    done, rows = compare_saved(saved, base, cand, tmp_path)
    row = rows[metric]
    assert row["status"] == "ok"  # every tolerance wide open
    # (a base without full GCs makes any in the candidate a regression, whatever the tolerance)
    others = set(rows["_out"]["regressions"])
    assert others <= {"full GCs per hour"} and done.returncode == (1 if others else 0)
    b, c = row["base"], row["candidate"]
    assert row["delta"] == pytest.approx(c - b)
    if metric in ("pause p99", "pause max", "full GCs per hour"):  # the raw lines agree
        assert b == pytest.approx(raw_figures(base)[metric], rel=1e-3)
        assert c == pytest.approx(raw_figures(cand)[metric], rel=1e-3)
    if unit == "pct":
        change = (c - b) / b * 100.0
        assert row["delta_pct"] == pytest.approx(change)
    else:
        change = c - b
    # the candidate is clearly worse: +41 % p99, +333 % max, +330 % full GCs, +50 points
    assert change > 25
    # A tolerance just above the change passes, just below it is a regression of this row.
    above, below = round(change * 1.05, 3), round(change * 0.95, 3)
    done, rows = compare_saved(saved, base, cand, tmp_path, **{key: above})
    assert rows[metric]["status"] == "ok"
    assert set(rows["_out"]["regressions"]) == others
    assert rows[metric]["tolerance"].startswith(f"+{above:g} ")
    done, rows = compare_saved(saved, base, cand, tmp_path, **{key: below})
    assert done.returncode == 1
    assert set(rows["_out"]["regressions"]) == others | {metric}
    assert rows[metric]["status"] == "regression"
    # The other way round the change is an improvement (beyond the tolerance), no regression.
    back = (c - b) / c * 100.0 if unit == "pct" else change  # a share of the worse side now
    done, rows = compare_saved(saved, cand, base, tmp_path, **{key: round(back * 0.9, 3)})
    assert rows[metric]["status"] == "improved"
    assert metric not in rows["_out"]["regressions"]


def test_compare_full_gcs_where_the_base_had_none_is_a_regression(saved, tmp_path):
    g1_oom = LEAK / "g1-oom.log.gz"
    done, rows = compare_saved(saved, G1_STEADY, g1_oom, tmp_path, full_gc_rate_pct=1e6)
    row = rows["full GCs per hour"]
    assert row["base"] == 0.0 and row["candidate"] > 0 and row["delta_pct"] is None
    assert row["candidate"] == pytest.approx(raw_figures(g1_oom)["full GCs per hour"], rel=1e-3)
    assert row["status"] == "regression" and done.returncode == 1


def test_compare_of_two_saved_results_equals_compare_of_the_logs(saved, tmp_path):
    from_json = gcscope(
        "compare",
        saved(SERIAL_STEADY),
        saved(SERIAL_LEAK),
        "--json",
        cwd=tmp_path,
    )
    from_logs = gcscope("compare", SERIAL_STEADY, SERIAL_LEAK, "--json", cwd=tmp_path)
    assert from_json.returncode == from_logs.returncode == 1
    a, b = json.loads(from_json.stdout), json.loads(from_logs.stdout)
    assert a["rows"] == b["rows"]
    assert a["regressions"] == b["regressions"]
    assert a["base"].endswith(".json") and b["base"] == str(SERIAL_STEADY)
