"""`gcscope analyze` end to end on logs written by a real JVM (`sample_logs/`) and on public
logs (`../shared/corpus/`). Expected figures come from the log text itself, read here with
plain `re` (no code shared with the grammar engine), and from the JVM's own MXBean counts."""

from __future__ import annotations

import gzip
import itertools
import json
import math
import re
import statistics
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from gcscope import cli, model
from gcscope.analysis import AnalysisResult, analyze_logs
from gcscope.errors import ExitStatus

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs" / "jdk17"
CORPUS = ROOT.parent / "shared" / "corpus"
PARALLEL = SAMPLES / "parallel-gcstar-steady.log"
SERIAL = SAMPLES / "serial-gcstar-leak.log"
G1 = SAMPLES / "g1-gcstar-steady.log"
G1_GC_ONLY = SAMPLES / "g1-gc.log"

# The JSON contract (README, "JSON output"): key -> accepted types (None = JSON null).
NUM = (int, float)
NUM_OR_NULL = (int, float, type(None))
PAUSE_KEYS = {
    "count": (int,),
    "total_ms": NUM,
    "mean_ms": NUM_OR_NULL,
    "p50_ms": NUM_OR_NULL,
    "p90_ms": NUM_OR_NULL,
    "p95_ms": NUM_OR_NULL,
    "p99_ms": NUM_OR_NULL,
    "p999_ms": NUM_OR_NULL,
    "max_ms": NUM_OR_NULL,
}
RUN_KEYS = {
    "collector": (str, type(None)),
    "jvm_version": (str, type(None)),
    "start_uptime_s": NUM_OR_NULL,
    "end_uptime_s": NUM_OR_NULL,
    "pauses": (dict,),
    "throughput_pct": NUM_OR_NULL,
    "full_gc": (dict,),
    "old_gen": (dict,),
    "allocation_rate_mb_s": NUM_OR_NULL,
    "promotion_rate_mb_s": NUM_OR_NULL,
}
FULL_GC_KEYS = {"count": (int,), "max_per_5min": (int,)}
OLD_GEN_KEYS = {"saturation_last_pct": NUM_OR_NULL, "saturation_max_pct": NUM_OR_NULL}
PARSE_KEYS = {"files": (int,), "lines": (int,), "unknown_lines": (int,), "coverage_pct": NUM}
# Extra keys the README documents too (stable, but not part of the minimum).
RUN_EXTRA_KEYS = {
    "run_id": (int,),
    "files": (list,),
    "start_time": (str, type(None)),
    "heap_max_bytes": (int, type(None)),
    "region_size_bytes": (int, type(None)),
    "window_s": NUM,
    "throughput_worst_5min_pct": NUM_OR_NULL,
    "throughput_worst_5min_start_s": NUM_OR_NULL,
    "allocated_bytes": (int, type(None)),
    "promoted_bytes": (int, type(None)),
    "rate_span_s": NUM_OR_NULL,
    "series": (dict,),
    "leak": (dict, type(None)),
    "concurrent": (dict,),
    "stalls": (dict,),
    "degenerated_gc_count": (int,),
    "safepoints": (dict, type(None)),
}
CONCURRENT_KEYS = {
    "cycles": (int,),
    "total_ms": NUM_OR_NULL,
    "p50_ms": NUM_OR_NULL,
    "p99_ms": NUM_OR_NULL,
    "max_ms": NUM_OR_NULL,
    "per_minute": NUM_OR_NULL,
    "by_kind": (dict,),
}
STALL_KEYS = {"count": (int,), "total_ms": NUM_OR_NULL, "max_ms": NUM_OR_NULL}
SAFEPOINT_KEYS = {
    "count": (int,),
    "total_ms": NUM,
    "p50_ms": NUM,
    "p99_ms": NUM,
    "max_ms": NUM,
    "ttsp_p50_ms": NUM,
    "ttsp_p99_ms": NUM,
    "ttsp_max_ms": NUM,
    "by_operation": (dict,),
}
OLD_GEN_EXTRA_KEYS = {
    "time_above_threshold_s": NUM_OR_NULL,
    "threshold_pct": NUM,
    "basis": (str, type(None)),
    "samples": (int,),
}
PARSE_EXTRA_KEYS = {"per_file": (list,), "unknown": (list,), "skipped": (list,)}
TOP_KEYS = {"runs": (list,), "parse": (dict,), "findings": (list,), "schema_version": (int,)}


def run_cli(*argv: str, capsys) -> tuple[int, str, str]:
    status = cli.main(["analyze", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def analyze_json(*argv: str, capsys) -> dict:
    status, out, err = run_cli("--json", *argv, capsys=capsys)
    assert status == 0, err
    return json.loads(out)


def check_keys(obj: dict, spec: dict, where: str) -> None:
    for key, types in spec.items():
        assert key in obj, f"{where}.{key} missing"
        value = obj[key]
        if value is not None and types == NUM or types == NUM_OR_NULL:
            assert not isinstance(value, bool), f"{where}.{key} is a bool"
        assert isinstance(value, types), f"{where}.{key} = {value!r}, expected {types}"


# --- the log, read independently ------------------------------------------------------------------

UPTIME = re.compile(r"^\[(\d+\.\d+)s\]")
SUMMARY = re.compile(
    r"^\[(\d+\.\d+)s\]\[info\]\[gc\s*\] GC\((\d+)\) Pause (Young|Full)\b.*? "
    r"(\d+)M->(\d+)M\(\d+M\) (\d+\.\d+)ms$"
)
OLD_GEN_LINE = re.compile(r"(?:ParOldGen|Tenured): (\d+)K\((\d+)K\)->(\d+)K\((\d+)K\)")


def summary_pauses(path: Path) -> list[dict]:
    """Every `Pause Young|Full ... 24M->2M(92M) 6.224ms` summary line of a Parallel/Serial
    log: end uptime, kind, heap before/after (MB), duration."""
    found = []
    for line in path.read_text().splitlines():
        m = SUMMARY.match(line)
        if m:
            found.append(
                {
                    "end_s": float(m[1]),
                    "kind": m[3].lower(),
                    "before_mb": int(m[4]),
                    "after_mb": int(m[5]),
                    "ms": float(m[6]),
                }
            )
    return found


def uptimes(path: Path) -> list[float]:
    return [float(m[1]) for line in path.read_text().splitlines() if (m := UPTIME.match(line))]


def mxbean_count(path: Path) -> int:
    beans = json.loads(Path(f"{path}.mxbeans.json").read_text())["mxbeans"]
    return sum(bean["count"] for bean in beans.values())


# --- the contract -----------------------------------------------------------------------------------


G1_SAFEPOINT = SAMPLES / "g1-gcstar-safepoint.log"
SHENANDOAH = ROOT / "sample_logs" / "jdk21" / "shenandoah-gcstar.log"


@pytest.mark.parametrize("log", [PARALLEL, G1, G1_GC_ONLY, G1_SAFEPOINT, SHENANDOAH], ids=lambda p: p.name)
def test_json_has_every_documented_key_with_its_type(log, capsys):
    doc = analyze_json(str(log), capsys=capsys)
    check_keys(doc, TOP_KEYS, "result")
    assert len(doc["runs"]) == 1
    run = doc["runs"][0]
    check_keys(run, {**RUN_KEYS, **RUN_EXTRA_KEYS}, "runs[0]")
    check_keys(run["pauses"], PAUSE_KEYS, "pauses")
    assert run["pauses"]["by_kind"], "by_kind is empty"
    for kind, stats in run["pauses"]["by_kind"].items():
        assert kind in model.PAUSE_KINDS
        check_keys(stats, PAUSE_KEYS, f"pauses.by_kind.{kind}")
    check_keys(run["full_gc"], FULL_GC_KEYS, "full_gc")
    check_keys(run["old_gen"], {**OLD_GEN_KEYS, **OLD_GEN_EXTRA_KEYS}, "old_gen")
    check_keys(doc["parse"], {**PARSE_KEYS, **PARSE_EXTRA_KEYS}, "parse")
    check_keys(run["concurrent"], CONCURRENT_KEYS, "concurrent")
    for kind, stats in run["concurrent"]["by_kind"].items():
        # per kind: the same figures but the rate
        per_kind = {k: v for k, v in CONCURRENT_KEYS.items() if k not in ("by_kind", "per_minute")}
        check_keys(stats, per_kind, f"concurrent.by_kind.{kind}")
    check_keys(run["stalls"], STALL_KEYS, "stalls")
    if log == G1_SAFEPOINT:
        check_keys(run["safepoints"], SAFEPOINT_KEYS, "safepoints")
        assert run["safepoints"]["count"] > 0 and run["safepoints"]["by_operation"]
    elif log == G1_GC_ONLY:
        assert run["safepoints"] is None
    if log == SHENANDOAH:
        assert run["degenerated_gc_count"] == run["pauses"]["by_kind"]["degenerated"]["count"] > 0
        assert run["concurrent"]["cycles"] > 0
    series = run["series"]["heap_after_gc"]
    assert len(series["uptime_s"]) == len(series["heap_after_bytes"]) > 0


def test_readme_documents_every_json_key():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## JSON output") :]
    keys = [
        *TOP_KEYS,
        *RUN_KEYS,
        *RUN_EXTRA_KEYS,
        *PAUSE_KEYS,
        "by_kind",
        *FULL_GC_KEYS,
        *OLD_GEN_KEYS,
        *OLD_GEN_EXTRA_KEYS,
        *PARSE_KEYS,
        *PARSE_EXTRA_KEYS,
        *CONCURRENT_KEYS,
        *STALL_KEYS,
        *SAFEPOINT_KEYS,
        "warnings",  # parse.warnings, present when the input had any
        "heap_after_gc",
    ]
    missing = [k for k in keys if f"`{k}`" not in section]
    assert not missing, f"README's JSON section does not document {missing}"


def test_readme_documents_the_analyze_options_and_exit_codes():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## gcscope analyze") : readme.index("### JSON output")]
    for option in ("--json", "--strict", "--max-unknown N", "--events OUT"):
        assert f"| `{option}` |" in section, option
    for status in ExitStatus:
        if status != ExitStatus.TARGET_UNREACHABLE:  # analyze never talks to a live JVM
            assert f"| {int(status)} |" in section, status


def test_saved_json_reads_back_to_the_same_result(capsys):
    doc = analyze_json(str(G1), capsys=capsys)
    doc["thresholds"] = {"pause_threshold_ms": 200}  # a key a later feature adds
    again = AnalysisResult.from_dict(json.loads(json.dumps(doc)))
    assert again.to_dict() == doc
    assert (
        again.runs[0].pauses.by_kind["young"].count
        == doc["runs"][0]["pauses"]["by_kind"]["young"]["count"]
    )


def test_from_dict_names_the_missing_key():
    from gcscope.errors import InputError

    with pytest.raises(InputError, match=r"runs\[0\] lacks .*throughput_pct"):
        AnalysisResult.from_dict(
            {
                "runs": [
                    {
                        "collector": "G1",
                        "jvm_version": None,
                        "start_uptime_s": 0,
                        "end_uptime_s": 1,
                        "pauses": {},
                        "full_gc": {},
                        "old_gen": {},
                        "allocation_rate_mb_s": None,
                        "promotion_rate_mb_s": None,
                    }
                ],
                "parse": {},
            }
        )


# --- figures against the log itself -----------------------------------------------------------------


@pytest.mark.parametrize("log", [PARALLEL, SERIAL], ids=lambda p: p.name)
def test_pause_figures_match_the_summary_lines_and_the_jvm_counts(log, capsys):
    run = analyze_json(str(log), capsys=capsys)["runs"][0]
    pauses = summary_pauses(log)
    assert run["pauses"]["count"] == len(pauses) == mxbean_count(log)
    durations = [p["ms"] for p in pauses]
    assert run["pauses"]["total_ms"] == pytest.approx(math.fsum(durations))
    assert run["pauses"]["max_ms"] == max(durations)
    assert run["pauses"]["p99_ms"] == pytest.approx(
        statistics.quantiles(durations, n=100, method="inclusive")[98]
    )
    full = [p["ms"] for p in pauses if p["kind"] == "full"]
    assert run["pauses"]["by_kind"]["full"]["count"] == len(full) == run["full_gc"]["count"] > 0
    assert run["pauses"]["by_kind"]["full"]["p50_ms"] == pytest.approx(statistics.median(full))
    assert run["full_gc"]["max_per_5min"] == len(full)  # the whole run is under 5 minutes

    # Throughput: 1 - time in pauses over the run's wall time (whose bounds
    # test_run_spans_from_the_first_to_the_last_line checks). A pause ends at its line's
    # uptime; at millisecond resolution a full GC can overlap the young pause it follows, so
    # the pause time is the union of the intervals.
    paused_s, reach = 0.0, -math.inf
    for p in sorted(pauses, key=lambda p: p["end_s"] - p["ms"] / 1e3):
        start = max(p["end_s"] - p["ms"] / 1e3, reach)
        if p["end_s"] > start:
            paused_s += p["end_s"] - start
        reach = max(reach, p["end_s"])
    wall = run["end_uptime_s"] - run["start_uptime_s"]
    assert run["start_uptime_s"] == pytest.approx(uptimes(log)[0])
    assert run["end_uptime_s"] >= pauses[-1]["end_s"]
    assert run["throughput_pct"] == pytest.approx(100 * (1 - paused_s / wall), abs=1e-9)
    assert run["throughput_worst_5min_pct"] is None  # shorter than one window

    # Allocation between collections, from the summary lines (MB precision there, so approx).
    allocated = sum(max(0, b["before_mb"] - a["after_mb"]) for a, b in itertools.pairwise(pauses))
    span = (pauses[-1]["end_s"] - pauses[-1]["ms"] / 1e3) - pauses[0]["end_s"]
    assert run["allocation_rate_mb_s"] == pytest.approx(allocated / span, rel=0.03)


def test_run_spans_from_the_first_to_the_last_line(capsys):
    run = analyze_json(str(SERIAL), capsys=capsys)["runs"][0]
    times = uptimes(SERIAL)
    assert run["start_uptime_s"] == pytest.approx(times[0])
    assert run["end_uptime_s"] == pytest.approx(times[-1])


@pytest.mark.parametrize("log", [PARALLEL, SERIAL], ids=lambda p: p.name)
def test_old_gen_saturation_matches_the_old_generation_lines(log, capsys):
    run = analyze_json(str(log), capsys=capsys)["runs"][0]
    old = [(int(m[3]), int(m[4])) for m in OLD_GEN_LINE.finditer(log.read_text())]
    assert old, "the log has per-generation lines"
    pct = [100 * after / capacity for after, capacity in old]
    assert run["old_gen"]["saturation_last_pct"] == pytest.approx(pct[-1])
    assert run["old_gen"]["saturation_max_pct"] == pytest.approx(max(pct))
    assert run["old_gen"]["samples"] == len(old)
    assert run["old_gen"]["basis"] == "old/old_capacity"


def test_g1_old_gen_uses_old_and_humongous_regions_against_max_heap(capsys):
    run = analyze_json(str(G1), capsys=capsys)["runs"][0]
    text = G1.read_text()
    region = int(re.search(r"Heap Region Size: (\d+)M", text)[1]) * 1024 * 1024
    heap_max = int(re.search(r"Heap Max Capacity: (\d+)M", text)[1]) * 1024 * 1024
    old = [int(m) for m in re.findall(r"Old regions: \d+->(\d+)", text)]
    humongous = [int(m) for m in re.findall(r"Humongous regions: \d+->(\d+)", text)]
    assert len(old) == len(humongous) == run["old_gen"]["samples"]
    pct = [100 * (o + h) * region / heap_max for o, h in zip(old, humongous)]
    assert run["heap_max_bytes"] == heap_max
    assert run["old_gen"]["saturation_last_pct"] == pytest.approx(pct[-1])
    assert run["old_gen"]["saturation_max_pct"] == pytest.approx(max(pct))
    assert run["pauses"]["count"] == mxbean_count(G1) + sum(
        run["pauses"]["by_kind"].get(k, {}).get("count", 0) for k in ("remark", "cleanup")
    )


def test_gc_only_log_has_no_generation_figures(capsys):
    run = analyze_json(str(G1_GC_ONLY), capsys=capsys)["runs"][0]
    assert run["old_gen"]["saturation_last_pct"] is None
    assert run["promotion_rate_mb_s"] is None
    assert run["allocation_rate_mb_s"] > 0


# --- exit codes and options -------------------------------------------------------------------------


def with_garbage(tmp_path: Path, source: Path = PARALLEL) -> Path:
    lines = source.read_text().splitlines(keepends=True)
    lines.insert(30, "[1.000s][info][gc] this line is not a GC log line\n")
    bad = tmp_path / "with-garbage.log"
    bad.write_text("".join(lines))
    return bad


def test_strict_exits_1_on_an_unknown_line_and_still_reports(tmp_path, capsys):
    bad = with_garbage(tmp_path)
    status, out, err = run_cli("--strict", str(bad), capsys=capsys)
    assert status == ExitStatus.FINDINGS == 1
    assert "1 unknown" in out
    assert f"{bad}:31:" in out  # file:line of the unknown line
    assert "this line is not a GC log line" in out
    assert "--strict" in err
    status, out, _ = run_cli(str(bad), capsys=capsys)
    assert status == 0
    status, _, _ = run_cli("--strict", str(PARALLEL), capsys=capsys)
    assert status == 0


def test_cut_short_last_line_warns_on_stderr_and_in_json(tmp_path, capsys):
    data = PARALLEL.read_bytes()
    cut = data.rindex(b"Pause Young")  # inside the last pause summary line, before its duration
    cut = data.index(b"->", cut)
    path = tmp_path / "cut.log"
    path.write_bytes(data[:cut])
    last = data[:cut].count(b"\n") + 1
    status, out, err = run_cli(str(path), capsys=capsys)
    assert status == 0
    warning = (f"gcscope: warning: {path}:{last}: last line is cut short (no newline at the end): "
               "read as far as it goes")
    assert err.splitlines().count(warning) == 1, err
    status, out, err = run_cli("--json", str(path), capsys=capsys)
    assert status == 0 and warning in err.splitlines()
    assert json.loads(out)["parse"]["warnings"] == [{
        "file": str(path), "line": last, "kind": "truncated_last_line",
        "message": "last line is cut short (no newline at the end): read as far as it goes"}]
    status, _, err = run_cli("--strict", str(path), capsys=capsys)
    assert status == ExitStatus.FINDINGS


def test_crlf_line_endings_warn_once_and_read_as_lf(tmp_path, capsys):
    path = tmp_path / "windows.log"
    path.write_bytes(PARALLEL.read_bytes().replace(b"\n", b"\r\n"))
    expected = analyze_json(str(PARALLEL), capsys=capsys)
    status, out, err = run_cli("--json", str(path), capsys=capsys)
    assert status == 0
    warning = f"gcscope: warning: {path}: CRLF line endings (Windows copy): read as LF"
    assert [line for line in err.splitlines() if "warning" in line] == [warning]
    doc = json.loads(out)
    assert [w["kind"] for w in doc["parse"]["warnings"]] == ["crlf"]
    assert doc["parse"]["unknown_lines"] == 0
    assert doc["runs"][0]["pauses"] == expected["runs"][0]["pauses"]
    assert "warnings" not in expected["parse"]
    status, _, err = run_cli("--strict", str(path), capsys=capsys)
    assert status == ExitStatus.FINDINGS and "1 input warning" in err
    status, _, err = run_cli(str(PARALLEL), capsys=capsys)
    assert status == 0 and "warning" not in err


def test_summary_always_prints_coverage_and_the_pause_table(capsys):
    status, out, _ = run_cli(str(PARALLEL), capsys=capsys)
    assert status == 0
    assert "Parallel" in out and "17.0.15" in out
    assert re.search(r"Parsed 1 file, [\d,]+ lines, 0 unknown, coverage 100\.00 %", out)
    assert re.search(r"^young\s+179\s", out, re.MULTILINE)
    assert re.search(r"^full\s+5\s", out, re.MULTILINE)
    assert "Throughput" in out and "Old Gen" in out and "MB/s" in out


def test_json_keeps_stdout_pure_and_prints_coverage_on_stderr(tmp_path, capsys):
    status, out, err = run_cli(
        "--json", "--max-unknown", "0", str(with_garbage(tmp_path)), capsys=capsys
    )
    assert status == 0
    doc = json.loads(out)
    assert doc["parse"]["unknown_lines"] == 1 and doc["parse"]["unknown"] == []
    assert "coverage" in err


def test_max_unknown_limits_the_examples(tmp_path, capsys):
    doc = analyze_json("--max-unknown", "1", str(with_garbage(tmp_path)), capsys=capsys)
    [example] = doc["parse"]["unknown"]
    assert example["line"] == 31 and example["file"].endswith("with-garbage.log")
    assert "not a GC log line" in example["text"]
    assert example["explanation"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_events_file_round_trips(tmp_path, suffix, capsys):
    out_file = tmp_path / f"events{suffix}"
    doc = analyze_json("--events", str(out_file), str(SERIAL), capsys=capsys)
    if suffix == ".parquet":
        frame = pl.read_parquet(out_file)
    else:
        frame = pl.read_csv(out_file, schema=model.EVENT_SCHEMA)
    assert frame.columns == list(model.EVENT_SCHEMA)
    pauses = frame.filter(pl.col(model.CATEGORY) == model.PAUSE)
    assert pauses.height == doc["runs"][0]["pauses"]["count"]
    assert pauses[model.DURATION_MS].sum() == pytest.approx(doc["runs"][0]["pauses"]["total_ms"])
    expected = analyze_logs([str(SERIAL)]).runs[0].pauses.total_ms
    assert doc["runs"][0]["pauses"]["total_ms"] == expected


def test_bad_events_name_is_a_usage_error_before_reading(tmp_path, capsys):
    status, _, err = run_cli("--events", str(tmp_path / "e.txt"), "no-such.log", capsys=capsys)
    assert status == ExitStatus.USAGE == 2
    assert ".parquet or .csv" in err


def test_missing_file_exits_3_with_one_line(tmp_path, capsys):
    missing = tmp_path / "nope.log"
    status, out, err = run_cli(str(missing), capsys=capsys)
    assert status == ExitStatus.INPUT_UNREADABLE == 3
    assert out == ""
    assert err.count("\n") == 1 and "nope.log" in err and "Traceback" not in err


def test_console_script_reads_stdin_and_gz(tmp_path):
    packed = tmp_path / "serial.log.gz"
    packed.write_bytes(gzip.compress(SERIAL.read_bytes()))
    by_stdin = subprocess.run(
        [sys.executable, "-m", "gcscope.cli", "analyze", "--json", "-"],
        input=SERIAL.read_bytes(),
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert by_stdin.returncode == 0, by_stdin.stderr
    by_gz = subprocess.run(
        [sys.executable, "-m", "gcscope.cli", "analyze", "--json", str(packed)],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert by_gz.returncode == 0, by_gz.stderr
    a, b = json.loads(by_stdin.stdout)["runs"][0], json.loads(by_gz.stdout)["runs"][0]
    assert a["pauses"] == b["pauses"]
    assert a["pauses"]["count"] == mxbean_count(SERIAL)


def test_a_restart_in_the_input_is_reported_as_two_runs(tmp_path, capsys):
    # A JVM restart: a second log whose uptime starts again, appended to the first.
    restarted = tmp_path / "restarted.log"
    restarted.write_text(PARALLEL.read_text() + SERIAL.read_text())
    doc = analyze_json(str(restarted), capsys=capsys)
    assert [r["collector"] for r in doc["runs"]] == ["Parallel", "Serial"]
    assert [r["pauses"]["count"] for r in doc["runs"]] == [
        mxbean_count(PARALLEL),
        mxbean_count(SERIAL),
    ]
    first, second = doc["runs"]
    assert second["start_uptime_s"] < first["end_uptime_s"]  # timelines are not mixed
    assert first["start_uptime_s"] == pytest.approx(uptimes(PARALLEL)[0])
    assert second["start_uptime_s"] == pytest.approx(uptimes(SERIAL)[0])
    assert first["end_uptime_s"] < uptimes(SERIAL)[-1]


CORPUS_LOGS = [
    "GCGC/datasets/G1GC.log",
    "GCGC/datasets/ParallelGC.log",
    "GCGC/datasets/SerialGC.log",
    "GCGC/datasets/G1GCMetaspace.log",
]


@pytest.mark.parametrize("name", CORPUS_LOGS)
def test_corpus_logs_analyse_to_the_contract(name, capsys):
    path = CORPUS / name
    if not path.exists():
        pytest.fail(f"corpus file missing: {path}")
    doc = analyze_json(str(path), capsys=capsys)
    [run] = doc["runs"]
    check_keys(run, RUN_KEYS, name)
    # Each pause ends with one summary line on the bare `gc` tag: "GC(n) Pause ... 1.234ms".
    summary = re.findall(
        r"^\[[^]]+\]\[info\]\[gc\s*\] GC\(\d+\) Pause .* (\d+\.\d+)ms$",
        path.read_text(),
        re.MULTILINE,
    )
    assert run["pauses"]["count"] == len(summary) > 0
    assert run["pauses"]["total_ms"] == pytest.approx(math.fsum(float(d) for d in summary))
    assert 0 < run["throughput_pct"] < 100
    assert doc["parse"]["coverage_pct"] >= 99


def test_progress_bar_draws_only_on_a_terminal_and_for_large_inputs():
    import io
    import os
    import select

    from gcscope.report.plain import ProgressBar

    piped = io.StringIO()
    bar = ProgressBar(stream=piped, min_bytes=0)
    bar(1, 2)
    bar.close()
    assert not bar.enabled and piped.getvalue() == ""

    master, slave = os.openpty()
    try:
        with (
            os.fdopen(slave, "w") as terminal,
            ProgressBar(stream=terminal, min_bytes=1000) as bar,
        ):
            assert bar.enabled
            bar(10, 999)  # a small input: no bar
            assert bar._progress is None
            bar(500, 4000)
            bar(4000, 4000)
            assert bar._progress is not None
        drawn = b""
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # Linux: EIO once the terminal's other end is closed and drained
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(master)
    assert b"reading" in drawn
