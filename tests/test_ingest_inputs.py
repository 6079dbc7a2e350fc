"""Ingestion of awkward inputs: unknown-line explanations, restarts inside a rotated set,
binary detection, truncated and CRLF files, zip archives of several logs, `*.current` files.

Every log here is a real JVM's (sample_logs/, ../shared/corpus/), altered where the case needs.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from gcscope.errors import ExitStatus
from gcscope.ingest import read_events
from gcscope.rotation import may_be_log

from .conftest import SAMPLE_LOGS

JDK17 = SAMPLE_LOGS / "jdk17"
G1_GCSTAR = JDK17 / "g1-gcstar.log"


def _altered(tmp_path: Path, source: Path, find: str, change) -> tuple[Path, int]:
    """`source` copied with the first line containing `find` changed; (path, its line number)."""
    lines = source.read_bytes().decode().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if find in line)
    lines[index] = change(lines[index])
    path = tmp_path / source.name
    path.write_text("".join(lines))
    return path, index + 1


def test_unknown_line_is_explained_with_its_files_grammars_and_tags(tmp_path):
    # A G1 remark line with text after its duration: every grammar's rules would name CMS's
    # pause rule as nearest; the file is G1, so the nearest rule must be G1's own.
    path, number = _altered(tmp_path, G1_GCSTAR, "Pause Remark 3", lambda l: l.rstrip("\n") + " x\n")
    result = read_events([path])
    [item] = result.parse.unknown_examples
    assert item.line == number
    assert "nearest is g1_pause (grammars/g1.grammar:" in item.explanation, item.explanation
    assert "cms" not in item.explanation


def test_unknown_start_up_line_is_explained_by_the_common_rule(tmp_path):
    # "Heap Region Size: 1M x": ZGC's statistics table came nearest among every grammar's rules
    path, _ = _altered(tmp_path, G1_GCSTAR, "Heap Region Size:", lambda l: l.rstrip("\n") + " x\n")
    [item] = read_events([path]).parse.unknown_examples
    assert "nearest is heap_region_size " in item.explanation, item.explanation


# --- binary input ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [300, 5000, 100_000])
def test_random_bytes_without_nul_are_a_binary_file(tmp_path, capsys, size):
    from gcscope.cli import main

    data = random.Random(size).randbytes(size).replace(b"\x00", b"\x01")
    path = tmp_path / "core.log"
    path.write_bytes(data)
    assert main(["analyze", "--json", str(path)]) == ExitStatus.INPUT_UNREADABLE
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"gcscope: error: {path}: binary file: not a text GC log\n"


def test_no_real_log_is_taken_for_binary(corpus):
    """Every sample log and corpus file (archives' members decompressed) passes the check."""
    from gcscope.ingest import DETECT_BYTES, _check_text
    from gcscope.ingest.sources import read_chunks, resolve

    # the files a directory walk reads as logs (a .py beside the logs is compiled to
    # __pycache__/*.pyc when a test imports it and bytecode is written)
    paths = [p for root in (SAMPLE_LOGS, corpus) for p in sorted(root.rglob("*"))
             if p.is_file() and may_be_log(p.name)]
    checked = 0
    for path in paths:
        for source in resolve([str(path)]):
            head = next(read_chunks(source, DETECT_BYTES), b"")
            if head.strip():
                _check_text(head[:DETECT_BYTES], source.name)  # raises on a false "binary"
                checked += 1
    assert checked > 200


# --- a restart inside a rotated set -------------------------------------------------------------

RESTART_SET = "gctoolkit-testdata/gctoolkit-gclogs-rolling/rolling/jdk14/rollinglogs/short_restart_2.log"


def test_restart_inside_a_rotated_set_makes_no_empty_run(corpus):
    files = sorted(str(p) for p in corpus.glob(RESTART_SET + "*"))
    assert len(files) == 3
    result = read_events(files)
    # short_restart_2.log is one JVM (0.008-50.4 s); .log.3 a second one from 0.020 s that
    # .log.0 continues (424-464 s)
    spans = [(run["start_uptime_s"], run["end_uptime_s"]) for run in result.runs]
    assert len(result.runs) == 2, spans
    assert all(run["collector"] == "G1" for run in result.runs)
    assert spans[1][0] == 0.02 and spans[1][1] > 460, spans
    assert sorted(result.events["run_id"].unique().to_list()) == [r["run_id"] for r in result.runs]


# --- archives of several logs; `*.current` ------------------------------------------------------


def test_zip_of_independent_logs_gives_one_run_each(tmp_path):
    import zipfile

    import polars as pl

    from gcscope import model

    logs = {"service-a/gc.log": G1_GCSTAR, "service-b/gc.log": JDK17 / "parallel-gcstar.log"}
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for member, log in logs.items():
            z.write(log, member)
    result = read_events([archive])
    assert [run["files"] for run in result.runs] == [[f"{archive}!{m}"] for m in logs]
    assert [run["collector"] for run in result.runs] == ["G1", "Parallel"]
    assert [f.file for f in result.parse.files] == [f"{archive}!{m}" for m in logs]
    for run, log in zip(result.runs, logs.values()):
        alone = read_events([log])
        assert (run["start_uptime_s"], run["end_uptime_s"]) == (
            alone.runs[0]["start_uptime_s"], alone.runs[0]["end_uptime_s"])
        mine = result.events.filter(pl.col(model.RUN_ID) == run["run_id"])
        assert mine.drop(model.SOURCE_FILE, model.RUN_ID).equals(
            alone.events.drop(model.SOURCE_FILE, model.RUN_ID), null_equal=True)
        assert mine.get_column(model.SOURCE_FILE).unique().to_list() == run["files"]


def test_current_file_belongs_to_its_rotated_set_ordered_by_uptime(tmp_path):
    import shutil

    import polars as pl

    from gcscope import model

    rotated = JDK17 / "rotated"
    names = {"g1.log": "gc.log.current", "g1.log.0": "gc.log.0", "g1.log.1": "gc.log.1",
             "g1.log.2": "gc.log.2"}
    copy = tmp_path / "logs"
    copy.mkdir()
    for old, new in names.items():
        shutil.copy(rotated / old, copy / new)
    direct = read_events([rotated])
    for inputs in ([copy], sorted(copy.iterdir(), reverse=True)):
        result = read_events([str(p) for p in inputs])
        assert len(result.runs) == 1, [run["files"] for run in result.runs]
        # the order of the uptime inside (22.5 s, 28.1 s, 33.4 s, 38.3 s), the live file last
        order = [Path(f).name for f in result.runs[0]["files"]]
        assert order == ["gc.log.1", "gc.log.2", "gc.log.0", "gc.log.current"]
        assert [names[Path(f).name] for f in direct.runs[0]["files"]] == order
        assert result.events.get_column(model.UPTIME_S).is_sorted()
        assert result.events.drop(model.SOURCE_FILE).equals(direct.events.drop(model.SOURCE_FILE))
        assert result.events.filter(pl.col(model.SOURCE_FILE).cast(pl.String).str.ends_with("gc.log.current")).height


def test_compiled_python_beside_logs_is_not_read_as_a_log(tmp_path):
    """A script kept with its logs (sample_logs/leak/record.py) leaves __pycache__/*.pyc behind
    once imported: a directory's walk must not take it for a (binary) log."""
    shutil.copy(SAMPLE_LOGS / "jdk17" / "g1-gc.log", tmp_path / "gc.log")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "record.cpython-311.pyc").write_bytes(b"\xa7\r\r\n\x00\x00\x00\x00" * 64)
    result = read_events([str(tmp_path)])
    assert [f.file for f in result.parse.files] == [str(tmp_path / "gc.log")]
    assert result.parse.skipped == []
