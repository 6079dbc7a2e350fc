"""Recordings: append, survive a cut last line, replay into the model, analyse like a log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from gcscope import model
from gcscope.errors import InputError
from gcscope.live.recording import Recorder, read_recording
from gcscope.live.samples import Poll

MB = 2**20


def poll_at(uptime_s: float, old_used: int, young_count: int) -> Poll:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    pools = [
        {
            model.UPTIME_S: uptime_s,
            model.TIME: now,
            model.POOL: "G1 Old Gen",
            model.POOL_CATEGORY: "old",
            model.USED_BYTES: old_used,
            model.COMMITTED_BYTES: 64 * MB,
            model.MAX_BYTES: 256 * MB,
        },
        {
            model.UPTIME_S: uptime_s,
            model.TIME: now,
            model.POOL: "G1 Eden Space",
            model.POOL_CATEGORY: "eden",
            model.USED_BYTES: 3 * MB,
            model.COMMITTED_BYTES: 20 * MB,
            model.MAX_BYTES: None,
        },
    ]
    collectors = [
        {
            model.UPTIME_S: uptime_s,
            model.TIME: now,
            model.COLLECTOR: "G1 Young Generation",
            model.CATEGORY: model.PAUSE,
            model.COLLECTION_COUNT: young_count,
            model.COLLECTION_TIME_MS: 2.0 * young_count,
        }
    ]
    return Poll(uptime_s, now, pools, collectors)


def gc_row(gc_id: int, uptime_s: float, after: int, kind: str = "young") -> dict:
    return {
        model.GC_ID: gc_id,
        model.UPTIME_S: uptime_s,
        model.CATEGORY: model.PAUSE,
        model.KIND: kind,
        model.NAME: "G1 Young Generation",
        model.CAUSE: "G1 Evacuation Pause",
        model.DURATION_MS: 4.0,
        model.HEAP_BEFORE_BYTES: after + 20 * MB,
        model.HEAP_AFTER_BYTES: after,
        model.HEAP_COMMITTED_BYTES: 84 * MB,
        "action": "end of minor GC",
    }


def write_run(path, *, pid: int, polls: int = 5) -> None:
    rec = Recorder(path)
    rec.start_run(
        {
            "target": "127.0.0.1:1",
            "source": "jmx",
            "collector": "G1",
            "jvm_version": "17",
            "heap_max_bytes": 256 * MB,
            "pid": pid,
        }
    )
    for i in range(polls):
        rec.poll(poll_at(10.0 + i, (10 + i) * MB, i))
        rec.event(gc_row(i + 1, 10.5 + i, (30 + i) * MB))
        rec.flush()
    rec.close()


def test_replay_gives_the_model_frames(tmp_path):
    path = tmp_path / "r.jsonl"
    write_run(path, pid=42)
    replay = read_recording(path)
    assert replay.events.columns == list(model.EVENT_SCHEMA)
    assert replay.events.height == 5
    assert replay.events[model.HEAP_AFTER_BYTES].to_list() == [(30 + i) * MB for i in range(5)]
    assert replay.events[model.SOURCE_FILE][0] == str(path)
    assert replay.events[model.SOURCE_LINE][0] == 4  # header, run, poll, then the gc line
    assert replay.samples.schema == model.SAMPLE_SCHEMA
    assert replay.samples.height == 10  # 5 polls × 2 pools
    assert replay.collectors[model.COLLECTION_COUNT].to_list() == [0, 1, 2, 3, 4]
    (run,) = replay.runs
    assert run["collector"] == "G1" and run["pid"] == 42
    assert (run["start_uptime_s"], run["end_uptime_s"]) == (10.0, 14.0)


def test_a_line_cut_by_a_kill_is_ignored_and_appending_starts_clean(tmp_path):
    path = tmp_path / "r.jsonl"
    write_run(path, pid=1)
    with open(path, "a") as fh:
        fh.write('{"rec":"poll","run_id":0,"uptime_s":15.0,"pools":[["G1 Old')  # kill -9 here
    replay = read_recording(path)
    assert replay.samples.height == 10 and replay.bad_lines == [replay.lines]
    write_run(path, pid=2)  # a later watch appends a new run
    replay = read_recording(path)
    assert [r["pid"] for r in replay.runs] == [1, 2]
    assert [r[model.RUN_ID] for r in replay.runs] == [0, 1]
    assert replay.events.filter(replay.events[model.RUN_ID] == 1).height == 5


def test_damage_in_the_middle_is_an_error_with_the_line(tmp_path):
    path = tmp_path / "r.jsonl"
    write_run(path, pid=1)
    lines = path.read_text().splitlines()
    lines[3] = lines[3][:20]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"r.jsonl:4: not valid JSON"):
        read_recording(path)


def test_not_a_recording(tmp_path):
    path = tmp_path / "gc.log"
    path.write_text("[0.001s][info][gc] Using G1\n")
    with pytest.raises(InputError, match="not a gcscope recording"):
        Recorder(path)
    with pytest.raises(InputError, match="no such recording"):
        read_recording(tmp_path / "missing.jsonl")


def test_every_record_is_one_json_object_per_line(tmp_path):
    path = tmp_path / "r.jsonl"
    write_run(path, pid=1)
    kinds = [json.loads(line)["rec"] for line in path.read_text().splitlines()]
    assert kinds[:3] == ["header", "run", "poll"] and kinds.count("gc") == 5


def test_recording_analyses_like_a_log(tmp_path):
    from gcscope.analysis import analyze_ingested
    from gcscope.live.recording import ingest_with_recordings

    path = tmp_path / "r.jsonl"
    write_run(path, pid=1)
    args = SimpleNamespace(logs=[], recording=[str(path)])
    ingest = ingest_with_recordings(args, read_logs=None)
    result = analyze_ingested(ingest).to_dict()
    (run,) = result["runs"]
    assert run["collector"] == "G1"
    assert run["pauses"]["count"] == 5 and run["pauses"]["total_ms"] == pytest.approx(20.0)
    assert result["parse"]["files"] == 1


def test_analyze_command_reads_a_recording_with_a_log(tmp_path):
    import glob

    from tests.jmx_support import ROOT, gcscope

    logs = sorted(glob.glob(str(ROOT / "sample_logs" / "**" / "*.log"), recursive=True))
    if not logs:
        pytest.skip("sample_logs/ not generated yet")
    path = tmp_path / "r.jsonl"
    write_run(path, pid=1)
    done = gcscope("analyze", logs[0], "--recording", str(path), "--json", timeout=120)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["runs"][-1]["pauses"]["count"] == 5
    assert len(doc["runs"]) >= 2 and doc["parse"]["files"] == 2


def test_uptime_offset_finds_the_shift_and_refuses_an_unrelated_jvm():
    import numpy as np

    from gcscope.live.recording import uptime_offset

    rng = np.random.default_rng(7)
    log_times = np.cumsum(1.0 + rng.uniform(-0.05, 0.05, 60))  # nearly periodic collections
    rec_times = log_times[20:40] - 0.2173  # the management layer started 217 ms later
    assert uptime_offset(log_times, rec_times) == (0.2173, 20)
    other = np.sort(rng.uniform(20, 40, 20))  # another JVM's collections
    assert uptime_offset(log_times, other) is None
    assert uptime_offset(log_times, rec_times[:2]) is None  # too few to tell


def test_a_recordings_pool_samples_reach_the_saved_result_and_its_pools_chart(tmp_path):
    import polars as pl

    from tests.jmx_support import gcscope

    path = tmp_path / "r.jsonl"
    write_run(path, pid=1)
    write_run(path, pid=2)  # a second run: its samples keep their own run id
    saved = tmp_path / "out.json"
    done = gcscope("analyze", "--recording", str(path), "--save", str(saved), timeout=120)
    assert done.returncode == 0, done.stderr
    samples = pl.read_parquet(tmp_path / "out.samples.parquet")
    assert samples.height == 20 and sorted(samples[model.RUN_ID].unique().to_list()) == [0, 1]
    charts = tmp_path / "charts"
    done = gcscope("report", str(saved), "--png", str(charts), timeout=120)
    assert done.returncode == 0, done.stderr
    assert any("pools" in p.name for p in charts.glob("*.png")), sorted(charts.iterdir())
