"""`gcscope analyze --follow`: a log read while it is written, across the JVM's own rotation.

The main test runs a real JVM writing a rotating log (`filecount=3,filesize=256k`, several
rotations, so files are overwritten while we follow) and checks that nothing is lost or read
twice: the bytes handed over per file equal the files still on disk, and the pauses counted
equal the JVM's own MXBean counts (which cover the files already overwritten too).
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gcscope.commands.analyze_follow import Follower, _Stop
from gcscope.ingest import read_events
from gcscope.ingest.follow import IncrementalIngest, LogTail

from .conftest import ROOT, SAMPLE_LOGS
from .corpus_logs import assert_counts_equal
from .java_support import compile_workload

G1_LOG = SAMPLE_LOGS / "jdk17" / "g1-gcstar.log"
PARALLEL_LOG = SAMPLE_LOGS / "jdk17" / "parallel-gcstar.log"
ROTATED = SAMPLE_LOGS / "jdk17" / "rotated"


def follow_args(**overrides) -> argparse.Namespace:
    values = {"max_unknown": 20, "events": None, "interval": 0.5, "duration": None,
              "rules_config": None, "json": False, "logs": []}
    values.update(overrides)
    return argparse.Namespace(**values)


def drain(tail: LogTail, ingest: IncrementalIngest, seen: list[list], final: bool = False) -> None:
    """One poll; the bytes of each file are kept in `seen` as [name, bytes]."""
    for piece in tail.poll(final=final):
        if piece.kind == "open":
            seen.append([piece.name, b""])
        elif piece.kind == "data":
            seen[-1][1] += piece.data
        else:
            seen[-1][0] = piece.name
            seen[-1][1] += piece.data
        ingest.apply(piece)


def pause_count(events) -> int:
    import polars as pl

    from gcscope import model

    return events.filter(pl.col(model.CATEGORY) == model.PAUSE).height


# --- the tail, with a writer in this process (deterministic) -----------------------------------


def test_a_line_written_in_two_parts_is_read_once_whole(tmp_path):
    text = G1_LOG.read_bytes()
    log = tmp_path / "gc.log"
    log.write_bytes(b"")
    tail, ingest, seen = LogTail(log), IncrementalIngest(str(log)), []
    cuts = sorted({0, len(text), *range(1, len(text), 7919)})
    with open(log, "ab", buffering=0) as out:
        for start, end in itertools.pairwise(cuts):  # cuts fall inside lines
            out.write(text[start:end])
            drain(tail, ingest, seen)
    drain(tail, ingest, seen, final=True)
    tail.close()
    assert [name for name, _ in seen] == [str(log)]
    assert seen[0][1] == text
    followed = ingest.result()
    whole = read_events([str(G1_LOG)])
    assert followed.parse.lines == whole.parse.lines == text.count(b"\n")
    assert followed.parse.unknown_lines == whole.parse.unknown_lines
    assert pause_count(followed.events) == pause_count(whole.events) > 0


def test_unterminated_last_line_is_handed_over_at_the_end_only(tmp_path):
    log = tmp_path / "gc.log"
    lines = G1_LOG.read_bytes().splitlines(keepends=True)[:50]
    log.write_bytes(b"".join(lines) + lines[50 - 1][:-1][:20])  # a partial 51st line
    tail, ingest, seen = LogTail(log), IncrementalIngest(str(log)), []
    drain(tail, ingest, seen)
    assert ingest.lines == 50
    drain(tail, ingest, seen, final=True)
    assert ingest.lines == 51
    assert ingest.files[0].report.truncated_last_line


def test_rotation_by_rename_several_between_polls(tmp_path):
    """gc.log renamed to gc.log.0, .1, .2, .0 … (filecount=3): some rotations happen between
    two polls; every line is read once, in the order written."""
    text = PARALLEL_LOG.read_bytes()
    lines = text.splitlines(keepends=True)
    parts = [b"".join(lines[i:i + 40]) for i in range(0, len(lines), 40)]
    assert len(parts) >= 8
    log = tmp_path / "gc.log"
    tail, ingest, seen = LogTail(log), IncrementalIngest(str(log)), []
    drain(tail, ingest, seen)  # nothing there yet
    assert seen == []
    for index, part in enumerate(parts):
        log.write_bytes(part)
        if index < len(parts) - 1:
            os.replace(log, tmp_path / f"gc.log.{index % 3}")
        if index % 3 != 1:  # two rotations between some polls
            drain(tail, ingest, seen)
    drain(tail, ingest, seen, final=True)
    tail.close()
    assert b"".join(data for _, data in seen) == text
    assert len(seen) == len(parts)
    assert seen[-1][0] == str(log)
    assert tail.rotations == len(parts) - 1
    assert ingest.lines == len(lines)
    whole = read_events([str(PARALLEL_LOG)])
    assert pause_count(ingest.result().events) == pause_count(whole.events) > 0


def test_truncated_in_place_is_read_again_from_the_start(tmp_path):
    """copytruncate: the same file, smaller than what was read: new text from 0."""
    lines = G1_LOG.read_bytes().splitlines(keepends=True)
    first, second = b"".join(lines[:300]), b"".join(lines[300:400])
    log = tmp_path / "gc.log"
    log.write_bytes(first)
    tail, ingest, seen = LogTail(log), IncrementalIngest(str(log)), []
    drain(tail, ingest, seen)
    with open(log, "r+b") as out:
        out.truncate(0)
        out.write(second)
    drain(tail, ingest, seen, final=True)
    assert tail.truncations == 1
    assert [data for _, data in seen] == [first, second]
    assert ingest.lines == 400


def test_rotated_files_already_there_are_history_not_read(tmp_path):
    for member in ROTATED.glob("g1.log*"):
        if not member.name.endswith(".json"):
            (tmp_path / member.name).write_bytes(member.read_bytes())
    log = tmp_path / "g1.log"
    tail, ingest, seen = LogTail(log), IncrementalIngest(str(log)), []
    drain(tail, ingest, seen, final=True)
    assert [name for name, _ in seen] == [str(log)]
    assert seen[0][1] == log.read_bytes()


# --- a real JVM writing a rotating log ------------------------------------------------------------


def test_follow_a_real_jvm_across_its_rotation(tmp_path):
    classes = compile_workload(ROOT / "build")
    log = tmp_path / "gc.log"
    out = io.StringIO()
    follower = Follower(log, follow_args(interval=1.0), out)
    seen: list[list] = []
    apply = follower.ingest.apply

    def record(piece) -> None:
        if piece.kind == "open":
            seen.append([piece.name, b""])
        elif piece.kind == "data":
            seen[-1][1] += piece.data
        else:
            seen[-1][0] = piece.name
            seen[-1][1] += piece.data
        apply(piece)

    follower.ingest.apply = record  # type: ignore[method-assign]
    # ~0.8 MB/s of gc*,safepoint with a 16 MB G1 heap: many rotations of 128 KB files, so the
    # JVM overwrites files while we follow. A busy machine writes less and analyses slower, so
    # the JVM runs until we have seen what is asserted below (its stop file), 90 s at most.
    stop_file = tmp_path / "stop"
    jvm = subprocess.Popen(
        ["java", "-Xmx16m", "-XX:+UseG1GC",
         f"-Xlog:gc*,safepoint:file={log}::filecount=3,filesize=128k",
         "-cp", str(classes), "GcWorkload", "--seconds", "90", "--stop-file", str(stop_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "JAVA_TOOL_OPTIONS": ""},
    )
    stop = _Stop()
    jvm_out: list[str] = []

    def wait_for_jvm() -> None:
        try:
            jvm_out.append(jvm.communicate(timeout=120)[0])
        finally:
            stop.requested = True  # the JVM closed its log: the last poll reads its end

    def stop_when_seen() -> None:
        while jvm.poll() is None and not stop_file.exists():
            if out.getvalue().count(" pauses (p99 ") >= 3 and follower.tail.rotations >= 4:
                stop_file.touch()
            time.sleep(0.2)

    waiter = threading.Thread(target=wait_for_jvm, daemon=True)
    waiter.start()
    threading.Thread(target=stop_when_seen, daemon=True).start()
    try:
        result, ingest = follower.run(stop)
    finally:
        if jvm.poll() is None:
            jvm.kill()
        waiter.join(10)
    beans_line = next(line for line in jvm_out[0].splitlines() if line.startswith("GCSCOPE-MXBEANS "))
    beans = {name: v["count"] for name, v in json.loads(beans_line.split(" ", 1)[1]).items()}

    # Several rotations, files overwritten while followed.
    assert follower.tail.rotations >= 4, follower.tail.rotations
    assert len(seen) == follower.tail.rotations + 1
    # What is still on disk (gc.log and the last three rotated files) is exactly what was read.
    on_disk = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("gc.log"))
    assert on_disk == ["gc.log", "gc.log.0", "gc.log.1", "gc.log.2"]
    assert seen[-1][0] == str(log)
    for name, data in seen[-4:]:
        assert data == Path(name).read_bytes(), name
    # Every followed line was counted once, per file.
    for (name, data), file in zip(seen, follower.ingest.files, strict=True):
        assert file.report.lines == data.count(b"\n"), name
    assert result.parse.lines == sum(data.count(b"\n") for _, data in seen)
    # The overwritten files too: the pauses equal the JVM's own count of the whole run.
    assert len(ingest.runs) == 1
    assert_counts_equal(ingest.events, beans)
    assert sum(beans.values()) > 100
    # Status lines while following, and the rules' alerts as they started.
    printed = out.getvalue()
    assert printed.count(" pauses (p99 ") >= 3
    assert "rotated: " in printed
    from gcscope.analysis.rules import RULES

    final_ids = {f["id"] for f in result.findings}
    started = {a["id"] for a in result.extra["follow"]["alerts"] if a["state"] == "started"}
    assert started <= set(RULES), started
    # A 16 MB heap under this load: the windowed rules (overhead, full GCs…) fire while the
    # JVM runs, as `check` finds them at the end (trend rules may come and go on the way).
    assert started & final_ids, (started, final_ids)
    for alert_id in started:
        assert f"ALERT {alert_id} " in printed


# --- the command --------------------------------------------------------------------------------


def gcscope(*argv: str) -> list[str]:
    return [sys.executable, "-m", "gcscope.cli", *argv]


def test_ctrl_c_prints_the_summary_and_exits_130(tmp_path):
    log = tmp_path / "gc.log"
    log.write_bytes(G1_LOG.read_bytes())
    process = subprocess.Popen(
        gcscope("analyze", "--follow", str(log), "--interval", "0.2"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait for the first status line
            line = process.stdout.readline()
            if " pauses (p99 " in line or not line:
                break
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "gcscope: interrupted" in err
    assert "Traceback" not in err
    whole = read_events([str(G1_LOG)])
    assert f"{whole.parse.lines:,} lines" in rest  # the final summary's coverage line
    assert "Pauses (ms)" in rest


def test_duration_ends_with_the_json_and_status_0(tmp_path):
    log = tmp_path / "gc.log"
    log.write_bytes(PARALLEL_LOG.read_bytes())
    completed = subprocess.run(
        gcscope("analyze", "--follow", str(log), "--duration", "1", "--interval", "0.3", "--json"),
        check=False, capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    doc = json.loads(completed.stdout)
    whole = read_events([str(PARALLEL_LOG)])
    assert doc["parse"]["lines"] == whole.parse.lines
    assert doc["runs"][0]["pauses"]["count"] == pause_count(whole.events)
    assert doc["follow"]["files"] == [str(log)]
    assert doc["follow"]["rotations"] == 0


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["--follow", "a.log", "b.log"], 2, "--follow reads exactly one LOG"),
        (["--follow", "-"], 2, "not '-'"),
        (["--follow", str(SAMPLE_LOGS)], 2, "a directory"),
        (["--follow", "/no/such/dir/gc.log"], 3, "no such directory"),
        ([str(G1_LOG), "--duration", "5s"], 2, "--duration applies to --follow only"),
        ([str(G1_LOG), "--interval", "2"], 2, "--interval applies to --follow only"),
        (["--follow", str(G1_LOG), "--interval", "0"], 2, "more than 0 seconds"),
    ],
)
def test_follow_usage_errors(argv, status, message, capsys):
    from gcscope.cli import main

    try:
        code = main(["analyze", *argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == status
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_readme_documents_every_analyze_option():
    """Each option of `gcscope analyze` (those of follow and jobs included) is in the README."""
    from gcscope.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    analyze = subparsers.choices["analyze"]
    options = [s for a in analyze._actions for s in a.option_strings if s.startswith("--") and s != "--help"]
    assert {"--follow", "--interval", "--duration", "--jobs"} <= set(options)
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## gcscope analyze"):readme.index("### JSON output")]
    for option in ("--follow", "--interval S", "--duration D", "--jobs N"):
        assert f"| `{option}` |" in table, option
    assert [o for o in options if f"`{o}" not in readme] == []
    section = readme[readme.index("## Robustness and large inputs"):]
    for status in ("130", "exits with 130", "`--duration D`"):
        assert status in section
