"""`gcscope analyze DIR --jobs N`: many JVMs' log sets analysed in parallel, one table row per run."""

from __future__ import annotations

import ctypes
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gcscope.analysis import analyze_ingested
from gcscope.cli import main
from gcscope.commands.analyze_many import log_sets
from gcscope.ingest import read_events

from .conftest import SAMPLE_LOGS

SINGLE = [
    SAMPLE_LOGS / "jdk17" / "g1-gcstar.log",
    SAMPLE_LOGS / "jdk17" / "parallel-gcstar.log",
    SAMPLE_LOGS / "jdk21" / "serial-gcstar.log",
    SAMPLE_LOGS / "jdk17" / "g1-gcstar-sysgc.log",
]
ROTATED = sorted(p for p in (SAMPLE_LOGS / "jdk17" / "rotated").glob("g1.log*") if not p.name.endswith(".json"))


@pytest.fixture(scope="module")
def many_dir(tmp_path_factory):
    """Four JVMs' logs, one rotated set of four files, a cut .gz and a binary file."""
    folder = tmp_path_factory.mktemp("many")
    for log in [*SINGLE, *ROTATED]:
        shutil.copyfile(log, folder / log.name)
    packed = gzip.compress(SINGLE[0].read_bytes())
    (folder / "cut.log.gz").write_bytes(packed[: len(packed) // 2])  # a copy that stopped halfway
    (folder / "core.log").write_bytes(bytes(range(256)) * 64)  # not text
    return folder


def run_json(capsys, *argv: str) -> tuple[int, dict, str]:
    status = main(["analyze", "--json", *argv])
    captured = capsys.readouterr()
    return status, json.loads(captured.out), captured.err


def test_rotated_files_are_one_set():
    sets = log_sets([str(SAMPLE_LOGS / "jdk17" / "rotated")])
    assert len(sets) == 1
    assert sorted(next(iter(sets.values()))) == sorted(str(p) for p in ROTATED)


def test_each_set_is_analysed_as_on_its_own_and_failures_are_reported(many_dir, capsys):
    status, doc, err = run_json(capsys, str(many_dir), "--jobs", "2")
    assert status == 0
    sets = {entry["set"]: entry for entry in doc["sets"]}
    assert len(sets) == len(SINGLE) + 1 + 2
    failed = {name for name, entry in sets.items() if entry["status"] == "failed"}
    assert {f for name in failed for f in sets[name]["files"]} == {
        str(many_dir / "cut.log.gz"), str(many_dir / "core.log")}
    for name in failed:
        assert sets[name]["exit_status"] == 3
        assert sets[name]["error"].startswith(sets[name]["files"][0])
        assert f"gcscope: not analysed: {sets[name]['error']}" in err
    assert "Traceback" not in err
    rotated = sets[str(many_dir / "g1.log")]
    assert sorted(rotated["files"]) == sorted(str(many_dir / p.name) for p in ROTATED)
    runs = {run["run_id"]: run for run in doc["runs"]}
    assert sorted(runs) == list(range(len(doc["runs"])))  # renumbered, no clash
    for log in [*SINGLE, ROTATED[0]]:
        paths = sets[str(many_dir / log.name)]["files"]
        alone = analyze_ingested(read_events(paths))
        got = [runs[i] for i in sets[str(many_dir / log.name)]["run_ids"]]
        assert len(got) == len(alone.runs) >= 1
        for mine, expected in zip(got, alone.runs, strict=True):
            assert mine["collector"] == expected.collector
            assert mine["pauses"]["count"] == expected.pauses.count > 0
            assert mine["pauses"]["p99_ms"] == pytest.approx(expected.pauses.p99_ms)
            assert mine["full_gc"]["count"] == expected.full_gc.count
    assert doc["parse"]["lines"] == sum(
        read_events(sets[name]["files"]).parse.lines for name in sets if name not in failed
    )


def test_one_job_and_two_jobs_agree(many_dir, capsys):
    _, one, _ = run_json(capsys, str(many_dir), "--jobs", "1")
    _, two, _ = run_json(capsys, str(many_dir), "--jobs", "2")
    # The same figures (floating-point sums may differ in the last digit with the threads)
    assert rounded(one) == rounded(two)
    assert len(one["runs"]) == len(SINGLE) + 1


def rounded(value):
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


def test_table_has_one_row_per_run_and_lists_failures(many_dir, capsys):
    assert main(["analyze", str(many_dir), "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert f"{len(SINGLE) + 3} log sets, {len(SINGLE) + 1} runs, 2 not analysed" in out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) == len(SINGLE) + 1
    assert any(line.startswith("│ g1.log (4 files) ") for line in rows)
    assert any("Parallel" in line for line in rows)
    assert f"not analysed: {many_dir / 'core.log'}: binary file" in out


def test_nothing_readable_exits_3_with_one_message(tmp_path, capsys):
    (tmp_path / "a.log").write_bytes(b"\x00\x01" * 4096)
    (tmp_path / "b.log").write_bytes(b"")
    assert main(["analyze", str(tmp_path), "--jobs", "2"]) == 3
    err = capsys.readouterr().err
    assert "no log set could be analysed (2 failed" in err
    assert "Traceback" not in err


def test_strict_counts_unknown_lines_of_every_set(tmp_path, capsys):
    for log in SINGLE[:2]:
        shutil.copyfile(log, tmp_path / log.name)
    with open(tmp_path / SINGLE[1].name, "a") as out:
        out.write("[9.999s][info][gc] something no grammar knows\n")
    assert main(["analyze", str(tmp_path), "--jobs", "2", "--strict"]) == 1
    assert "--strict: 1 line(s) not recognised" in capsys.readouterr().err


def test_jobs_must_be_positive(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(SINGLE[0]), "--jobs", "0"])
    assert exc.value.code == 2
    assert "expected 1 or more" in capsys.readouterr().err


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces): state is [0]."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _alive(pid: int) -> bool:
    try:
        state = _stat_fields(pid)[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _cpu_ticks(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12])  # utime + stime


def _wait_until_idle(pids: list[int]) -> None:
    """Until none of `pids` has used CPU for 0.5 s (bounded: 60 s)."""
    before = [_cpu_ticks(pid) for pid in pids]
    for _ in range(120):
        time.sleep(0.5)
        now = [_cpu_ticks(pid) for pid in pids]
        if now == before:
            return
        before = now
    raise AssertionError("the workers never went idle")


def _blocks_sigint(task: Path) -> bool:
    """Whether a thread blocks SIGINT (the kernel never hands it such a thread)."""
    for line in (task / "status").read_text().splitlines():
        if line.startswith("SigBlk:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return False


def _interrupt(pid: int, receiver: str) -> None:
    """SIGINT to the process (the kernel picks a thread), or to one of its threads other than
    the main one: what the kernel may pick, made certain (glibc's tgkill(2))."""
    if receiver == "process":
        os.kill(pid, signal.SIGINT)
        return
    others = [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()
              if int(task.name) != pid and not _blocks_sigint(task)]
    assert others, "the main process runs no other thread that could receive the signal"
    assert ctypes.CDLL(None, use_errno=True).tgkill(pid, others[0], signal.SIGINT) == 0


@pytest.mark.parametrize("receiver", ["process", "other thread"])
def test_interrupt_of_the_main_process_alone_stops_the_workers(tmp_path, receiver):
    """SIGINT to gcscope only (not its process group, as `kill -INT PID` does): exit 130 with
    the workers stopped, even one blocked on an input that never ends (a FIFO nobody writes),
    and whichever of its threads the signal lands on."""
    stuck = tmp_path / "stuck.log"
    os.mkfifo(stuck)
    for log in SINGLE[:2]:
        shutil.copyfile(log, tmp_path / log.name)
    process = subprocess.Popen(
        [sys.executable, "-m", "gcscope.cli", "analyze", str(stuck),
         *(str(tmp_path / log.name) for log in SINGLE[:2]), "--jobs", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    workers: list[int] = []
    try:
        for _ in range(600):  # wait for the workers (bounded: 60 s)
            workers = [c for c in _children(process.pid) if "spawn_main" in
                       Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")]
            if len(workers) == 2 or process.poll() is not None:
                break
            time.sleep(0.1)
        assert len(workers) == 2, "the workers never started"
        # Until the other sets are done and the main process has nothing left to wake it
        # but the signal: one worker blocks on the FIFO for ever, the other idles.
        _wait_until_idle(workers)
        _interrupt(process.pid, receiver)
        status = process.wait(timeout=60)
        err = process.stderr.read()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert status == 130, err
    assert "gcscope: interrupted" in err
    for _ in range(100):
        if not any(_alive(pid) for pid in workers):
            break
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
