"""Records become events window by window as a log is read (gcscope/ingest/assemble.py): the
events and runs must not depend on where the windows fall. Each log is read once whole (one
window) and once in chunks small enough to give many windows; the results must be equal."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from gcscope.ingest import assemble, read_events, sources

from .conftest import SAMPLE_LOGS

SMALL_CHUNK_BYTES = 64 * 1024
# Logs of at least this size give several windows at SMALL_CHUNK_BYTES.
MIN_BYTES = (assemble.FLUSH_EVERY_CHUNKS + 1) * SMALL_CHUNK_BYTES

SAMPLES = [
    "jdk11/zgc-gcstar.log", "jdk17/shenandoah-gcstar.log", "jdk21/zgc-generational-gcstar.log",
    "jdk25/shenandoah-generational-gcstar-leak.log", "jdk25/zgc-gcstar.log",
    "leak/g1-steady.log", "leak/parallel-oom.log", "leak/serial-oom.log",
]
CORPUS_LOGS = [
    "gctoolkit-testdata/gctoolkit-gclogs-rolling/rolling/jdk14/rollinglogs/long_restart.log",  # restarts
    "gctoolkit-testdata/gctoolkit-gclogs-rolling/rolling/jdk14/rollinglogs/zip/rollover.zip",  # a rotated set
    "jvm-gc-logs-analyzer/safepoint-analyzer-commons/src/test/resources/shenandoah.log.gz",  # triggers
    "gctoolkit-testdata/gctoolkit-gclogs/unified/cms/gc.log",
]


def _read(path: Path, chunk_bytes: int, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sources, "CHUNK_BYTES", chunk_bytes)
    windows = []
    original = assemble.SetAssembler._assemble
    monkeypatch.setattr(assemble.SetAssembler, "_assemble",
                        lambda self, window: (windows.append(len(window)), original(self, window))[1])
    return read_events([str(path)]), len(windows)


def _assert_same(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert path.stat().st_size >= MIN_BYTES, f"{path} is too small to give several windows"
    whole, whole_windows = _read(path, 1 << 30, monkeypatch)
    windowed, windows = _read(path, SMALL_CHUNK_BYTES, monkeypatch)
    assert windows > whole_windows, (whole_windows, windows)
    assert whole.events.height > 0
    assert_frame_equal(whole.events, windowed.events)
    assert whole.runs == windowed.runs
    assert whole.parse.lines == windowed.parse.lines
    assert whole.parse.unknown_lines == windowed.parse.unknown_lines


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_log_gives_the_same_events_in_many_windows(name: str, monkeypatch: pytest.MonkeyPatch):
    _assert_same(SAMPLE_LOGS / name, monkeypatch)


@pytest.mark.parametrize("name", CORPUS_LOGS)
def test_corpus_log_gives_the_same_events_in_many_windows(name: str, corpus: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    _assert_same(corpus / name, monkeypatch)


def test_a_safepoint_begin_line_names_its_safepoint_across_a_window_cut(monkeypatch: pytest.MonkeyPatch):
    """JDK 11 names a safepoint on its begin line: the begin line before a cut is copied into
    the next window. Small chunks put cuts between begin and end lines."""
    path = SAMPLE_LOGS / "jdk11/g1-gcstar-safepoint.log"
    whole, _ = _read(path, 1 << 30, monkeypatch)
    windowed, windows = _read(path, 4096, monkeypatch)
    assert windows > 5
    safepoints = whole.events.filter(whole.events["category"] == "safepoint")
    assert safepoints.height and safepoints["name"].null_count() == 0
    assert_frame_equal(whole.events, windowed.events)


def test_a_file_that_breaks_part_way_keeps_what_was_read_and_says_so(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch):
    """Records go to assembly chunk by chunk, so a compressed file that turns out corrupt after
    some chunks keeps their events; the message says the file broke and that they are kept."""
    import gzip

    log = SAMPLE_LOGS / "jdk17/g1-gcstar.log"
    packed = gzip.compress(log.read_bytes())
    broken = tmp_path / "gc.log.gz"
    broken.write_bytes(packed[: len(packed) // 2])
    other = tmp_path / "other" / "gc.log"
    other.parent.mkdir()
    other.write_bytes(log.read_bytes())
    monkeypatch.setattr(sources, "CHUNK_BYTES", 4096)
    alone = read_events([str(other)])
    both = read_events([str(broken), str(other)])
    assert len(both.parse.skipped) == 1
    assert str(broken) in both.parse.skipped[0] and "corrupt or truncated compressed data" in both.parse.skipped[0]
    assert "kept" in both.parse.skipped[0]
    kept = both.events.filter(both.events["source_file"] == str(broken))
    assert 0 < kept.height < alone.events.height
