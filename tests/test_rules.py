"""Each rule fires on a log that shows its problem and stays quiet on one that does not.

Real logs where the JVM wrote the problem (sample_logs/leak/, sample_logs/jdk17/), synthetic
event frames where a one-minute run cannot show it (a 5-minute plateau, metaspace growth,
allocation stalls, degenerated GCs). Expected figures come from plain regular expressions
over the raw log text, not from gcscope's engine.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from gcscope import model
from gcscope.analysis import analyze_logs
from gcscope.analysis.rules import RULES, evaluate, run_context
from gcscope.config import catalogue, load_config
from tests.conftest import SAMPLE_LOGS
from tests.leak_frames import MB, heap_frame, meta

LEAK = SAMPLE_LOGS / "leak"
G1_STEADY = LEAK / "g1-steady.log"
PARALLEL_STEADY = LEAK / "parallel-steady.log"
PARALLEL_LEAK = LEAK / "parallel-leak.log"
SERIAL_LEAK = LEAK / "serial-leak.log"
SERIAL_OOM = LEAK / "serial-oom.log"
G1_OOM = LEAK / "g1-oom.log.gz"
G1_HUMONGOUS = SAMPLE_LOGS / "jdk17" / "g1-gcstar-humongous.log"

PAUSE_LINE = re.compile(r"^\[([\d.]+)s\].*\bGC\((\d+)\) Pause .* ([\d.]+)ms$")
UPTIME = re.compile(r"^\[([\d.]+)s\]")


def text(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()


def pauses_ms(path: Path) -> list[float]:
    return [float(m[3]) for line in text(path).splitlines() if (m := PAUSE_LINE.match(line))]


def findings(path: Path, *sets: str, tmp_path: Path | None = None) -> dict[str, dict]:
    config = load_config(None, sets, cwd=tmp_path or Path("/nonexistent"))
    result = analyze_logs([path], config=config)
    by_id: dict[str, dict] = {}
    for finding in result.findings:
        assert finding["id"] not in by_id  # one finding per rule and run
        by_id[finding["id"]] = finding
    return by_id


def synthetic_findings(frame: pl.DataFrame, seconds: float = 600.0, *sets: str) -> dict:
    config = load_config(None, sets, cwd=Path("/nonexistent"))
    ctx = run_context(0, frame, meta(seconds), config)
    return {f["id"]: f for f in evaluate([ctx], config)}


def test_every_catalogue_rule_has_logic_and_every_logic_a_catalogue_entry():
    assert list(RULES) == list(catalogue().rules)
    for spec in catalogue().rules.values():
        assert spec.title and spec.explanation and spec.advice
        assert spec.severity in ("info", "warning", "error")


def test_findings_follow_the_json_contract():
    found = findings(PARALLEL_LEAK)
    for finding in found.values():
        assert set(finding) == {"id", "severity", "title", "message", "evidence"}
        evidence = finding["evidence"]
        assert {"run_id", "start_uptime_s", "end_uptime_s", "values", "lines"} <= set(evidence)
        assert 1 <= len(evidence["lines"]) <= 5
        for where in evidence["lines"]:
            file, line = where.rsplit(":", 1)
            assert file == str(PARALLEL_LEAK)
            assert "GC(" in text(PARALLEL_LEAK).splitlines()[int(line) - 1]


# --- GCS001 memory leak -------------------------------------------------------------------------


def test_gcs001_fires_on_a_leak_and_not_on_a_steady_heap():
    found = findings(PARALLEL_LEAK)["GCS001"]
    assert found["severity"] == "error"
    assert found["evidence"]["values"]["verdict"] == "leak"
    assert found["evidence"]["values"]["slope_pct_per_hour"] > 0
    assert "GCS001" not in findings(PARALLEL_STEADY)


def test_gcs001_suspected_leak_is_a_warning():
    # 10 %/h over 10 minutes: significant but below min_rise_pct, so only suspected.
    frame = heap_frame(lambda t: 30.0 + 10.0 / 3600 * t, old_every_s=10)
    found = synthetic_findings(frame)["GCS001"]
    assert found["severity"] == "warning"
    assert found["message"].startswith("Suspected")


# --- GCS002 old generation full after GC --------------------------------------------------------


def test_gcs002_fires_when_full_gcs_leave_old_gen_above_80_pct():
    # Serial prints "GC(n) Tenured: before(cap)->after(cap)"; count full GCs left above 80 %.
    tenured = re.compile(r"GC\((\d+)\) Tenured: \d+K\(\d+K\)->(\d+)K\((\d+)K\)")
    full_ids = {
        m[2]
        for line in text(SERIAL_LEAK).splitlines()
        if (m := PAUSE_LINE.match(line)) and "Pause Full" in line
    }
    above = 0
    for m in tenured.finditer(text(SERIAL_LEAK)):
        if m[1] in full_ids and int(m[2]) / int(m[3]) > 0.8:
            above += 1
    assert above > 0
    found = findings(SERIAL_LEAK)["GCS002"]
    assert found["evidence"]["values"]["collections_above"] == above
    assert found["evidence"]["values"]["collections"] == len(full_ids)


def test_gcs002_quiet_when_old_gen_stays_low():
    assert "GCS002" not in findings(G1_STEADY)
    assert "GCS002" not in findings(PARALLEL_LEAK, "GCS002.saturation_pct=99")


# --- GCS003 frequent full GCs -------------------------------------------------------------------


def test_gcs003_counts_full_gcs_in_the_window():
    fulls = [
        line
        for line in text(PARALLEL_STEADY).splitlines()
        if PAUSE_LINE.match(line) and "Pause Full" in line
    ]
    assert len(fulls) > 1
    found = findings(PARALLEL_STEADY)["GCS003"]
    assert found["evidence"]["values"]["max_in_window"] == len(fulls)  # one run < 5 minutes
    # A 5-second window holds at most a few of them.
    times = np.array([float(UPTIME.match(line)[1]) for line in fulls])
    most_in_5s = max(int(np.sum((times >= t) & (times < t + 5))) for t in times)
    narrow = findings(PARALLEL_STEADY, "GCS003.window_s=5")["GCS003"]
    assert narrow["evidence"]["values"]["max_in_window"] == most_in_5s


def test_gcs003_quiet_without_full_gcs_or_below_the_limit():
    assert "Pause Full" not in text(G1_STEADY)
    assert "GCS003" not in findings(G1_STEADY)
    fulls = sum(
        1
        for line in text(PARALLEL_STEADY).splitlines()
        if PAUSE_LINE.match(line) and "Pause Full" in line
    )
    assert "GCS003" not in findings(PARALLEL_STEADY, f"GCS003.max_per_window={fulls}")


# --- GCS004 long pause --------------------------------------------------------------------------


def test_gcs004_fires_for_pauses_above_the_threshold():
    durations = sorted(pauses_ms(SERIAL_OOM), reverse=True)
    assert durations[2] > durations[3]
    limit = (durations[2] + durations[3]) / 2  # exactly three pauses above it
    found = findings(SERIAL_OOM, f"GCS004.pause_ms={limit}")["GCS004"]
    assert found["evidence"]["values"]["count"] == 3
    assert found["evidence"]["values"]["max_ms"] == pytest.approx(durations[0], abs=0.001)
    assert len(found["evidence"]["lines"]) == 3


def test_gcs004_quiet_when_every_pause_is_shorter():
    longest = max(pauses_ms(G1_STEADY))
    assert longest < 500
    assert "GCS004" not in findings(G1_STEADY)
    assert "GCS004" not in findings(SERIAL_OOM, f"GCS004.pause_ms={max(pauses_ms(SERIAL_OOM))}")


# --- GCS005 heap nearly full of committed, sustained --------------------------------------------


def test_gcs005_fires_on_a_sustained_plateau_and_not_on_a_short_one():
    def plateau(seconds_high: float) -> pl.DataFrame:
        return heap_frame(
            lambda t: np.where((t > 100) & (t < 100 + seconds_high), 88.0, 40.0),
            old_every_s=10,
            young_per_old=0,
        )

    found = synthetic_findings(plateau(400))["GCS005"]
    assert found["evidence"]["values"]["duration_s"] == pytest.approx(400, abs=10)
    assert found["evidence"]["values"]["max_pct"] == pytest.approx(88.0, abs=0.1)
    assert "GCS005" not in synthetic_findings(plateau(200))


def test_gcs005_on_a_real_heap_that_ran_out():
    # serial-oom: the last seconds before the OutOfMemoryError, the heap stays full.
    found = findings(SERIAL_OOM, "GCS005.sustained_s=5")["GCS005"]
    assert found["evidence"]["values"]["duration_s"] >= 5
    assert found["evidence"]["values"]["max_pct"] > 85
    # the example lines are the streak's collections: pause lines at or after its start
    lines = SERIAL_OOM.read_text().splitlines()
    assert found["evidence"]["lines"]
    for example in found["evidence"]["lines"]:
        file, number = example.rsplit(":", 1)
        match = PAUSE_LINE.match(lines[int(number) - 1])
        assert file == str(SERIAL_OOM) and match, example
        assert float(match.group(1)) >= found["evidence"]["start_uptime_s"]
    assert "GCS005" not in findings(SERIAL_OOM)  # not 5 minutes long


# --- GCS006 GC overhead -------------------------------------------------------------------------


def test_gcs006_measures_pause_time_against_wall_time():
    lines = text(SERIAL_OOM).splitlines()
    wall_s = float(UPTIME.match(lines[-1])[1]) - float(UPTIME.match(lines[0])[1])
    expected = sum(pauses_ms(SERIAL_OOM)) / 1000 / wall_s * 100
    found = findings(SERIAL_OOM)["GCS006"]
    assert found["evidence"]["values"]["gc_time_pct"] == pytest.approx(expected, rel=0.03)


def test_gcs006_quiet_on_a_steady_heap():
    lines = text(G1_STEADY).splitlines()
    wall_s = float(UPTIME.match(lines[-1])[1]) - float(UPTIME.match(lines[0])[1])
    assert sum(pauses_ms(G1_STEADY)) / 1000 / wall_s * 100 < 10
    assert "GCS006" not in findings(G1_STEADY)


# --- GCS007 metaspace growth --------------------------------------------------------------------


def _with_metaspace(frame: pl.DataFrame, mb_at) -> pl.DataFrame:
    t = frame[model.UPTIME_S].to_numpy()
    return frame.with_columns(pl.Series(model.METASPACE_AFTER_BYTES, (mb_at(t) * MB).astype(int)))


def test_gcs007_fires_when_metaspace_keeps_growing():
    frame = _with_metaspace(heap_frame(lambda t: np.full_like(t, 30.0)), lambda t: 20 + t / 60)
    found = synthetic_findings(frame)["GCS007"]
    # After warm-up (60 s): from 21 MB to 30 MB, 43 %.
    assert found["evidence"]["values"]["growth_pct"] == pytest.approx(43, abs=3)


def test_gcs007_fires_on_a_real_class_loader_leak():
    # A new class loader every 2 ms, each kept with its class: metaspace after GC only grows.
    log = SAMPLE_LOGS / "jdk17" / "g1-gcstar-classes.log"
    after_kb = [int(m[1]) for m in re.finditer(r"Metaspace: \d+K\(\d+K\)->(\d+)K", text(log))]
    skip = len(after_kb) // 10  # the rule's warm-up: the first 10 % of the run
    raw_growth_pct = (after_kb[-1] / after_kb[skip] - 1) * 100
    assert raw_growth_pct > 100  # the log itself shows the leak
    found = findings(log)["GCS007"]
    assert found["evidence"]["values"]["growth_pct"] > 100
    assert found["evidence"]["lines"]  # points at the log's own lines


def test_gcs007_quiet_when_metaspace_levels_off():
    frame = _with_metaspace(
        heap_frame(lambda t: np.full_like(t, 30.0)), lambda t: np.minimum(20 + t / 2, 40)
    )
    assert "GCS007" not in synthetic_findings(frame)  # grows only during start-up
    assert "GCS007" not in findings(G1_STEADY)


# --- GCS008 humongous allocations ---------------------------------------------------------------


def test_gcs008_counts_collections_caused_by_humongous_allocations():
    caused = sum(
        1
        for line in text(G1_HUMONGOUS).splitlines()
        if PAUSE_LINE.match(line) and "(G1 Humongous Allocation)" in line
    )
    assert caused > 0
    found = findings(G1_HUMONGOUS)["GCS008"]
    assert found["evidence"]["values"]["gcs_caused"] == caused


def test_gcs008_quiet_without_humongous_objects():
    assert "Humongous Allocation" not in text(PARALLEL_STEADY)
    assert "GCS008" not in findings(PARALLEL_STEADY)


# --- GCS009 evacuation failure, GCS012 concurrent mode failure ----------------------------------


def test_gcs009_and_gcs012_fire_on_a_g1_heap_that_ran_out():
    raw = text(G1_OOM)
    exhausted = len(re.findall(r"GC\(\d+\) To-space exhausted", raw))
    aborted = len(re.findall(r"GC\(\d+\) Concurrent Mark Abort", raw))
    assert exhausted and aborted
    found = findings(G1_OOM)
    assert found["GCS009"]["evidence"]["values"]["count"] == exhausted
    assert found["GCS009"]["severity"] == "error"
    assert found["GCS012"]["evidence"]["values"]["count"] == aborted
    # said in G1's words, the CMS term in brackets
    assert found["GCS012"]["message"].startswith(
        f"{aborted} full GC(s) while concurrent marking ran (concurrent mode failure)")


def test_gcs009_and_gcs012_quiet_on_a_steady_heap():
    assert "To-space exhausted" not in text(G1_STEADY)
    found = findings(G1_STEADY)
    assert "GCS009" not in found and "GCS012" not in found


# --- GCS010 allocation stalls, GCS011 degenerated GCs -------------------------------------------


def _event(t: float, category: str, kind: str | None, duration_ms: float) -> dict:
    return {
        model.UPTIME_S: t,
        model.CATEGORY: category,
        model.KIND: kind,
        model.DURATION_MS: duration_ms,
        model.NAME: "Allocation Stall" if category == model.STALL else "Pause Degenerated GC",
    }


def test_gcs010_fires_on_allocation_stalls():
    stalls = [_event(t, model.STALL, None, 12.5) for t in (100.0, 200.0, 300.0)]
    found = synthetic_findings(heap_frame(lambda t: np.full_like(t, 30.0), extra=stalls))
    assert found["GCS010"]["evidence"]["values"] == {"count": 3, "total_ms": 37.5, "max_ms": 12.5}
    assert found["GCS010"]["evidence"]["start_uptime_s"] == 100.0


def test_gcs011_fires_on_degenerated_gcs():
    degenerated = [_event(t, model.PAUSE, "degenerated", 80.0) for t in (150.0, 450.0)]
    found = synthetic_findings(heap_frame(lambda t: np.full_like(t, 30.0), extra=degenerated))
    assert found["GCS011"]["evidence"]["values"]["count"] == 2
    assert "GCS010" not in found


def test_gcs010_and_gcs011_on_real_zgc_and_shenandoah_logs():
    zgc = SAMPLE_LOGS / "jdk17" / "zgc-gc.log"
    stalls_ms = [float(m[1]) for m in re.finditer(r"\] Allocation Stall \([^)]*\) ([\d.]+)ms", text(zgc))]
    assert stalls_ms  # the JVM wrote stall lines
    found = findings(zgc)["GCS010"]["evidence"]["values"]
    assert found["count"] == len(stalls_ms)
    assert found["max_ms"] == pytest.approx(max(stalls_ms))
    shenandoah = SAMPLE_LOGS / "jdk17" / "shenandoah-gcstar-degenerated.log"
    degenerated = re.findall(r"\] GC\(\d+\) Pause Degenerated GC \([^)]*\) [^\n]*ms$", text(shenandoah), re.MULTILINE)
    assert degenerated
    assert findings(shenandoah)["GCS011"]["evidence"]["values"]["count"] == len(degenerated)


def test_gcs010_gcs011_quiet_without_such_events():
    found = synthetic_findings(heap_frame(lambda t: np.full_like(t, 30.0)))
    assert "GCS010" not in found and "GCS011" not in found
    found = findings(G1_STEADY)
    assert "GCS010" not in found and "GCS011" not in found


# --- configuration of rules ---------------------------------------------------------------------


def test_disabled_rule_and_changed_severity():
    assert "GCS003" not in findings(PARALLEL_STEADY, "GCS003.enabled=false")
    assert findings(PARALLEL_STEADY, "GCS003.severity=error")["GCS003"]["severity"] == "error"


def test_thresholds_in_force_are_in_the_evidence():
    found = findings(PARALLEL_STEADY, "GCS003.window_s=60")["GCS003"]
    assert found["evidence"]["thresholds"] == {"max_per_window": 1, "window_s": 60.0}
